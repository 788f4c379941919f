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
   * Reads the function's log from {@code offset} (bytes; 0 = oldest kept) up to {@code maxBytes}.
   * A reader that keeps passing {@link Chunk#nextOffset()} follows the log.
   */
  Chunk read(String function, long offset, int maxBytes) throws IOException;

  /** Waits until every queued append is on disk. */
  void flush();

  @Override
  void close();

  /** A slice of a log. {@code nextOffset} is where the next read continues. */
  record Chunk(String text, long nextOffset) {}
}
