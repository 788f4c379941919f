package dev.lamina.actors.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.actors.account.AccountActor;
import dev.lamina.actors.metrics.Metrics;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.sandbox.SandboxActor;
import dev.lamina.actors.worker.WorkerActor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The routing rules of one function version, with probes standing in for the worker and the
 * sandboxes: warm reuse, cold starts per waiting invocation, revision switches, stale
 * configurations, bounced invocations and retiring sandboxes.
 */
class FunctionActorTest {

  private static final ActorTestKit kit = ActorTestKit.create();
  private static final Duration QUIET = Duration.ofMillis(200);

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private final TestProbe<WorkerActor.Command> worker = kit.createTestProbe();
  private final ActorRef<FunctionActor.Command> function = kit.spawn(FunctionActor.create(worker.getRef()));

  @Test
  void coldStartsOnePerWaitingInvocationThenReusesTheWarmSandbox() {
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    TestProbe<InvocationResult> caller = kit.createTestProbe();

    function.tell(new FunctionActor.Invoke(v1, invocation("a"), caller.getRef()));
    function.tell(new FunctionActor.Invoke(v1, invocation("b"), caller.getRef()));
    worker.expectMessageClass(WorkerActor.StartSandbox.class);
    worker.expectMessageClass(WorkerActor.StartSandbox.class);
    TestProbe<SandboxActor.Command> sandbox = kit.createTestProbe();
    function.tell(new FunctionActor.SandboxReady(sandbox.getRef(), v1.sandboxKey()));

    assertEquals("a", invokeOf(sandbox).invocation().requestId());
    function.tell(new FunctionActor.SandboxIdle(sandbox.getRef(), v1.sandboxKey()));
    assertEquals("b", invokeOf(sandbox).invocation().requestId(), "the waiting one runs on the warm sandbox");
    function.tell(new FunctionActor.SandboxIdle(sandbox.getRef(), v1.sandboxKey()));
    function.tell(new FunctionActor.Invoke(v1, invocation("c"), caller.getRef()));
    assertEquals("c", invokeOf(sandbox).invocation().requestId());
    worker.expectNoMessage(QUIET);
  }

  @Test
  void newRevisionStopsIdleSandboxesOfTheOldOneAndStartsFresh() {
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    FunctionConfig v2 = config("r2", "2026-11-27T00:00:01.000+0000");
    TestProbe<SandboxActor.Command> old = warmSandbox(v1);
    TestProbe<InvocationResult> caller = kit.createTestProbe();

    function.tell(new FunctionActor.Invoke(v2, invocation("new"), caller.getRef()));

    assertTrue(old.expectMessageClass(SandboxActor.Stop.class).reason().contains("updated"));
    assertEquals(v2.sandboxKey(), worker.expectMessageClass(WorkerActor.StartSandbox.class).config().sandboxKey());
  }

  @Test
  void invocationResolvedFromAnOlderConfigurationRunsOnTheCurrentRevision() {
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    FunctionConfig v2 = config("r2", "2026-11-27T00:00:01.000+0000");
    warmSandbox(v1);  // consumed by the switch below
    TestProbe<InvocationResult> caller = kit.createTestProbe();
    function.tell(new FunctionActor.Invoke(v2, invocation("new"), caller.getRef()));
    worker.expectMessageClass(WorkerActor.StartSandbox.class);
    TestProbe<SandboxActor.Command> current = kit.createTestProbe();
    function.tell(new FunctionActor.SandboxReady(current.getRef(), v2.sandboxKey()));
    invokeOf(current);
    function.tell(new FunctionActor.SandboxIdle(current.getRef(), v2.sandboxKey()));

    function.tell(new FunctionActor.Invoke(v1, invocation("late"), caller.getRef()));

    assertEquals("late", invokeOf(current).invocation().requestId(), "no switch back to the old revision");
    worker.expectNoMessage(QUIET);
  }

  @Test
  void failedStartOfAnOldRevisionDoesNotFailAnInvocationOfTheNewOne() {
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    FunctionConfig v2 = config("r2", "2026-11-27T00:00:01.000+0000");
    TestProbe<InvocationResult> caller = kit.createTestProbe();
    function.tell(new FunctionActor.Invoke(v1, invocation("old"), caller.getRef()));
    worker.expectMessageClass(WorkerActor.StartSandbox.class);
    function.tell(new FunctionActor.Invoke(v2, invocation("new"), caller.getRef()));
    // Both wait; the new revision needs starts of its own for both.
    assertEquals(v2.sandboxKey(), worker.expectMessageClass(WorkerActor.StartSandbox.class).config().sandboxKey());
    assertEquals(v2.sandboxKey(), worker.expectMessageClass(WorkerActor.StartSandbox.class).config().sandboxKey());

    TestProbe<SandboxActor.Command> stale = kit.createTestProbe();
    function.tell(new FunctionActor.SandboxFailed(stale.getRef(), v1.sandboxKey(), "Runtime.ExitError", "boom",
        null, "", false));

    caller.expectNoMessage(QUIET);
  }

