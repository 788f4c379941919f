package dev.lamina.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The order, size and number of log rows in flight, without Cassandra. */
class LogQueueTest {

  private final List<LogQueue.Row> sent = new ArrayList<>();
  private final AtomicLong clock = new AtomicLong(1000);

  @Test
  void rowsLeaveInAppendOrderWithIncreasingStampsAndAtMostMaxInFlight() {
    LogQueue queue = new LogQueue(1024, 2, 1 << 20, clock::incrementAndGet, sent::add);

    queue.offer("f", "one\n");
    queue.offer("g", "two\n");
    queue.offer("f", "three\n");

    assertEquals(List.of("one\n", "two\n"), texts(), "two in flight, the third waits");
    queue.written(sent.get(0));
    assertEquals(List.of("one\n", "two\n", "three\n"), texts());
    assertTrue(sent.get(0).stamp() < sent.get(1).stamp() && sent.get(1).stamp() < sent.get(2).stamp());
  }

  @Test
  void flushWaitsForWhatWasOfferedBeforeIt() {
    LogQueue queue = new LogQueue(1024, 8, 1 << 20, clock::incrementAndGet, sent::add);
    queue.offer("f", "a\n");

    assertFalse(queue.awaitWritten(Duration.ofMillis(50)), "still in flight");
    queue.written(sent.get(0));
    assertTrue(queue.awaitWritten(Duration.ofMillis(50)));
  }

  @Test
  void textOverTheQueueLimitIsRefusedUntilRowsAreWritten() {
    LogQueue queue = new LogQueue(1024, 1, 10, clock::incrementAndGet, sent::add);

    assertTrue(queue.offer("f", "12345678\n"));
    assertFalse(queue.offer("f", "12\n"), "9 + 3 bytes > 10");
    queue.written(sent.get(0));
    assertTrue(queue.offer("f", "12\n"));
  }

  @Test
  void writesCompletingAtOnceDoNotRecurseOncePerQueuedRow() {
    List<String> written = new ArrayList<>();
    AtomicBoolean completeAtOnce = new AtomicBoolean();
    LogQueue[] queue = new LogQueue[1];
    queue[0] = new LogQueue(1024, 1, 1 << 30, clock::incrementAndGet, row -> {
      sent.add(row);
      if (completeAtOnce.get()) {
        written.add(row.text());
        queue[0].written(row);  // as a write that fails synchronously does, e.g. on a closed session
      }
    });
    for (int i = 0; i < 100_000; i++) {
      queue[0].offer("f", i + "\n");  // one in flight, the rest queued behind it
    }

    completeAtOnce.set(true);
    queue[0].written(sent.get(0));

    assertEquals(99_999, written.size(), "no StackOverflowError");
    assertEquals("99999\n", written.get(written.size() - 1));
    assertTrue(queue[0].awaitWritten(Duration.ZERO));
  }

  @Test
  void largeTextIsCutAfterNewlinesElseAtCharacters() {
    assertEquals(List.of("ab\n", "cd\n"), LogQueue.split("ab\ncd\n", 4));
    assertEquals(List.of("abcd", "ef"), LogQueue.split("abcdef", 4));
    assertEquals(List.of("éé", "é"), LogQueue.split("ééé", 5), "never inside a character");
    assertEquals(List.of("x"), LogQueue.split("x", 4));
    assertEquals(6, LogQueue.utf8Length("aé€"));
    assertEquals(4, LogQueue.utf8Length("😀"));
  }

  private List<String> texts() {
    return sent.stream().map(LogQueue.Row::text).toList();
  }
}
