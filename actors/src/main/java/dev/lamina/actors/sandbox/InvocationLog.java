package dev.lamina.actors.sandbox;

import dev.lamina.actors.registry.FunctionConfig;
import java.util.Locale;

/**
 * The text Lambda writes around a function's own output (contract §4), and the wording of
 * runtime exits. Pure functions: no state, no I/O.
 */
final class InvocationLog {

  private InvocationLog() {}

  /**
   * START / output / note / END / REPORT of one invocation.
   *
   * @param output what the runtime wrote, ending with a line break (or empty)
   * @param note a platform line after the output (timeout, crash), or null
   * @param initDurationMs the cold start's init time, or a negative value on a warm invocation
   */
  static String block(FunctionConfig config, String requestId, String output, String note, double durationMs,
      long maxMemoryMb, double initDurationMs) {
    StringBuilder log = new StringBuilder(256 + output.length());
    log.append("START RequestId: ").append(requestId).append(" Version: ").append(config.version()).append('\n');
    log.append(output);
    if (note != null) {
      log.append(note).append('\n');
    }
    log.append("END RequestId: ").append(requestId).append('\n');
    log.append("REPORT RequestId: ").append(requestId)
        .append(String.format(Locale.ROOT, "\tDuration: %.2f ms", durationMs))
        .append("\tBilled Duration: ").append((long) Math.ceil(durationMs)).append(" ms")
        .append("\tMemory Size: ").append(config.memorySizeMb()).append(" MB")
        .append("\tMax Memory Used: ").append(maxMemoryMb).append(" MB");
    if (initDurationMs >= 0) {
      log.append(String.format(Locale.ROOT, "\tInit Duration: %.2f ms", initDurationMs));
    }
    return log.append("\t\n").toString();
  }

  /**
   * How Lambda words a runtime's exit ({@code Runtime exited …}); a kill by the kernel's OOM killer
   * says that the function ran out of its memory.
   */
  static String exitMessage(int exitCode, boolean outOfMemory, int memoryMb) {
    if (outOfMemory) {
      return "Runtime exited with error: signal: killed (out of memory: the function used all of its "
          + memoryMb + " MB)";
    }
    if (exitCode == 0) {
      return "Runtime exited without providing a reason";
    }
    // Only 128 + n is visible through bubblewrap, and runtimes use such codes themselves (node
    // exits 129 on an uncaught exception): name the signals a runtime dies of, report the rest
    // as the exit status they are.
    String signal = switch (exitCode) {
      case 137 -> "killed";
      case 139 -> "segmentation fault (core dumped)";
      case 134 -> "aborted (core dumped)";
      case 143 -> "terminated";
      default -> null;
    };
    if (signal != null) {
      return "Runtime exited with error: signal: " + signal;
    }
    return "Runtime exited with error: exit status " + exitCode;
  }
}
