package dev.lamina.actors.sandbox.isolation;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The seccomp filter every sandbox runs under: a deny list of system calls a function never needs
 * (mounting, kernel modules and kexec, tracing other processes, keyrings, namespaces, BPF, perf,
 * io_uring, clock and host settings). A denied call fails with EPERM; system calls of another ABI
 * (32-bit, x32) are denied as a whole so they cannot go around the list. Written once as a raw
 * classic-BPF program that bubblewrap loads ({@code --seccomp FD}).
 */
public final class Seccomp {

  private Seccomp() {}

  private static final int AUDIT_ARCH_X86_64 = 0xC000003E;
  private static final int AUDIT_ARCH_AARCH64 = 0xC00000B7;
  private static final int X32_SYSCALL_BIT = 0x40000000;
  private static final int RET_ALLOW = 0x7FFF0000;
  private static final int RET_ERRNO_EPERM = 0x00050000 | 1;

  // classic BPF opcodes
  private static final short LD_W_ABS = 0x20;
  private static final short JEQ_K = 0x15;
  private static final short JGE_K = 0x35;
  private static final short RET_K = 0x06;

  /** The denied calls and their numbers on x86_64 and aarch64 (Linux's syscall tables). */
  private static final Map<String, int[]> DENIED = new LinkedHashMap<>();

  static {
    deny("mount", 165, 40);
    deny("umount2", 166, 39);
    deny("pivot_root", 155, 41);
    deny("chroot", 161, 51);
    deny("open_tree", 428, 428);
    deny("move_mount", 429, 429);
    deny("fsopen", 430, 430);
    deny("fsconfig", 431, 431);
    deny("fsmount", 432, 432);
    deny("fspick", 433, 433);
    deny("mount_setattr", 442, 442);
    deny("unshare", 272, 97);
    deny("setns", 308, 268);
    deny("ptrace", 101, 117);
    deny("process_vm_readv", 310, 270);
    deny("process_vm_writev", 311, 271);
    deny("kcmp", 312, 272);
    deny("init_module", 175, 105);
    deny("finit_module", 313, 273);
    deny("delete_module", 176, 106);
    deny("kexec_load", 246, 104);
    deny("kexec_file_load", 320, 294);
    deny("reboot", 169, 142);
    deny("swapon", 167, 224);
    deny("swapoff", 168, 225);
    deny("keyctl", 250, 219);
    deny("add_key", 248, 217);
    deny("request_key", 249, 218);
    deny("bpf", 321, 280);
    deny("perf_event_open", 298, 241);
    deny("userfaultfd", 323, 282);
    deny("io_uring_setup", 425, 425);
    deny("io_uring_enter", 426, 426);
    deny("io_uring_register", 427, 427);
    deny("open_by_handle_at", 304, 265);
    deny("name_to_handle_at", 303, 264);
    deny("lookup_dcookie", 212, 18);
    deny("quotactl", 179, 60);
    deny("acct", 163, 89);
    deny("syslog", 103, 116);
    deny("settimeofday", 164, 170);
    deny("clock_settime", 227, 112);
    deny("clock_adjtime", 305, 266);
    deny("adjtimex", 159, 171);
    deny("sethostname", 170, 161);
    deny("setdomainname", 171, 162);
    deny("vhangup", 153, 58);
    deny("iopl", 172, -1);
    deny("ioperm", 173, -1);
    deny("uselib", 134, -1);
    deny("_sysctl", 156, -1);
    deny("nfsservctl", 180, 42);
  }

  private static void deny(String name, int x8664, int aarch64) {
    DENIED.put(name, new int[] {x8664, aarch64});
  }

  /** The names of the denied calls, for /health and the docs. */
  public static java.util.Set<String> deniedCalls() {
    return DENIED.keySet();
  }

  /** Whether a filter exists for this machine's architecture. */
  public static boolean supported() {
    return archIndex() >= 0;
  }

  private static int archIndex() {
    return switch (System.getProperty("os.arch")) {
      case "amd64", "x86_64" -> 0;
      case "aarch64", "arm64" -> 1;
      default -> -1;
    };
  }

  /** The filter program for this architecture, as {@code struct sock_filter[]} in native order. */
  public static byte[] program() {
    int arch = archIndex();
    if (arch < 0) {
      throw new IllegalStateException("no seccomp filter for " + System.getProperty("os.arch"));
    }
    int[] numbers = DENIED.values().stream().mapToInt(n -> n[arch]).filter(n -> n >= 0).toArray();
    boolean x86 = arch == 0;
    int count = 4 + (x86 ? 1 : 0) + numbers.length + 2;
    ByteBuffer out = ByteBuffer.allocate(count * 8).order(ByteOrder.nativeOrder());
    // 0: A = seccomp_data.arch; another ABI than the native one is denied outright
    insn(out, LD_W_ABS, 0, 0, 4);
    insn(out, JEQ_K, 1, 0, x86 ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64);
    insn(out, RET_K, 0, 0, RET_ERRNO_EPERM);
    // 3: A = seccomp_data.nr
    insn(out, LD_W_ABS, 0, 0, 0);
    int remaining = numbers.length + (x86 ? 1 : 0);
    if (x86) {
      // x32 calls share the architecture but set this bit
      insn(out, JGE_K, remaining, 0, X32_SYSCALL_BIT);
      remaining--;
    }
    for (int nr : numbers) {
      insn(out, JEQ_K, remaining, 0, nr);  // jump over the rest and the ALLOW to the deny
      remaining--;
    }
    insn(out, RET_K, 0, 0, RET_ALLOW);
    insn(out, RET_K, 0, 0, RET_ERRNO_EPERM);
    return out.array();
  }

  private static void insn(ByteBuffer out, short code, int jt, int jf, int k) {
    if (jt > 255) {
      throw new IllegalStateException("seccomp deny list too long for one jump");
    }
    out.putShort(code).put((byte) jt).put((byte) jf).putInt(k);
  }

  /** Writes the program to {@code runDir/seccomp.bpf} (atomically; nodes on a host share it). */
  public static Path install(Path runDir) throws IOException {
    Files.createDirectories(runDir);
    Path file = runDir.resolve("seccomp.bpf");
    Path tmp = Files.createTempFile(runDir, "seccomp", ".tmp");
    Files.write(tmp, program());
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return file;
  }
}
