package dev.lamina.actors.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.metrics.Metrics;
import dev.lamina.actors.registry.FunctionConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Placement across a real two-node Pekko cluster (two actor systems in this JVM, remoting over
 * loopback): each node's workers are probes, so the test sees where every start lands.
 */
class PlacementTest {

  private static final Duration CONVERGE = Duration.ofSeconds(20);

  private final java.util.List<ActorTestKit> kits = new java.util.ArrayList<>();

  @AfterEach
  void stop() {
    kits.forEach(ActorTestKit::shutdownTestKit);
  }

  /** One node: its placement, its worker probe, and the memory its sandboxes hold. */
  private record Node(ActorTestKit kit, ActorRef<WorkerActor.Command> placement,
      TestProbe<WorkerActor.Command> worker, AtomicLong usedMb) {
    String address() {
      return kit.system().address().toString();
    }
  }

  private Node node(boolean offersSandboxes, long memoryMb) {
    Config config = ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = "127.0.0.1"
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
        pekko.cluster.distributed-data.gossip-interval = 200 ms
        pekko.cluster.distributed-data.notify-subscribers-interval = 100 ms
        """).withFallback(ConfigFactory.load());
    ActorTestKit kit = ActorTestKit.create("lamina", config);
    kits.add(kit);
    TestProbe<WorkerActor.Command> worker = kit.createTestProbe();
    AtomicLong used = new AtomicLong();
    ActorRef<WorkerActor.Command> placement = kit.spawn(Placement.create(
        () -> Behaviors.receiveMessage(m -> {
          worker.getRef().tell(m);
          return Behaviors.same();
        }), Duration.ofHours(14), new Metrics(new SimpleMeterRegistry()),
        new Placement.NodeCapacity(offersSandboxes, memoryMb, used), Duration.ofMillis(100)), "placement");
    return new Node(kit, placement, worker, used);
  }

  private void formCluster(Node... nodes) {
    Cluster first = Cluster.get(nodes[0].kit().system());
    for (Node n : nodes) {
      Cluster.get(n.kit().system()).manager().tell(Join.create(first.selfMember().address()));
    }
    for (Node n : nodes) {
      eventually(() -> Cluster.get(n.kit().system()).selfMember().status() == MemberStatus.up()
          && Cluster.get(n.kit().system()).state().members().size() == nodes.length);
    }
  }

  @Test
  void aStartGoesToTheNodeThatReceivedTheInvocationWhenItHasRoom() {
    Node a = node(true, 4096);
    Node b = node(true, 4096);
    formCluster(a, b);
    TestProbe<FunctionActor.Command> owner = a.kit().createTestProbe();
    // Until a's view knows b, the start stays on a; once it does, it goes to b, marked placed.
    WorkerActor.StartSandbox onB = awaitStartOn(b, a, () -> start(owner, 512, b.address()));
    assertTrue(onB.placed());
    assertEquals(b.address(), onB.near());

    // No preference (the invocation came through a itself): a keeps it.
    a.placement().tell(start(owner, 512, null));
    assertTrue(!a.worker().expectMessageClass(WorkerActor.StartSandbox.class).placed());
    b.worker().expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aFullNodeSendsItsStartsToTheRoomiestOther() {
    Node a = node(true, 1024);
    Node b = node(true, 4096);
    formCluster(a, b);
    TestProbe<FunctionActor.Command> owner = a.kit().createTestProbe();
    awaitStartOn(b, a, () -> start(owner, 512, b.address()));   // a's view knows b

    a.usedMb().set(1024);   // a is full: a start that came through a goes to b
    a.placement().tell(start(owner, 512, null));
    assertTrue(b.worker().expectMessageClass(WorkerActor.StartSandbox.class).placed());
    a.worker().expectNoMessage(Duration.ofMillis(300));

    b.usedMb().set(4096);   // both full: a's own worker decides (reclaims, waits or throttles)
    awaitStartOn(a, a, () -> start(owner, 512, null));
  }

  @Test
  void aFrontEndOnlyNodePlacesEverythingOnWorkers() {
    Node front = node(false, 0);
    Node worker = node(true, 4096);
    formCluster(front, worker);
    TestProbe<FunctionActor.Command> owner = front.kit().createTestProbe();
    WorkerActor.StartSandbox started = awaitStartOn(worker, front, () -> start(owner, 128, null));
    assertTrue(started.placed());
    for (int i = 0; i < 5; i++) {
      front.placement().tell(start(owner, 128, front.address()));
      worker.worker().expectMessageClass(WorkerActor.StartSandbox.class);
    }
    front.worker().expectNoMessage(Duration.ofMillis(300));
  }

  /**
   * Sends {@code start} to {@code via} until {@code target}'s worker receives one (the replicated
   * view takes a few gossip rounds to converge); starts that landed elsewhere meanwhile are dropped.
   */
  private WorkerActor.StartSandbox awaitStartOn(Node target, Node via,
      java.util.function.Supplier<WorkerActor.StartSandbox> start) {
    long deadline = System.nanoTime() + CONVERGE.toNanos();
    while (System.nanoTime() < deadline) {
      via.placement().tell(start.get());
      List<WorkerActor.Command> got = target.worker().receiveSeveralMessages(0, Duration.ofMillis(200));
      WorkerActor.StartSandbox landed = got.isEmpty() ? pollOne(target.worker()) : (WorkerActor.StartSandbox) got.get(0);
      if (landed != null) {
        drain(via);
        drain(target);
        return landed;
      }
      drain(via);
    }
    throw new AssertionError("no start reached " + target.address() + " within " + CONVERGE);
  }

  private static WorkerActor.StartSandbox pollOne(TestProbe<WorkerActor.Command> probe) {
    try {
      return probe.expectMessageClass(WorkerActor.StartSandbox.class, Duration.ofMillis(200));
    } catch (AssertionError e) {
      return null;
    }
  }

  private static void drain(Node node) {
    while (pollOne(node.worker()) != null) {
      // starts that landed while the view converged
    }
  }

  private static void eventually(java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + CONVERGE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("cluster did not form within " + CONVERGE);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private static WorkerActor.StartSandbox start(TestProbe<FunctionActor.Command> owner, int memoryMb, String near) {
    FunctionConfig config = new FunctionConfig("f", "$LATEST", "python3.12", "arn:aws:iam::000000000000:role/r",
        "app.handler", "", 3, memoryMb, 512, Map.of(), "0".repeat(64), 100, 100, "2026-11-27T00:00:00.000+0000",
        "r1", "x86_64", "PassThrough", null, "Text", "/aws/lambda/f", Map.of(), List.of());
    return new WorkerActor.StartSandbox(config, owner.getRef(), false, near, false);
  }
}
