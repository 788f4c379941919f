package dev.lamina.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.lamina.persistence.logs.LogStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Logs written by several nodes to one Cassandra keyspace are followed in order, each row once,
 * and expire after the configured TTL.
 */
@Timeout(120)
class CassandraLogStoreTest {

  private static final Duration TTL = Duration.ofHours(1);
  private static final Duration SETTLE = Duration.ofMillis(500);

  /** Two connections to one keyspace: two Lamina nodes. */
  static CassandraStorage nodeA;
  static CassandraStorage nodeB;

  @BeforeAll
  static void openKeyspace() {
    CassandraSettings settings = TestCassandra.settings(TestCassandra.uniqueKeyspace(CassandraLogStoreTest.class))
        .withLogTiming(TTL, SETTLE);
    nodeA = CassandraStorage.open(settings);
    nodeB = CassandraStorage.open(settings);
  }

  @AfterAll
  static void dropKeyspace() {
    if (nodeB != null) {
      nodeB.close();
    }
    if (nodeA != null) {
      TestCassandra.dropAndClose(nodeA);
    }
  }

  @Test
  void aFollowerSeesEveryBlockOfTwoNodesOnceAndInEachNodesOrder() throws Exception {
    String function = function();
    int blocks = 300;
    StringBuilder followed = new StringBuilder();
    ExecutorService writers = Executors.newFixedThreadPool(2);
    try (CassandraLogStore a = new CassandraLogStore(nodeA); CassandraLogStore b = new CassandraLogStore(nodeB)) {
      CompletableFuture<Void> writingA = CompletableFuture.runAsync(() -> appendBlocks(a, function, "A", blocks), writers);
      CompletableFuture<Void> writingB = CompletableFuture.runAsync(() -> appendBlocks(b, function, "B", blocks), writers);

      // Follow while both nodes write, a few hundred bytes at a time.
      long offset = 0;
      while (!(writingA.isDone() && writingB.isDone())) {
        LogStore.Chunk chunk = b.read(function, offset, 300);
        followed.append(chunk.text());
        offset = chunk.nextOffset();
        Thread.sleep(20);
      }
      writingA.get(30, TimeUnit.SECONDS);
      writingB.get(30, TimeUnit.SECONDS);
      a.flush();
      b.flush();
      for (LogStore.Chunk chunk = b.read(function, offset, 300); !chunk.text().isEmpty();
          chunk = b.read(function, chunk.nextOffset(), 300)) {
        followed.append(chunk.text());
      }

      String whole = a.read(function, 0, 1 << 20).text();
      assertEquals(whole, followed.toString(), "the follower saw what one read from 0 sees, in the same order");
      List<String> lines = List.of(whole.split("\n"));
      assertEquals(2 * 4 * blocks, lines.size(), "every line once");
      assertEquals(expectedSequence("A", blocks), ownLines(lines, "A"), "node A's blocks whole and in order");
      assertEquals(expectedSequence("B", blocks), ownLines(lines, "B"), "node B's blocks whole and in order");
    } finally {
      writers.shutdownNow();
    }
  }

  @Test
  void readsPageByMaxBytesAtBlockBoundaries() throws Exception {
    String function = function();
    try (CassandraLogStore logs = new CassandraLogStore(nodeA)) {
      StringBuilder all = new StringBuilder();
      for (int i = 0; i < 12; i++) {
        String block = "START " + i + "\n" + "x".repeat(40) + "\nEND " + i + "\n";
        logs.append(function, block);
        all.append(block);
      }
      logs.flush();

      StringBuilder paged = new StringBuilder();
      int reads = 0;
      for (LogStore.Chunk chunk = logs.read(function, 0, 150); !chunk.text().isEmpty();
          chunk = logs.read(function, chunk.nextOffset(), 150)) {
        assertTrue(chunk.text().length() <= 150, chunk.text());
        assertTrue(chunk.text().startsWith("START ") && chunk.text().endsWith("\n"), "whole blocks: " + chunk.text());
        paged.append(chunk.text());
        reads++;
      }

      assertEquals(all.toString(), paged.toString());
      assertEquals(6, reads, "two blocks of 55-57 bytes per 150-byte read");
      assertEquals("START 0\n" + "x".repeat(40) + "\nEND 0\n", logs.read(function, 0, 20).text(),
          "a block larger than maxBytes still comes out, alone and whole");
      assertEquals(all.toString(), readAll(logs, function, 20));
    }
  }

  @Test
  void rowsCarryTheConfiguredTtl() throws Exception {
    String function = function();
    try (CassandraLogStore logs = new CassandraLogStore(nodeA)) {
      logs.append(function, "START ttl\n");
      logs.flush();
    }

    Row row = nodeA.session().execute("SELECT TTL(lines) FROM " + nodeA.table(CassandraSchema.LOGS)
        + " WHERE function = ? ALLOW FILTERING", function).one();
    int ttl = row.getInt(0);
    assertTrue(ttl > TTL.toSeconds() - 60 && ttl <= TTL.toSeconds(), "TTL " + ttl);
    assertEquals(1, nodeA.session().execute("SELECT day FROM " + nodeA.table(CassandraSchema.LOG_DAYS)
        + " WHERE function = ?", function).all().size(), "the day is indexed");
  }

