package dev.lamina.actors.function;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/** {@code X-Amz-Log-Result}: base64 of the last 4 KB of an invocation's log. */
public final class LogTail {

  private static final int LIMIT = 4096;

  private LogTail() {}

  public static String of(String log) {
    byte[] bytes = (log == null ? "" : log).getBytes(StandardCharsets.UTF_8);
    int from = Math.max(0, bytes.length - LIMIT);
    return Base64.getEncoder().encodeToString(Arrays.copyOfRange(bytes, from, bytes.length));
  }
}
