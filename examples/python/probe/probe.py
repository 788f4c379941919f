"""Test-fixture handlers that exercise the platform's semantics (used by the integration tests).

Each handler shows one behaviour a Lambda user relies on: warm state, /tmp, timeouts, crashes,
handler errors, large responses, environment and context.
"""
import os
import sys
import time
import uuid

SANDBOX_ID = str(uuid.uuid4())   # fixed for the life of one execution environment
counter = 0


def warm(event, context):
    """Counts invocations in a global and in a /tmp file: both survive warm reuse."""
    global counter
    counter += 1
    path = "/tmp/probe-count"
    previous = open(path).read() if os.path.exists(path) else ""
    with open(path, "w") as f:
        f.write(previous + "x")
    return {"counter": counter, "tmp": len(previous) + 1, "sandbox": SANDBOX_ID}


def sleep(event, context):
    """Sleeps event['seconds'] and says which sandbox served it."""
    time.sleep(float(event.get("seconds", 1)))
    return {"sandbox": SANDBOX_ID, "pid": os.getpid()}


def fail(event, context):
    raise ValueError(event.get("message", "probe failure"))


def crash(event, context):
    print("about to crash", flush=True)
    os._exit(int(event.get("code", 3)))


def big(event, context):
    return "x" * int(event["bytes"])


def env(event, context):
    return {
        "environment": {k: v for k, v in os.environ.items()},
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "client_context_custom": getattr(context.client_context, "custom", None),
        },
        "cwd": os.getcwd(),
        "argv0": sys.argv[0],
    }


def exit_soon(event, context):
    """Answers, then the process exits on its own a moment later (an idle sandbox dies)."""
    import threading
    threading.Timer(float(event.get("after", 0.05)), lambda: os._exit(0)).start()
    return {"sandbox": SANDBOX_ID}


def echo(event, context):
    print("echo", event)
    return event


def misbehave(event, context):
    """Does what event['do'] says: 'throw', 'timeout' (sleeps past any timeout), 'exit' (the runtime dies) or answers."""
    action = event.get("do")
    if action == "throw":
        raise RuntimeError("asked to throw")
    if action == "timeout":
        time.sleep(3600)
    if action == "exit":
        os._exit(3)
    return {"sandbox": SANDBOX_ID}