  @Test
  void offsetZeroStartsAtTheOldestKeptRowAndFollowingCrossesDays() throws Exception {
    String function = function();
    ManualClock clock = new ManualClock(Instant.parse("2030-01-01T23:59:59.900Z"));
    try (CassandraLogStore logs = new CassandraLogStore(nodeA, clock)) {
      logs.append(function, "day 1\n");
      clock.set(Instant.parse("2030-01-02T00:00:00.100Z"));
      logs.append(function, "day 2\n");
      clock.set(Instant.parse("2030-01-05T12:00:00Z"));  // two days without a line in between
      logs.append(function, "day 5\n");
      clock.set(Instant.parse("2030-01-05T12:00:10Z"));
      logs.flush();

      LogStore.Chunk first = logs.read(function, 0, 6);
      LogStore.Chunk second = logs.read(function, first.nextOffset(), 6);
      LogStore.Chunk third = logs.read(function, second.nextOffset(), 6);
      LogStore.Chunk end = logs.read(function, third.nextOffset(), 6);

      assertEquals("day 1\n", first.text());
      assertEquals("day 2\n", second.text());
      assertEquals("day 5\n", third.text());
      assertEquals("", end.text());
      assertEquals("day 1\nday 2\nday 5\n", logs.read(function, 0, 1000).text());
      assertEquals("", logs.read(function(), 0, 1000).text(), "a function without logs");
    }
  }

  @Test
  void rowsYoungerThanTheSettleTimeWaitForTheNextRead() throws Exception {
    String function = function();
    ManualClock clock = new ManualClock(Instant.parse("2031-06-01T10:00:00Z"));
    try (CassandraLogStore logs = new CassandraLogStore(nodeA, clock)) {
      logs.append(function, "early\n");
      clock.set(Instant.parse("2031-06-01T10:00:01Z"));
      logs.append(function, "late\n");
      logs.flush();

      LogStore.Chunk now = logs.read(function, 0, 1000);
      clock.set(Instant.parse("2031-06-01T10:00:02Z"));
      LogStore.Chunk later = logs.read(function, now.nextOffset(), 1000);

      assertEquals("early\n", now.text(), "the row stamped less than 500 ms ago is not handed out yet");
      assertEquals("late\n", later.text());
    }
  }

  @Test
  void anAppendLargerThanARowIsStoredInRowsCutAtLineEnds() throws Exception {
    String function = function();
    StringBuilder big = new StringBuilder();
    for (int i = 0; big.length() < 3 * CassandraLogStore.MAX_ROW_BYTES; i++) {
      big.append("line ").append(i).append(' ').append("é".repeat(50)).append('\n');
    }
    try (CassandraLogStore logs = new CassandraLogStore(nodeA)) {
      logs.append(function, big.toString());
      logs.flush();

      List<String> rows = new ArrayList<>();
      nodeA.session().execute("SELECT lines FROM " + nodeA.table(CassandraSchema.LOGS) + " WHERE function = ? ALLOW FILTERING",
          function).forEach(r -> rows.add(r.getString(0)));
      assertTrue(rows.size() >= 4, "rows: " + rows.size());
      rows.forEach(r -> assertTrue(r.endsWith("\n") && LogQueue.utf8Length(r) <= CassandraLogStore.MAX_ROW_BYTES));
      assertEquals(big.toString(), readAll(logs, function, 1 << 20));
    }
  }

  @Test
  void closeWritesWhatWasQueuedAndRefusesMore() throws Exception {
    String function = function();
    CassandraLogStore logs = new CassandraLogStore(nodeA);
    for (int i = 0; i < 50; i++) {
      logs.append(function, "line " + i + "\n");
    }

    logs.close();

    try (CassandraLogStore reader = new CassandraLogStore(nodeB)) {
      String text = reader.read(function, 0, 1 << 20).text();
      assertEquals(50, text.lines().count(), text);
      assertTrue(text.startsWith("line 0\n") && text.endsWith("line 49\n"));
    }
    assertThrows(IllegalStateException.class, () -> logs.append(function, "after close\n"));
  }

  @Test
  void appendNeverThrowsWhenCassandraFails() {
    CassandraStorage doomed = CassandraStorage.open(nodeA.settings());
    CassandraLogStore logs = new CassandraLogStore(doomed);
    doomed.close();

    assertDoesNotThrow(() -> {
      for (int i = 0; i < 100; i++) {
        logs.append(function(), "lost " + i + "\n");
      }
      logs.flush();
      logs.close();
    });
  }

  private static void appendBlocks(CassandraLogStore logs, String function, String node, int blocks) {
    for (int i = 0; i < blocks; i++) {
      logs.append(function, "START " + node + i + "\nout " + node + i + "\nEND " + node + i + "\nREPORT " + node + i
          + "\n");
      if (i % 10 == 0) {
        try {
          Thread.sleep(5);  // let the two nodes interleave
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private static List<String> ownLines(List<String> lines, String node) {
    return lines.stream().filter(l -> l.split(" ")[1].startsWith(node)).toList();
  }

  private static List<String> expectedSequence(String node, int blocks) {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < blocks; i++) {
      for (String kind : List.of("START", "out", "END", "REPORT")) {
        lines.add(kind + " " + node + i);
      }
    }
    return lines;
  }

  private static String readAll(CassandraLogStore logs, String function, int maxBytes) throws Exception {
    StringBuilder text = new StringBuilder();
    for (LogStore.Chunk chunk = logs.read(function, 0, maxBytes); !chunk.text().isEmpty();
        chunk = logs.read(function, chunk.nextOffset(), maxBytes)) {
      text.append(chunk.text());
    }
    return text.toString();
  }

  private static String function() {
    return "fn-" + UUID.randomUUID();
  }

  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    private final AtomicReference<Instant> now;

    ManualClock(Instant start) {
      this.now = new AtomicReference<>(start);
    }

    void set(Instant instant) {
      now.set(instant);
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }
}