  @Test
  void bouncedInvocationGoesToAnotherSandbox() {
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    TestProbe<SandboxActor.Command> first = warmSandbox(v1);
    TestProbe<SandboxActor.Command> second = kit.createTestProbe();
    function.tell(new FunctionActor.SandboxReady(second.getRef(), v1.sandboxKey()));
    TestProbe<InvocationResult> caller = kit.createTestProbe();
    function.tell(new FunctionActor.Invoke(v1, invocation("x"), caller.getRef()));
    TestProbe<SandboxActor.Command> chosen = second;  // most recently idle first
    SandboxActor.Invoke sent = invokeOf(chosen);

    function.tell(new FunctionActor.Bounced(sent.invocation(), sent.replyTo()));

    assertEquals("x", invokeOf(first).invocation().requestId());
  }

  @Test
  void retiringSandboxIsConfirmedAndNeverGivenWorkAgain() {
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    TestProbe<SandboxActor.Command> sandbox = warmSandbox(v1);

    function.tell(new FunctionActor.SandboxRetiring(sandbox.getRef(), v1.sandboxKey()));
    sandbox.expectMessage(SandboxActor.RetireConfirmed.INSTANCE);
    TestProbe<InvocationResult> caller = kit.createTestProbe();
    function.tell(new FunctionActor.Invoke(v1, invocation("after"), caller.getRef()));

    worker.expectMessageClass(WorkerActor.StartSandbox.class);
    sandbox.expectNoMessage(QUIET);
  }

  @Test
  void deletedFunctionStopsItsIdleSandboxes() {
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    TestProbe<SandboxActor.Command> sandbox = warmSandbox(v1);

    function.tell(FunctionActor.FunctionDeleted.INSTANCE);

    assertFalse(sandbox.expectMessageClass(SandboxActor.Stop.class).reason().isEmpty());
  }

  /** A sandbox that served one invocation of {@code config} and is idle now. */
  @Test
  void aDeletedVersionsActorAsksItsShardToStopItOnceItsLastSandboxIsGone() {
    TestProbe<ClusterSharding.ShardCommand> shard = kit.createTestProbe();
    ActorRef<FunctionActor.Command> sharded = kit.spawn(FunctionActor.create(worker.getRef(), shard.getRef(), null, Duration.ofSeconds(1), Metrics.inMemory()));
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    TestProbe<SandboxActor.Command> sandbox = busySandbox(sharded, v1);

    sharded.tell(FunctionActor.FunctionDeleted.INSTANCE);
    shard.expectNoMessage(QUIET);   // its sandbox is still running the accepted invocation
    sharded.tell(new FunctionActor.SandboxIdle(sandbox.getRef(), v1.sandboxKey()));

    sandbox.expectMessageClass(SandboxActor.Stop.class);
    ClusterSharding.Passivate<?> passivate = shard.expectMessageClass(ClusterSharding.Passivate.class);
    assertEquals(sharded, passivate.entity());
  }

  @Test
  void aVersionThatStillExistsIsNeverPassivated() {
    TestProbe<ClusterSharding.ShardCommand> shard = kit.createTestProbe();
    ActorRef<FunctionActor.Command> sharded = kit.spawn(FunctionActor.create(worker.getRef(), shard.getRef(), null, Duration.ofSeconds(1), Metrics.inMemory()));
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    TestProbe<SandboxActor.Command> sandbox = busySandbox(sharded, v1);

    sharded.tell(new FunctionActor.SandboxGone(sandbox.getRef(), v1.sandboxKey()));

    shard.expectNoMessage(QUIET);
  }

