package dev.lamina.node.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.stream.Stream;

/** Looks at the host's processes, to prove sandboxes leave none behind. */
public final class Processes {

  private Processes() {}

  /**
   * How many live processes run the code with this CodeSha256 (base64) from this node's data
   * directory: their command line names the extracted code directory, or it is their cwd.
   */
  public static long runningCode(Path dataDir, String codeSha256Base64) {
    String hex = HexFormat.of().formatHex(java.util.Base64.getDecoder().decode(codeSha256Base64));
    Path codeDir = dataDir.resolve("code/extracted").resolve(hex).toAbsolutePath();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs.filter(p -> p.getFileName().toString().matches("\\d+"))
          .filter(p -> uses(p, codeDir))
          .count();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Waits (bounded) until no process runs that code; true when none is left. */
  public static boolean awaitNoneRunning(Path dataDir, String codeSha256Base64, java.time.Duration limit)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (runningCode(dataDir, codeSha256Base64) > 0) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  /** How many live processes mention {@code dataDir} in their command line or run inside it. */
  public static long runningUnder(Path dataDir) {
    Path root = dataDir.toAbsolutePath();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs.filter(p -> p.getFileName().toString().matches("\\d+"))
          .filter(p -> {
            try {
              String cmdline = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
              return cmdline.contains(root.toString()) || Files.readSymbolicLink(p.resolve("cwd")).startsWith(root);
            } catch (IOException | SecurityException e) {
              return false;
            }
          })
          .count();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * How many live processes have {@code needle} in their environment: a function's sandboxes,
   * found by a value of one of its environment variables, wherever their mount namespace puts them.
   */
  public static long withEnvironment(String needle) {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs.filter(p -> p.getFileName().toString().matches("\\d+"))
          .filter(p -> {
            try {
              return new String(Files.readAllBytes(p.resolve("environ"))).contains(needle);
            } catch (IOException | SecurityException e) {
              return false;  // ended while we looked, or not ours
            }
          })
          .count();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean uses(Path proc, Path codeDir) {
    try {
      String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline"))).replace('\0', ' ');
      if (cmdline.contains(codeDir.toString())) {
        return true;
      }
      return Files.readSymbolicLink(proc.resolve("cwd")).equals(codeDir);
    } catch (IOException | SecurityException e) {
      return false; // the process ended while we looked
    }
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
