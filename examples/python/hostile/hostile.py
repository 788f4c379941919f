"""A hostile function, for the isolation acceptance tests (dev.lamina.node.isolation).

One handler, `hostile.handler`; event["do"] names the attempt. Each attempt tries to get out of
its sandbox or past one of its limits and reports what happened (an errno name such as "EPERM",
or what it obtained) instead of raising, so that a test can show both sides: what a function may
do, and that the same code fails on the other's data. Every attempt is bounded in count and time.
"""
import ctypes
import errno
import os
import platform
import socket
import stat
import sys
import threading
import time
import uuid

SANDBOX_ID = str(uuid.uuid4())   # fixed for the life of one execution environment
_held = []                       # the servers of listen_*, until they close


def handler(event, context):
    return ACTIONS[event["do"]](event)


def _errno_name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if getattr(e, "errno", None) else type(e).__name__


# ---------------------------------------------------------------- who and where am I


def whoami(event):
    processes = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                cmdline = "?"
            processes.append({"pid": int(name), "cmdline": cmdline})
    return {
        "sandbox": SANDBOX_ID,
        "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
        "pid": os.getpid(),
        "runtimeApi": os.environ.get("AWS_LAMBDA_RUNTIME_API"),
        "hostname": socket.gethostname(),
        "processes": processes,
    }


def plant(event):
    """The victim: keeps a secret in its /tmp and shows it can read its own code and /tmp."""
    with open("/tmp/secret.txt", "w") as f:
        f.write(event["secret"])
    me = whoami(event)
    me["tmpSecret"] = open("/tmp/secret.txt").read()
    me["codeSecret"] = open("/var/task/secret.txt").read()
    return me


def show(event):
    """The victim again: its /tmp secret is still there (the sandbox stayed alive meanwhile)."""
    me = whoami(event)
    me["tmpSecret"] = open("/tmp/secret.txt").read() if os.path.exists("/tmp/secret.txt") else None
    return me


# ---------------------------------------------------------------- files


def _read(path):
    try:
        if os.path.isdir(path):
            return {"ok": True, "list": sorted(os.listdir(path))[:200]}
        if not stat.S_ISREG(os.stat(path).st_mode):
            return {"ok": False, "error": "not a regular file"}  # a FIFO would block the read
        with open(path, "rb") as f:
            return {"ok": True, "content": f.read(65536).decode(errors="replace")}
    except OSError as e:
        return {"ok": False, "error": _errno_name(e)}


def read(event):
    """Reads the given paths and, with event['scan'], what every visible process's root shows of
    /var/task and /tmp."""
    results = {p: _read(p) for p in event.get("paths", [])}
    for name in (os.listdir("/proc") if event.get("scan") else []):
        if name.isdigit():
            for inside in ("var/task", "tmp"):
                root = f"/proc/{name}/root/{inside}"
                listing = _read(root)
                results[root] = listing
                for entry in listing.get("list", [])[:20]:
                    results[f"{root}/{entry}"] = _read(f"{root}/{entry}")
    return {"sandbox": SANDBOX_ID, "results": results}


def write(event):
    """Tries to write event['mb'] MiB (default 1) at each of event['paths']."""
    chunk = b"\x01" * (1 << 20)
    results = {}
    for path in event["paths"]:
        written = 0
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                for _ in range(int(event.get("mb", 1))):
                    written += os.write(fd, chunk)
            finally:
                os.close(fd)
            results[path] = {"ok": True, "writtenMb": written / (1 << 20)}
        except OSError as e:
            results[path] = {"ok": False, "error": _errno_name(e), "writtenMb": written / (1 << 20)}
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
    return results


def fill_tmp(event):
    """Writes up to event['mb'] MiB to one file in /tmp, 1 MiB at a time, then removes it."""
    path = "/tmp/fill"
    chunk = b"\x01" * (1 << 20)
    written, error = 0, None
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(int(event["mb"])):
            written += os.write(fd, chunk)  # a short write is followed by one that says why
    except OSError as e:
        error = _errno_name(e)
    finally:
        os.close(fd)
        os.unlink(path)
    return {"writtenMb": written / (1 << 20), "error": error}


# ---------------------------------------------------------------- network


