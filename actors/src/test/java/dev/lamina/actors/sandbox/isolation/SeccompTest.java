package dev.lamina.actors.sandbox.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * The filter program as the kernel runs it: a small classic-BPF interpreter (loads of
 * seccomp_data words, JEQ/JGE jumps, returns) decides system calls the way the kernel would.
 */
class SeccompTest {

  private static final int ALLOW = 0x7FFF0000;
  private static final int EPERM = 0x00050001;
  private static final int X86_64 = 0xC000003E;
  private static final int I386 = 0x40000003;

  @Test
  void deniesTheListedCallsWithEpermAndAllowsEverythingElse() {
    byte[] program = Seccomp.program();
    assertEquals(EPERM, run(program, X86_64, 165), "mount");
    assertEquals(EPERM, run(program, X86_64, 101), "ptrace");
    assertEquals(EPERM, run(program, X86_64, 250), "keyctl");
    assertEquals(EPERM, run(program, X86_64, 272), "unshare");
    assertEquals(EPERM, run(program, X86_64, 425), "io_uring_setup");
    assertEquals(EPERM, run(program, X86_64, 180), "nfsservctl, the last entry");
    for (int allowed : new int[] {0, 1, 2, 3, 9, 56, 57, 59, 60, 231, 435}) {  // read, write, open, mmap, clone, fork, execve, exit, clone3
      assertEquals(ALLOW, run(program, X86_64, allowed), "syscall " + allowed);
    }
  }

  @Test
  void anotherAbiCannotGoAroundTheList() {
    byte[] program = Seccomp.program();
    assertEquals(EPERM, run(program, I386, 21), "32-bit mount via int 0x80");
    assertEquals(EPERM, run(program, I386, 3), "any 32-bit call");
    assertEquals(EPERM, run(program, X86_64, 0x40000000 | 165), "x32 mount");
    assertEquals(EPERM, run(program, X86_64, 0x40000000), "x32 read");
  }

  @Test
  void everyDeniedCallIsDeniedAndTheProgramFitsTheKernelLimit() {
    byte[] program = Seccomp.program();
    assertTrue(program.length / 8 <= 4096, "BPF_MAXINSNS");
    assertTrue(Seccomp.deniedCalls().containsAll(java.util.List.of("mount", "ptrace", "kexec_load", "init_module",
        "keyctl", "bpf", "perf_event_open", "setns")));
  }

  /** Runs the program on seccomp_data {nr, arch}; returns the action. */
  private static int run(byte[] program, int arch, int nr) {
    ByteBuffer insns = ByteBuffer.wrap(program).order(ByteOrder.nativeOrder());
    int n = program.length / 8;
    int a = 0;
    int pc = 0;
    for (int steps = 0; steps < 10_000 && pc < n; steps++) {
      int base = pc * 8;
      int code = insns.getShort(base) & 0xFFFF;
      int jt = insns.get(base + 2) & 0xFF;
      int jf = insns.get(base + 3) & 0xFF;
      int k = insns.getInt(base + 4);
      switch (code) {
        case 0x20 -> {
          a = switch (k) {
            case 0 -> nr;
            case 4 -> arch;
            default -> throw new AssertionError("load of offset " + k);
          };
          pc++;
        }
        case 0x15 -> pc += 1 + (a == k ? jt : jf);
        case 0x35 -> pc += 1 + (Integer.compareUnsigned(a, k) >= 0 ? jt : jf);
        case 0x06 -> {
          return k;
        }
        default -> throw new AssertionError("unexpected opcode " + code);
      }
    }
    throw new AssertionError("program ran off its end");
  }
}
