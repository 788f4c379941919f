package dev.lamina.actors.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.lamina.actors.events.EventDispatch;
import dev.lamina.actors.metrics.Metrics;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import dev.lamina.actors.testing.MovableClock;

/**
 * A queue's time-dependent rules with a clock the test moves (the integration tests cover the SQS
 * API over HTTP): retention, long polls, visibility, and the journal across a restart.
 */
class QueueActorTest {

  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.persistence.journal.plugin = \"pekko.persistence.journal.inmem\"\n"
          + "pekko.persistence.journal.inmem.test-serialization = on\n"
          + "pekko.persistence.snapshot-store.plugin = \"\"\n").withFallback(ConfigFactory.load()));
  private static final String PREFIX = "arn:aws:sqs:us-east-1:000000000000:";

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private final MovableClock clock = new MovableClock();

  private static final EventDispatch NO_FUNCTIONS = new EventDispatch() {
    @Override
    public CompletionStage<Attempt> run(String f, String q, String id, ByteString p, long at) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException());
    }

    @Override
    public CompletionStage<Void> deliver(String arn, ByteString body, List<Attribute> attributes, String source) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException());
    }
  };

  private ActorRef<QueueActor.Command> queue(String name, QueueAttributes attributes) {
    ActorRef<QueueActor.Command> q = kit.spawn(QueueActor.create(name, PREFIX, clock, NO_FUNCTIONS,
        Metrics.inMemory()));
    ask(q, r -> new QueueActor.Create(attributes, r));
    return q;
  }

  private static QueueActor.Reply ask(ActorRef<QueueActor.Command> q,
      java.util.function.Function<ActorRef<QueueActor.Reply>, QueueActor.Command> command) {
    TestProbe<QueueActor.Reply> probe = kit.createTestProbe();
    q.tell(command.apply(probe.getRef()));
    return probe.expectMessageClass(QueueActor.Reply.class, Duration.ofSeconds(5));
  }

  private static QueueActor.Reply send(ActorRef<QueueActor.Command> q, String body) {
    return ask(q, r -> new QueueActor.Send(List.of(new QueueActor.NewMessage("0", body, List.of(), null, null)), r));
  }

  @Test
  void aMessagePastRetentionIsDroppedAndTheReceiveIsStillAnswered() {
    ActorRef<QueueActor.Command> q = queue("retention-" + UUID.randomUUID(),
        new QueueAttributes(30, 60, 262144, 0, 0, null, 0));
    send(q, "old");
    clock.advanceMillis(61_000);

    QueueActor.Reply received = ask(q, r -> new QueueActor.Receive(10, null, 0, r));

    assertNull(received.errorCode());
    assertEquals(List.of(), received.messages(), "the expired message is not handed out");
    assertEquals(0, ask(q, QueueActor.GetInfo::new).visible(), "and it is gone");
  }

  @Test
  void aLongPollIsAnsweredWhenAMessageArrivesAndAReceivedMessageReturnsAfterItsVisibilityTimeout() {
    ActorRef<QueueActor.Command> q = queue("poll-" + UUID.randomUUID(),
        new QueueAttributes(5, 345600, 262144, 0, 0, null, 0));
    TestProbe<QueueActor.Reply> waiting = kit.createTestProbe();
    q.tell(new QueueActor.Receive(1, null, 10_000, waiting.getRef()));
    waiting.expectNoMessage(Duration.ofMillis(200));

    String id = send(q, "hello").messages().get(0).messageId();
    QueueActor.Reply got = waiting.expectMessageClass(QueueActor.Reply.class, Duration.ofSeconds(2));
    assertEquals(id, got.messages().get(0).messageId());
    assertEquals(1, got.messages().get(0).receiveCount());

    assertEquals(List.of(), ask(q, r -> new QueueActor.Receive(1, null, 0, r)).messages(), "invisible for 5 s");
    clock.advanceMillis(5_001);
    QueueActor.Reply again = ask(q, r -> new QueueActor.Receive(1, null, 0, r));
    assertEquals(id, again.messages().get(0).messageId(), "visible again once the timeout passed");
    assertEquals(2, again.messages().get(0).receiveCount());
    assertTrue(!again.messages().get(0).receiptHandle().equals(got.messages().get(0).receiptHandle()),
        "each receive has its own handle");
  }

  @Test
  void messagesAndTheirReceiveStateSurviveARestart() {
    String name = "restart-" + UUID.randomUUID();
    ActorRef<QueueActor.Command> q = queue(name, new QueueAttributes(30, 345600, 262144, 0, 0, null, 0));
    send(q, "kept");
    send(q, "deleted");
    List<QueueMessage> both = ask(q, r -> new QueueActor.Receive(10, null, 0, r)).messages();
    QueueMessage deleted = both.stream().filter(m -> m.body().equals("deleted")).findFirst().orElseThrow();
    ask(q, r -> new QueueActor.DeleteMessages(List.of(new QueueActor.Entry("0", deleted.receiptHandle(), 0)), r));
    kit.stop(q);

    ActorRef<QueueActor.Command> again = kit.spawn(QueueActor.create(name, PREFIX, clock, NO_FUNCTIONS,
        Metrics.inMemory()));
    QueueActor.Reply info = ask(again, QueueActor.GetInfo::new);
    assertEquals(0, info.visible());
    assertEquals(1, info.inFlight(), "still invisible after the restart: its visibility is in the journal");
    clock.advanceMillis(30_001);
    List<QueueMessage> after = ask(again, r -> new QueueActor.Receive(10, null, 0, r)).messages();
    assertEquals(List.of("kept"), after.stream().map(QueueMessage::body).toList());
    assertEquals(2, after.get(0).receiveCount());
  }
}