def connect(event):
    """Connects to each host:port; where it connects and event['http'] is set, asks for the next invocation."""
    results = {}
    for target in event["targets"]:
        host, _, port = target.rpartition(":")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            s.connect((host, int(port)))
            result = {"connect": "ok"}
            if event.get("http"):
                try:
                    s.sendall(f"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
                    result["response"] = s.recv(4096).decode(errors="replace")
                except OSError as e:
                    result["response"] = _errno_name(e)
        except OSError as e:
            result = {"connect": _errno_name(e)}
        finally:
            s.close()
        results[target] = result
    return results


def _serve(server, payload, seconds):
    """Answers connections with payload for seconds, then closes the server (a port is never kept)."""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            server.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                conn, _ = server.accept()
                conn.sendall(payload)
                conn.close()
            except OSError:
                pass
    finally:
        server.close()
        _held.remove(server)


def listen_abstract(event):
    """Serves event['secret'] on an abstract Unix socket for event['seconds'] (default 60)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0" + event["name"])
    server.listen(8)
    _held.append(server)
    threading.Thread(target=_serve, args=(server, event["secret"].encode(), float(event.get("seconds", 60))),
                     daemon=True).start()
    return {"listening": event["name"]}


def connect_abstract(event):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect("\0" + event["name"])
        return {"connect": "ok", "received": s.recv(4096).decode(errors="replace")}
    except OSError as e:
        return {"connect": _errno_name(e)}
    finally:
        s.close()


def listen_tcp(event):
    """Listens on each of event['ports'] (0.0.0.0), serving event['secret'] for event['seconds']."""
    results = {}
    for port in event["ports"]:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            server.bind(("0.0.0.0", int(port)))
            server.listen(8)
            _held.append(server)
            threading.Thread(target=_serve, args=(server, event.get("secret", "").encode(),
                                                  float(event.get("seconds", 60))), daemon=True).start()
            results[str(port)] = "listening"
        except OSError as e:
            server.close()
            results[str(port)] = _errno_name(e)
    return results


# ---------------------------------------------------------------- limits


def fork(event):
    """Forks up to event['max'] children that sleep event['linger'] seconds; stops at the first refusal."""
    spawned, error = 0, None
    linger = float(event.get("linger", 60))
    for _ in range(int(event["max"])):
        try:
            pid = os.fork()
        except OSError as e:
            error = _errno_name(e)
            break
        if pid == 0:
            try:
                time.sleep(linger)
            finally:
                os._exit(0)
        spawned += 1
    return {"spawned": spawned, "error": error}


def allocate(event):
    """Allocates (and touches) event['mb'] MiB, 8 MiB at a time, printing its progress."""
    chunks = []
    for i in range(int(event["mb"]) // 8):
        chunks.append(b"\x01" * (8 << 20))
        if (i + 1) % 4 == 0:
            print(f"allocated {(i + 1) * 8} MiB", flush=True)
    return {"allocatedMb": len(chunks) * 8}


def cpu(event):
    """Spins for event['seconds'] of wall time; reports the CPU time it got."""
    wall0, cpu0 = time.monotonic(), time.process_time()
    end = wall0 + float(event.get("seconds", 1))
    while time.monotonic() < end:
        pass
    wall, used = time.monotonic() - wall0, time.process_time() - cpu0
    return {"wall": wall, "cpu": used, "share": used / wall}


# ---------------------------------------------------------------- system calls

_LIBC = ctypes.CDLL(None, use_errno=True)
_NR = {"x86_64": {"keyctl": 250, "unshare": 272, "io_uring_setup": 425},
       "aarch64": {"keyctl": 219, "unshare": 97, "io_uring_setup": 425}}.get(platform.machine(), {})


def _call(fn, *args):
    ctypes.set_errno(0)
    rc = fn(*args)
    return "ok" if rc >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))


def syscalls(event):
    """mount, umount, chroot, unshare, keyctl, io_uring: "ok" or the errno name. Never call it
    outside a sandbox: as root on a host it would mount and chroot for real."""
    out = {}
    os.makedirs("/tmp/mnt", exist_ok=True)
    out["mount"] = _call(_LIBC.mount, b"none", b"/tmp/mnt", b"tmpfs", ctypes.c_ulong(0), None)
    out["umount2"] = _call(_LIBC.umount2, b"/tmp", 0)
    out["chroot"] = _call(_LIBC.chroot, b"/tmp")
    out["unshare(CLONE_NEWUSER)"] = _call(_LIBC.syscall, _NR["unshare"], 0x10000000)
    out["keyctl"] = _call(_LIBC.syscall, _NR["keyctl"], 0, ctypes.c_long(-3), 0)   # KEYCTL_GET_KEYRING_ID, session
    params = ctypes.create_string_buffer(120)
    rc = _LIBC.syscall(_NR["io_uring_setup"], 1, params)
    out["io_uring_setup"] = "ok" if rc >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")
    if rc >= 0:
        os.close(rc)
    out.update(ptrace(event))
    return out


def ptrace(event):
    """PTRACE_ATTACH to an own child: any process may normally trace its own child; the sandbox's
    seccomp filter forbids ptrace altogether."""
    out = {}
    child = os.fork()
    if child == 0:
        try:
            time.sleep(10)
        finally:
            os._exit(0)
    try:
        out["ptrace(PTRACE_ATTACH, child)"] = _call(_LIBC.ptrace, ctypes.c_long(16), ctypes.c_long(child), None, None)
        if out["ptrace(PTRACE_ATTACH, child)"] == "ok":
            os.waitpid(child, 0)
            _LIBC.ptrace(ctypes.c_long(17), ctypes.c_long(child), None, None)  # PTRACE_DETACH
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)
    return out


ACTIONS = {
    "whoami": whoami, "plant": plant, "show": show, "read": read, "write": write, "fill_tmp": fill_tmp,
    "connect": connect, "listen_abstract": listen_abstract, "connect_abstract": connect_abstract,
    "listen_tcp": listen_tcp, "fork": fork, "allocate": allocate, "cpu": cpu, "syscalls": syscalls,
    "ptrace": ptrace,
}
