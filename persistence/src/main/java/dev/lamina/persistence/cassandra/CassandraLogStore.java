package dev.lamina.persistence.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.lamina.persistence.logs.LogStore;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Function logs in Cassandra, shared by every node: one row per append in {@code logs}, partitioned
 * by function and UTC day, ordered by a microsecond timestamp, kept for {@code log-ttl}.
 *
 * <p>Writing: {@link #append} queues and returns at once; each append becomes one row (a larger
 * one than 64 KiB becomes several, cut at line ends). Rows are sent in append order, at most
 * {@code log-max-in-flight} at a time (see {@link LogQueue}), each stamped just before it is sent
 * with this store's clock in microseconds, made strictly increasing, so one node's rows of a
 * function keep their append order. A failed write is logged (rate-limited) and its text lost; it
 * is never thrown at the caller, and neither is a full queue ({@code log-max-queued-bytes}).
 *
 * <p>Reading: the offset is opaque to callers; it is a timestamp, "every row stamped before this
 * was handed out". Offset 0 starts at the oldest row kept. Rows are handed out in (timestamp, writer)
 * order: a function's rows from one node in append order, rows of several nodes interleaved by
 * their clocks. A read returns only rows at least {@code log-settle} old, so a row still being
 * written by another node when a follower passes is not skipped: a follower that keeps passing
 * {@code nextOffset} sees each row exactly once, provided every row becomes visible within
 * {@code log-settle} of its timestamp (write latency plus the clock difference between nodes). A
 * chunk ends before a row that would exceed {@code maxBytes}, and never between rows with the same
 * timestamp; it is larger than {@code maxBytes} only when its first row (at most 64 KiB) alone is.
 *
 * <p>{@link #flush} waits until the appends queued before it are written and old enough to be read.
 * The session belongs to {@link CassandraStorage}: close this store first.
 */
public final class CassandraLogStore implements LogStore {

  private static final Logger log = LoggerFactory.getLogger(CassandraLogStore.class);
  /** Keeps a write within one native-protocol v5 frame (128 KiB) and read pages small. */
  static final int MAX_ROW_BYTES = 64 * 1024;
  private static final long MICROS_PER_DAY = 86_400_000_000L;
  private static final int MAX_TTL_SECONDS = 630_720_000;  // Cassandra's limit: 20 years
  private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(30);
  private static final long WARN_EVERY_NANOS = Duration.ofSeconds(10).toNanos();

  private final CqlSession session;
  private final Clock clock;
  private final long settleMicros;
  private final int ttlSeconds;
  private final int dayTtlSeconds;
  private final long writer = UUID.randomUUID().getMostSignificantBits();
  private final PreparedStatement insertRow;
  private final PreparedStatement insertDay;
  private final PreparedStatement nextDay;
  private final PreparedStatement selectRows;
  private final LogQueue queue;
  /** The day each function was last recorded in {@code log_days} by this store. */
  private final ConcurrentMap<String, Integer> indexedDay = new ConcurrentHashMap<>();
  private final AtomicLong lastStamp = new AtomicLong();
  private final AtomicLong failedWrites = new AtomicLong();
  private final AtomicLong droppedAppends = new AtomicLong();
  private final AtomicLong lastWarnNanos = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);
  private volatile boolean closed;

  public CassandraLogStore(CassandraStorage storage) {
    this(storage, Clock.systemUTC());
  }

  /** Prepares its statements (blocking; at start-up) on a storage whose schema exists. */
  public CassandraLogStore(CassandraStorage storage, Clock clock) {
    CassandraSettings settings = storage.settings();
    this.session = storage.session();
    this.clock = clock;
    this.settleMicros = settings.logSettle().toNanos() / 1000;
    this.ttlSeconds = settings.logTtlSeconds();
    this.dayTtlSeconds = (int) Math.min(MAX_TTL_SECONDS, ttlSeconds + 86_400L);
    String logs = storage.table(CassandraSchema.LOGS);
    String days = storage.table(CassandraSchema.LOG_DAYS);
    this.insertRow = session.prepare("INSERT INTO " + logs
        + " (function, day, at_us, writer, lines) VALUES (?, ?, ?, ?, ?) USING TTL ?");
    this.insertDay = session.prepare("INSERT INTO " + days + " (function, day) VALUES (?, ?) USING TTL ?");
    this.nextDay = session.prepare("SELECT day FROM " + days + " WHERE function = ? AND day >= ? AND day <= ? LIMIT 1");
    this.selectRows = session.prepare("SELECT at_us, lines FROM " + logs
        + " WHERE function = ? AND day = ? AND at_us >= ? AND at_us < ?");
    this.queue = new LogQueue(MAX_ROW_BYTES, settings.logMaxInFlight(), settings.logMaxQueuedBytes(),
        this::nextStamp, this::send);
  }

  @Override
  public void append(String function, String text) {
    if (closed) {
      throw new IllegalStateException("the log store is closed");
    }
    if (!queue.offer(function, text)) {
      droppedAppends.incrementAndGet();
      warn(function, "the log write queue is full (lamina.cassandra.log-max-queued-bytes)");
    }
  }

  @Override
  public Chunk read(String function, long offset, int maxBytes) throws IOException {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
    }
    long horizon = nowMicros() - settleMicros;
    long from = Math.max(0, offset);
    if (from >= horizon) {
      return new Chunk("", offset);
    }
    StringBuilder text = new StringBuilder();
    int bytes = 0;
    long groupStamp = Long.MIN_VALUE;
    int groupStartChars = 0;
    int groupStartBytes = 0;
    int lastDay = day(horizon - 1);
    int pageSize = Math.max(16, Math.min(500, maxBytes / 4096));
    try {
      int day = day(from);
      while (day <= lastDay) {
        Row next = session.execute(nextDay.bind(function, day, lastDay)).one();  // skips days without rows
        if (next == null) {
          break;
        }
        day = next.getInt(0);
        long lo = Math.max(from, day * MICROS_PER_DAY);
        long hi = Math.min(horizon, (day + 1) * MICROS_PER_DAY);
        for (Row row : session.execute(selectRows.bind(function, day, lo, hi).setPageSize(pageSize))) {
          long stamp = row.getLong(0);
          String lines = row.getString(1) == null ? "" : row.getString(1);
          int n = LogQueue.utf8Length(lines);
          if (stamp != groupStamp) {
            groupStamp = stamp;
            groupStartChars = text.length();
            groupStartBytes = bytes;
          }
          if (bytes + n > maxBytes && groupStartBytes > 0) {
            text.setLength(groupStartChars);  // rows sharing a stamp go out together: the offset cannot split them
            return new Chunk(text.toString(), groupStamp);
          }
          text.append(lines);
          bytes += n;
        }
        day++;
      }
    } catch (DriverException e) {
      throw new IOException("could not read the log of " + function + " from Cassandra: " + e.getMessage(), e);
    }
    return new Chunk(text.toString(), horizon);
  }

  @Override
  public void flush() {
    if (!queue.awaitWritten(FLUSH_TIMEOUT)) {
      log.warn("log flush did not complete within {} s", FLUSH_TIMEOUT.toSeconds());
      return;
    }
    long waitMicros = lastStamp.get() + settleMicros - nowMicros();
    if (waitMicros > 0) {
      try {
        Thread.sleep(Math.min(waitMicros, settleMicros) / 1000 + 1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Stops taking appends and flushes. The session stays open (it belongs to the storage). */
  @Override
  public void close() {
    closed = true;
    flush();
  }

  /** The current time in microseconds, or one more than the last stamp if the clock has not moved past it. */
  private long nextStamp() {
    return lastStamp.updateAndGet(previous -> Math.max(previous + 1, nowMicros()));
  }

  /** Sends one row; never throws and never blocks (called on appending and driver threads). */
  private void send(LogQueue.Row row) {
    String function = row.function();
    int day = day(row.stamp());
    CompletionStage<?> written;
    try {
      written = session.executeAsync(insertRow.bind(function, day, row.stamp(), writer, row.text(), ttlSeconds)
          .setIdempotent(true));
      Integer indexed = indexedDay.get(function);
      if (indexed == null || indexed != day) {
        // Sent alongside the row: a reader needs it only once the row is old enough to read.
        CompletionStage<?> dayRow = session.executeAsync(insertDay.bind(function, day, dayTtlSeconds)
            .setIdempotent(true)).thenRun(() -> indexedDay.put(function, day));
        written = written.thenCombine(dayRow, (a, b) -> null);
      }
    } catch (RuntimeException e) {
      written = CompletableFuture.failedFuture(e);
    }
    written.whenComplete((ignored, failure) -> {
      if (failure != null) {
        failedWrites.incrementAndGet();
        warn(function, failure.getCause() != null ? failure.getCause().toString() : failure.toString());
      }
      queue.written(row);
    });
  }

  /** One warning per 10 s at most: a Cassandra outage must not flood the node's own log. */
  private void warn(String function, String problem) {
    long now = System.nanoTime();
    long last = lastWarnNanos.get();
    if (now - last >= WARN_EVERY_NANOS && lastWarnNanos.compareAndSet(last, now)) {
      log.warn("log text of {} lost: {} ({} failed writes, {} dropped appends since start)", function, problem,
          failedWrites.get(), droppedAppends.get());
    }
  }

  private long nowMicros() {
    Instant now = clock.instant();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
  }

  private static int day(long micros) {
    return (int) Math.floorDiv(micros, MICROS_PER_DAY);
  }
}
