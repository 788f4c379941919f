package dev.lamina.actors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import com.typesafe.config.ConfigFactory;
import dev.lamina.actors.account.AccountActor;
import dev.lamina.actors.events.EventQueue;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.function.Invocation;
import dev.lamina.actors.function.InvocationResult;
import dev.lamina.actors.queue.QueueActor;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.registry.LayerRef;
import dev.lamina.actors.sandbox.SandboxActor;
import dev.lamina.actors.worker.WorkerActor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * In a cluster the invoke path crosses nodes: front end → function actor → sandbox → front end.
 * Every message on it must survive the serializer a remote send uses, payload bytes included.
 */
class CrossNodeSerializationTest {

  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create(ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = "127.0.0.1"
        pekko.remote.artery.canonical.port = 0
        """).withFallback(ConfigFactory.load()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void theSyncInvokePathKeepsPayloadsAndReplyAddresses() {
    TestProbe<InvocationResult> caller = testKit.createTestProbe();
    TestProbe<FunctionActor.Command> function = testKit.createTestProbe();
    TestProbe<SandboxActor.Command> sandbox = testKit.createTestProbe();
    byte[] binary = new byte[70_000];
    for (int i = 0; i < binary.length; i++) {
      binary[i] = (byte) i;   // every byte value, not only valid UTF-8
    }
    Invocation invocation = new Invocation("req-1", ByteString.fromArray(binary),
        "arn:aws:lambda:us-east-1:000000000000:function:f:live", "{\"custom\":{}}", "Root=1-abc", true);

    FunctionActor.Invoke invoke = roundTrip(new FunctionActor.Invoke(config(), invocation, caller.getRef()));
    assertEquals(config(), invoke.config());
    assertEquals(invocation, invoke.invocation());
    assertEquals(caller.getRef(), invoke.replyTo());
    assertArrayEquals(binary, invoke.invocation().payload().toArray());

    assertEquals(new SandboxActor.Invoke(invocation, caller.getRef()),
        roundTrip(new SandboxActor.Invoke(invocation, caller.getRef())));
    InvocationResult ran = InvocationResult.ran("req-1", ByteString.fromString("{\"ok\":\"é\"}", StandardCharsets.UTF_8),
        true, "3", "bG9n");
    assertEquals(ran, roundTrip(ran));
    InvocationResult refused = InvocationResult.refused("req-2", LambdaError.Code.TooManyRequestsException,
        "Rate Exceeded.", "ConcurrentInvocationLimitExceeded");
    assertEquals(refused, roundTrip(refused));

    assertEquals(new FunctionActor.SandboxReady(sandbox.getRef(), "k", true),
        roundTrip(new FunctionActor.SandboxReady(sandbox.getRef(), "k", true)));
    FunctionActor.SandboxFailed failed = new FunctionActor.SandboxFailed(sandbox.getRef(), "k", "Runtime.ExitError",
        "exited", ByteString.fromString("{}"), "INIT_REPORT", false);
    assertEquals(failed, roundTrip(failed));
    assertEquals(new FunctionActor.Bounced(invocation, caller.getRef()),
        roundTrip(new FunctionActor.Bounced(invocation, caller.getRef())));
    WorkerActor.StartSandbox start = new WorkerActor.StartSandbox(config(), function.getRef(), true);
    assertEquals(start, roundTrip(start));
  }

  @Test
  void accountAndQueueMessagesCrossToo() {
    TestProbe<FunctionActor.Command> function = testKit.createTestProbe();
    assertEquals(new AccountActor.Acquire("f", 2, 4, function.getRef()),
        roundTrip(new AccountActor.Acquire("f", 2, 4, function.getRef())));
    TestProbe<QueueActor.Reply> reply = testKit.createTestProbe();
    QueueActor.Receive receive = new QueueActor.Receive(10, 30, 20_000, function.getRef(), reply.getRef());
    assertEquals(receive, roundTrip(receive));

    TestProbe<EventQueue.Accepted> accepted = testKit.createTestProbe();
    byte[] event = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);
    EventQueue.Enqueue enqueue = roundTrip(new EventQueue.Enqueue("req-3", "live", event, accepted.getRef()));
    assertArrayEquals(event, enqueue.payload());
    assertEquals(accepted.getRef(), enqueue.replyTo());
  }

  @SuppressWarnings("unchecked")
  private static <T> T roundTrip(T message) {
    var serialization = SerializationExtension.get(testKit.system());
    Serializer serializer = serialization.findSerializerFor(message);
    byte[] bytes = serialization.serialize(message).get();
    Object back = serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, message))
        .get();
    assertNotSame(message, back);
    return (T) back;
  }

  private static FunctionConfig config() {
    return new FunctionConfig("f", "3", "python3.12", "arn:aws:iam::000000000000:role/r", "app.handler", "d",
        30, 512, 1024, Map.of("B", "2", "A", "1"), "a".repeat(64), 100, 300, "2026-11-27T00:00:00.000+0000", "r1",
        "x86_64", "PassThrough", "arn:aws:sqs:us-east-1:000000000000:dlq", "Text", "/aws/lambda/f",
        Map.of("team", "x"), List.of(new LayerRef("arn:aws:lambda:us-east-1:000000000000:layer:l:1", 10, "b".repeat(64), 20)));
  }
}