  @Test
  void unitsOfAnAccountThatIsGoneAreNotCountedOnAndAreLeasedAgain() {
    TestProbe<AccountActor.Command> account = kit.createTestProbe();
    TestProbe<AccountActor.Command> grantor = kit.createTestProbe();
    ActorRef<FunctionActor.Command> accounted = kit.spawn(FunctionActor.create(worker.getRef(), null,
        account.getRef(), Duration.ofMinutes(1), Metrics.inMemory()));
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    TestProbe<InvocationResult> caller = kit.createTestProbe();
    accounted.tell(new FunctionActor.Invoke(v1, invocation("first"), caller.getRef()));
    account.expectMessageClass(AccountActor.Acquire.class);
    accounted.tell(new FunctionActor.LeaseGranted(1, null, grantor.getRef()));
    account.expectMessageClass(AccountActor.Scale.class);

    grantor.stop();
    account.expectNoMessage(QUIET);   // time for the death of the grantor to be noticed
    accounted.tell(new FunctionActor.Invoke(v1, invocation("second"), caller.getRef()));

    AccountActor.Acquire again = account.expectMessageClass(AccountActor.Acquire.class);
    assertEquals(2, again.needed(), "both invocations need units from the account that replaced the lost one");
  }

  @Test
  void aProvisionedPoolIsRestoredAfterItsGrantorWasLost() {
    TestProbe<AccountActor.Command> account = kit.createTestProbe();
    TestProbe<AccountActor.Command> grantor = kit.createTestProbe();
    ActorRef<FunctionActor.Command> accounted = kit.spawn(FunctionActor.create(worker.getRef(), null,
        account.getRef(), Duration.ofMinutes(1), Metrics.inMemory()));
    FunctionConfig v1 = config("r1", "2026-11-27T00:00:00.000+0000");
    accounted.tell(new FunctionActor.Provision(v1, 2));
    assertEquals(2, account.expectMessageClass(AccountActor.Acquire.class).needed());
    accounted.tell(new FunctionActor.LeaseGranted(2, null, grantor.getRef()));
    TestProbe<SandboxActor.Command> p1 = kit.createTestProbe();
    TestProbe<SandboxActor.Command> p2 = kit.createTestProbe();
    assertTrue(worker.expectMessageClass(WorkerActor.StartSandbox.class).provisioned());
    assertTrue(worker.expectMessageClass(WorkerActor.StartSandbox.class).provisioned());
    accounted.tell(new FunctionActor.SandboxReady(p1.getRef(), v1.sandboxKey(), true));
    accounted.tell(new FunctionActor.SandboxReady(p2.getRef(), v1.sandboxKey(), true));
    grantor.stop();
    account.expectNoMessage(QUIET);   // time for the death of the grantor to be noticed

    accounted.tell(new FunctionActor.SandboxRetiring(p1.getRef(), v1.sandboxKey()));

    assertEquals(2, account.expectMessageClass(AccountActor.Acquire.class).needed(),
        "the units went with the old account: both provisioned sandboxes need them again");
    accounted.tell(new FunctionActor.LeaseGranted(2, null, account.getRef()));
    WorkerActor.StartSandbox replacement = worker.expectMessageClass(WorkerActor.StartSandbox.class);
    assertTrue(replacement.provisioned());
  }

  /** A sandbox of {@code function} started for one invocation, which it is running now. */
  private TestProbe<SandboxActor.Command> busySandbox(ActorRef<FunctionActor.Command> function, FunctionConfig config) {
    TestProbe<InvocationResult> caller = kit.createTestProbe();
    function.tell(new FunctionActor.Invoke(config, invocation("busy-" + UUID.randomUUID()), caller.getRef()));
    worker.expectMessageClass(WorkerActor.StartSandbox.class);
    TestProbe<SandboxActor.Command> sandbox = kit.createTestProbe();
    function.tell(new FunctionActor.SandboxReady(sandbox.getRef(), config.sandboxKey()));
    invokeOf(sandbox);
    return sandbox;
  }

  private TestProbe<SandboxActor.Command> warmSandbox(FunctionConfig config) {
    TestProbe<SandboxActor.Command> sandbox = busySandbox(function, config);
    function.tell(new FunctionActor.SandboxIdle(sandbox.getRef(), config.sandboxKey()));
    return sandbox;
  }

  private static SandboxActor.Invoke invokeOf(TestProbe<SandboxActor.Command> sandbox) {
    return sandbox.expectMessageClass(SandboxActor.Invoke.class);
  }

  private static Invocation invocation(String id) {
    return new Invocation(id, ByteString.fromString("{}"), "arn:aws:lambda:us-east-1:000000000000:function:f",
        null, null, false);
  }

  private static FunctionConfig config(String revision, String lastModified) {
    return new FunctionConfig("f", "$LATEST", "python3.11", "arn:aws:iam::000000000000:role/r", "app.handler", "",
        3, 128, 512, Map.of(), "0".repeat(64), 100, 100, lastModified, revision, "x86_64", "PassThrough", null,
        "Text", "/aws/lambda/f", Map.of(), List.of());
  }
}
