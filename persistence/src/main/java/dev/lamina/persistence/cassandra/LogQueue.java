package dev.lamina.persistence.cassandra;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The log rows of a log store that wait to be written, and the order in which they go out.
 *
 * <p>Contract: every append becomes one row, or several when it is larger than {@code maxRowBytes}
 * (cut after a newline where possible). Rows leave in append order, at most {@code maxInFlight} at
 * a time, each stamped from {@code stamps} at the moment it leaves, so stamps increase in append
 * order and a row is sent right after it is stamped. Text beyond {@code maxQueuedBytes} is refused
 * rather than queued. The {@code sender} is called outside the lock and must not block; for every
 * row it is given it must later call {@link #written} (success or not), which frees the slot.
 *
 * <p>Thread-safe; only {@link #awaitWritten} blocks.
 */
final class LogQueue {

  /** One row to write; {@code seq} numbers the rows in append order. */
  record Row(String function, String text, int bytes, long stamp, long seq) {}

  private record Piece(String function, String text, int bytes, long seq) {}

  private final int maxRowBytes;
  private final int maxInFlight;
  private final long maxQueuedBytes;
  private final LongSupplier stamps;
  private final Consumer<Row> sender;
  /** Rows handed out while a {@code send} loop runs further up this thread's stack. */
  private final ThreadLocal<ArrayDeque<Row>> sending = new ThreadLocal<>();

  // Guarded by this.
  private final ArrayDeque<Piece> queued = new ArrayDeque<>();
  private final TreeSet<Long> unwritten = new TreeSet<>();  // rows queued or in flight
  private long lastSeq;
  private int inFlight;
  private long queuedBytes;

  LogQueue(int maxRowBytes, int maxInFlight, long maxQueuedBytes, LongSupplier stamps, Consumer<Row> sender) {
    this.maxRowBytes = maxRowBytes;
    this.maxInFlight = maxInFlight;
    this.maxQueuedBytes = maxQueuedBytes;
    this.stamps = stamps;
    this.sender = sender;
  }

  /** Queues {@code text} for {@code function}; false when the queue is full and the text was dropped. */
  boolean offer(String function, String text) {
    if (text.isEmpty()) {
      return true;
    }
    List<String> pieces = split(text, maxRowBytes);
    int[] sizes = pieces.stream().mapToInt(LogQueue::utf8Length).toArray();
    long bytes = 0;
    for (int size : sizes) {
      bytes += size;
    }
    List<Row> start;
    synchronized (this) {
      if (queuedBytes + bytes > maxQueuedBytes) {
        return false;
      }
      queuedBytes += bytes;
      for (int i = 0; i < sizes.length; i++) {
        long seq = ++lastSeq;
        unwritten.add(seq);
        queued.addLast(new Piece(function, pieces.get(i), sizes[i], seq));
      }
      start = startable();
    }
    send(start);
    return true;
  }

  /** Called once for every row given to the sender, when its write has succeeded or failed. */
  void written(Row row) {
    List<Row> start;
    synchronized (this) {
      inFlight--;
      queuedBytes -= row.bytes();
      unwritten.remove(row.seq());
      start = startable();
      notifyAll();
    }
    send(start);
  }

  /** Waits until every append offered before this call is written (or failed); false on timeout. */
  synchronized boolean awaitWritten(Duration timeout) {
    long target = lastSeq;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!unwritten.isEmpty() && unwritten.first() <= target) {
      long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
      if (remainingMs <= 0) {
        return false;
      }
      try {
        wait(remainingMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /** The rows that may leave now, stamped in queue order and counted in flight. Caller holds the lock. */
  private List<Row> startable() {
    List<Row> start = new ArrayList<>(0);
    while (inFlight < maxInFlight && !queued.isEmpty()) {
      Piece piece = queued.pollFirst();
      inFlight++;
      start.add(new Row(piece.function(), piece.text(), piece.bytes(), stamps.getAsLong(), piece.seq()));
    }
    return start;
  }

  /**
   * Hands rows to the sender. A sender whose write completes at once calls {@link #written} on
   * this same thread, which would recurse once per queued row; such nested rows are left to the
   * outermost call's loop instead.
   */
  private void send(List<Row> rows) {
    if (rows.isEmpty()) {
      return;
    }
    ArrayDeque<Row> pending = sending.get();
    if (pending != null) {
      pending.addAll(rows);
      return;
    }
    pending = new ArrayDeque<>(rows);
    sending.set(pending);
    try {
      Row next;
      while ((next = pending.pollFirst()) != null) {
        sender.accept(next);
      }
    } finally {
      sending.remove();
    }
  }

  /**
   * {@code text} in pieces of at most {@code maxBytes} UTF-8 bytes (one piece when it fits), each
   * cut after its last newline where it has one, else after its last whole character.
   */
  static List<String> split(String text, int maxBytes) {
    List<String> pieces = new ArrayList<>(1);
    int start = 0;
    while (start < text.length()) {
      int bytes = 0;
      int afterNewline = -1;
      int i = start;
      while (i < text.length()) {
        int cp = text.codePointAt(i);
        int n = utf8Length(cp);
        if (bytes + n > maxBytes) {
          break;
        }
        bytes += n;
        i += Character.charCount(cp);
        if (cp == '\n') {
          afterNewline = i;
        }
      }
      int end;
      if (i == text.length()) {
        end = i;
      } else if (afterNewline > start) {
        end = afterNewline;
      } else {
        end = i > start ? i : start + Character.charCount(text.codePointAt(start));
      }
      pieces.add(text.substring(start, end));
      start = end;
    }
    return pieces;
  }

  /** UTF-8 length of {@code text}, as Java encodes it, without encoding it. */
  static int utf8Length(String text) {
    int bytes = 0;
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      bytes += utf8Length(cp);
      i += Character.charCount(cp);
    }
    return bytes;
  }

  private static int utf8Length(int codePoint) {
    if (codePoint < 0x80) {
      return 1;
    }
    if (codePoint < 0x800) {
      return 2;
    }
    if (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE) {
      return 1;  // an unpaired surrogate: Java's encoder writes '?'
    }
    return codePoint < 0x10000 ? 3 : 4;
  }
}
