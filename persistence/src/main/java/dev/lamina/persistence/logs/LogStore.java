package dev.lamina.persistence.logs;

import java.io.IOException;

/**
 * Per-function invocation logs: START / function output / END / REPORT blocks, in order.
 *
 * <p>{@link #append} never blocks the caller (it is called from sandbox actors); {@link #read}
 * blocks on I/O and belongs on a blocking dispatcher.
 */
public interface LogStore extends AutoCloseable {

  /** Queues {@code text} (one or more whole lines) for the function's log. */
  void append(String function, String text);

  /**
   * Reads the function's log from {@code offset} up to about {@code maxBytes}. Offsets are opaque
   * to callers (bytes of a file, a timestamp, depending on the store): pass 0 for the oldest text
   * kept, or a {@link Chunk#nextOffset()} of an earlier read to follow the log.
   */
  Chunk read(String function, long offset, int maxBytes) throws IOException;

  /** Waits until every queued append is written and can be read. */
  void flush();

  @Override
  void close();

  /** A slice of a log. {@code nextOffset} is where the next read continues. */
  record Chunk(String text, long nextOffset) {}
}
