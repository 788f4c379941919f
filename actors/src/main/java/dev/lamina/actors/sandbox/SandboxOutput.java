package dev.lamina.actors.sandbox;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * What a sandbox's process wrote (stdout and stderr, appended to one file) and how much memory it
 * used. Each {@link #take()} returns what was written since the previous one, so every line is
 * attributed to exactly one invocation (or to init). Blocking (file and /proc reads): called from
 * Runtime API threads and the blocking executor, never from an actor; synchronized because both
 * may call it.
 */
final class SandboxOutput {

  /** The most one invocation's output may add to its log block. */
  private static final long MAX_PER_TAKE = 8L * 1024 * 1024;
  private static final long TRUNCATE_AT = 1024 * 1024;

  private final Path file;
  private long offset;
  private volatile LaunchedProcess process;

  SandboxOutput(Path file) {
    this.file = file;
  }

  void attach(LaunchedProcess process) {
    this.process = process;
  }

  /** Output since the last call, ending with a line break (empty when there was none). */
  synchronized String take() {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long length = raf.length();
      if (length <= offset) {
        return "";
      }
      long n = Math.min(length - offset, MAX_PER_TAKE);
      byte[] bytes = new byte[(int) n];
      raf.seek(offset);
      raf.readFully(bytes);
      offset = length;  // output beyond the per-invocation cap is dropped, not carried over
      if (offset > TRUNCATE_AT) {
        // The runtime appends (O_APPEND), so emptying the file is safe and keeps it from growing
        // for the sandbox's whole life; a line written between the read and now would be lost.
        try (RandomAccessFile w = new RandomAccessFile(file.toFile(), "rw")) {
          w.setLength(0);
        }
        offset = 0;
      }
      String text = new String(bytes, StandardCharsets.UTF_8);
      return text.endsWith("\n") ? text : text + "\n";
    } catch (IOException e) {
      return "";
    }
  }

  /** Peak memory of the runtime in MB, at most {@code capMb}; {@code capMb} when it has exited. */
  long peakMemoryMb(int capMb) {
    LaunchedProcess p = process;
    if (p == null || !p.isAlive()) {
      return capMb;
    }
    return Math.min(capMb, p.peakMemoryMb());
  }
}
