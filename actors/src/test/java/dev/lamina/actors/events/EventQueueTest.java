package dev.lamina.actors.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.lamina.actors.events.EventDispatch.Attempt;
import dev.lamina.actors.events.EventDispatch.Kind;
import dev.lamina.actors.metrics.Metrics;
import dev.lamina.actors.registry.EventInvokeConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import dev.lamina.actors.testing.MovableClock;

/**
 * The event queue's schedule and durability with a scripted dispatcher standing in for the
 * node's invoke path (the integration tests run the real one): retries of function errors, backoff
 * until an event is too old, records to destinations and the DLQ, and recovery from the journal
 * (events and snapshots serialized through CBOR, as on disk).
 */
class EventQueueTest {

  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.persistence.journal.plugin = \"pekko.persistence.journal.inmem\"\n"
          + "pekko.persistence.journal.inmem.test-serialization = on\n"
          + "pekko.persistence.snapshot-store.plugin = \"pekko.persistence.snapshot-store.local\"\n"
          + "pekko.persistence.snapshot-store.local.dir = \"target/snapshots-" + UUID.randomUUID() + "\"\n"
          + "pekko.actor.serialize-messages = off\n").withFallback(ConfigFactory.load()));
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String DLQ = "arn:aws:sqs:us-east-1:000000000000:dlq";
  private static final String FAILURES = "arn:aws:sqs:us-east-1:000000000000:failures";
  private static final String SUCCESSES = "arn:aws:sqs:us-east-1:000000000000:successes";

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private final MovableClock clock = new MovableClock();

  /** A dispatcher whose attempts follow {@code script}; every run and delivery is recorded. */
  private static final class Scripted implements EventDispatch {
    final LinkedBlockingQueue<String> runs = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
    volatile Function<String, CompletionStage<Attempt>> script;

    record Delivery(String arn, String body, List<Attribute> attributes) {}

    Scripted(Function<String, CompletionStage<Attempt>> script) {
      this.script = script;
    }

    @Override
    public CompletionStage<Attempt> run(String function, String qualifier, String requestId, ByteString payload,
        long acceptedAtMillis) {
      runs.add(requestId);
      return script.apply(requestId);
    }

    @Override
    public CompletionStage<Void> deliver(String arn, ByteString body, List<Attribute> attributes, String source) {
      deliveries.add(new Delivery(arn, body.utf8String(), attributes));
      return CompletableFuture.completedFuture(null);
    }
  }

  private static EventSettings settings(int snapshotEvery) {
    return new EventSettings(1, 4, List.of(Duration.ofMillis(50), Duration.ofMillis(100)), Duration.ofMillis(20),
        Duration.ofMillis(100), Duration.ofMillis(5), snapshotEvery, Duration.ofMinutes(1), 3);
  }

  private static Attempt attempt(Kind kind, EventInvokeConfig config, String response) {
    return new Attempt(kind, config, DLQ, "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
        response == null ? null : "$LATEST", response == null ? null : ByteString.fromString(response),
        kind == Kind.FUNCTION_ERROR ? "Unhandled" : null, kind == Kind.THROTTLED ? 429 : 200,
        kind == Kind.THROTTLED ? "TooManyRequestsException" : null, kind == Kind.THROTTLED ? "Rate Exceeded." : null);
  }

  private ActorRef<EventQueue.Command> queue(String id, Scripted dispatch, int snapshotEvery) {
    return kit.spawn(EventQueue.create(id, settings(snapshotEvery), dispatch, clock, Metrics.inMemory(), self -> { }));
  }

  private static void enqueue(ActorRef<EventQueue.Command> queue, String requestId, String payload) {
    TestProbe<EventQueue.Accepted> accepted = kit.createTestProbe();
    queue.tell(new EventQueue.Enqueue(requestId, null, payload.getBytes(StandardCharsets.UTF_8), accepted.getRef()));
    assertEquals(requestId, accepted.expectMessageClass(EventQueue.Accepted.class).requestId());
  }

  private static <T> T next(LinkedBlockingQueue<T> queue) throws InterruptedException {
    T value = queue.poll(5, TimeUnit.SECONDS);
    assertNotNull(value, "nothing arrived within 5 s");
    return value;
  }

  @Test
  void aSuccessRunsOnceAndItsRecordGoesToTheOnSuccessDestination() throws Exception {
    EventInvokeConfig config = new EventInvokeConfig("$LATEST", null, null, SUCCESSES, FAILURES, 0);
    Scripted dispatch = new Scripted(id -> CompletableFuture.completedFuture(
        attempt(Kind.SUCCESS, config, "{\"answer\":42}")));
    ActorRef<EventQueue.Command> queue = queue("f#" + UUID.randomUUID(), dispatch, 1000);
    enqueue(queue, "r1", "{\"q\":1}");

    assertEquals("r1", next(dispatch.runs));
    Scripted.Delivery d = next(dispatch.deliveries);
    JsonNode record = JSON.readTree(d.body());
    assertEquals(SUCCESSES, d.arn());
    assertEquals("Success", record.at("/requestContext/condition").asText());
    assertEquals(1, record.at("/requestContext/approximateInvokeCount").asInt());
    assertEquals(1, record.at("/requestPayload/q").asInt());
    assertEquals(42, record.at("/responsePayload/answer").asInt());
    assertNull(dispatch.runs.poll(300, TimeUnit.MILLISECONDS), "ran once");
  }

  @Test
  void functionErrorsAreRetriedThenTheRecordAndTheDeadLetterGoOut() throws Exception {
    EventInvokeConfig config = new EventInvokeConfig("$LATEST", 2, null, null, FAILURES, 0);
    Scripted dispatch = new Scripted(id -> CompletableFuture.completedFuture(
        attempt(Kind.FUNCTION_ERROR, config, "{\"errorMessage\":\"boom\",\"errorType\":\"Exception\"}")));
    ActorRef<EventQueue.Command> queue = queue("f#" + UUID.randomUUID(), dispatch, 1000);
    long start = System.nanoTime();
    enqueue(queue, "r2", "{\"q\":2}");

    for (int i = 0; i < 3; i++) {
      assertEquals("r2", next(dispatch.runs));
    }
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(elapsedMs >= 150, "waited 50 ms, then 100 ms between attempts: " + elapsedMs);
    Scripted.Delivery first = next(dispatch.deliveries);
    Scripted.Delivery second = next(dispatch.deliveries);
    Scripted.Delivery record = first.arn().equals(FAILURES) ? first : second;
    Scripted.Delivery dead = first.arn().equals(DLQ) ? first : second;
    JsonNode r = JSON.readTree(record.body());
    assertEquals("RetriesExhausted", r.at("/requestContext/condition").asText());
    assertEquals(3, r.at("/requestContext/approximateInvokeCount").asInt());
    assertEquals("Unhandled", r.at("/responseContext/functionError").asText());
    assertEquals("boom", r.at("/responsePayload/errorMessage").asText());
    assertEquals(DLQ, dead.arn());
    assertEquals("{\"q\":2}", dead.body(), "the DLQ gets the original event");
    assertEquals(List.of(new EventDispatch.Attribute("RequestID", "String", "r2"),
        new EventDispatch.Attribute("ErrorCode", "Number", "200"),
        new EventDispatch.Attribute("ErrorMessage", "String", "boom")), dead.attributes());
    assertNull(dispatch.runs.poll(300, TimeUnit.MILLISECONDS), "no 4th attempt");
  }

  @Test
  void throttledEventsBackOffUntilTheyAreTooOld() throws Exception {
    EventInvokeConfig config = new EventInvokeConfig("$LATEST", null, 60, null, FAILURES, 0);
    Scripted dispatch = new Scripted(id -> CompletableFuture.completedFuture(attempt(Kind.THROTTLED, config, null)));
    ActorRef<EventQueue.Command> queue = queue("f#" + UUID.randomUUID(), dispatch, 1000);
    enqueue(queue, "r3", "{}");
    assertEquals("r3", next(dispatch.runs));
    assertEquals("r3", next(dispatch.runs), "a throttle is retried");
    clock.advanceMillis(61_000);  // a minute later, still throttled

    Scripted.Delivery d = next(dispatch.deliveries);
    JsonNode r = JSON.readTree(d.body());
    assertEquals("EventAgeExceeded", r.at("/requestContext/condition").asText());
    assertEquals(0, r.at("/requestContext/approximateInvokeCount").asInt(), "it never ran");
    assertTrue(r.path("responseContext").isMissingNode(), "no response without a run");
  }

  @Test
  void reservedConcurrencyZeroGoesStraightToFailureHandling() throws Exception {
    EventInvokeConfig config = new EventInvokeConfig("$LATEST", null, null, null, FAILURES, 0);
    Scripted dispatch = new Scripted(id -> CompletableFuture.completedFuture(
        attempt(Kind.RESERVED_ZERO, config, null)));
    ActorRef<EventQueue.Command> queue = queue("f#" + UUID.randomUUID(), dispatch, 1000);
    enqueue(queue, "r4", "{}");
    assertEquals("r4", next(dispatch.runs));
    assertEquals("RetriesExhausted", JSON.readTree(next(dispatch.deliveries).body())
        .at("/requestContext/condition").asText());
    assertNull(dispatch.runs.poll(300, TimeUnit.MILLISECONDS), "no retry");
  }

  @Test
  void unfinishedEventsRunAgainAfterARestartAndFinishedOnesDoNot() throws Exception {
    String id = "f#" + UUID.randomUUID();
    Scripted stuck = new Scripted(rid -> new CompletableFuture<>());  // in flight when the node dies
    ActorRef<EventQueue.Command> first = queue(id, stuck, 5);
    Set<String> accepted = new TreeSet<>();
    for (int i = 0; i < 7; i++) {
      enqueue(first, "e" + i, "{\"i\":" + i + "}");
      accepted.add("e" + i);
    }
    for (int i = 0; i < 4; i++) {
      next(stuck.runs);  // the window (4) is full
    }
    kit.stop(first);

    Scripted ok = new Scripted(rid -> CompletableFuture.completedFuture(attempt(Kind.SUCCESS, null, "null")));
    ActorRef<EventQueue.Command> second = queue(id, ok, 5);
    Set<String> ran = new TreeSet<>();
    for (int i = 0; i < 7; i++) {
      ran.add(next(ok.runs));
    }
    assertEquals(accepted, ran, "every accepted event runs after the restart (snapshot + journal)");
    TestProbe<EventQueue.Depth> depth = kit.createTestProbe();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    int queued;
    do {
      second.tell(new EventQueue.GetDepth(depth.getRef()));
      queued = depth.expectMessageClass(EventQueue.Depth.class).queued();
    } while (queued > 0 && System.nanoTime() < deadline);
    assertEquals(0, queued);
    kit.stop(second);

    Scripted third = new Scripted(rid -> CompletableFuture.completedFuture(attempt(Kind.SUCCESS, null, "null")));
    queue(id, third, 5);
    assertNull(third.runs.poll(500, TimeUnit.MILLISECONDS), "finished events stay finished");
  }
}
