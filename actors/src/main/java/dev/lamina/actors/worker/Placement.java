package dev.lamina.actors.worker;

import dev.lamina.actors.LambdaError;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.metrics.Metrics;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * Where new sandboxes go: one placement per node, choosing among the worker nodes of the cluster.
 *
 * <p>Contract: function actors send {@link WorkerActor.StartSandbox} to the placement of their own
 * node. It picks the first worker node with room for the function's memory among: the node that
 * received the invocation ({@code near}), this node, then the others by most free memory; when none
 * has room, this node (whose worker reclaims idle sandboxes, waits, or throttles). A start sent to
 * another node's placement is marked placed and starts there. Nothing on this path waits for
 * another node: each placement reads a replicated view of every worker's free memory (Pekko
 * Distributed Data, written locally and gossiped) and counts what it sent meanwhile, so no
 * singleton sits on the invoke path. Worker nodes are those registered with the receptionist; a node
 * that offers no sandboxes (role {@code frontend} only) places everything elsewhere.
 *
 * <p>Host leases: starts placed here go to the {@link WorkerActor} of the current lease. Every
 * {@code lease} (at most 14 hours by default) a fresh worker takes over and the old one drains: it
 * places nothing more, its idle sandboxes stop, its busy ones finish their invocation first, so no
 * invocation fails because of a rotation. Starts the old worker still had come back here and go to
 * the new one. A worker that stops unexpectedly is replaced at once.
 *
 * <p>Known limits: the view lags by up to a gossip round, so two nodes may both choose the same
 * node for their last megabytes (its worker then reclaims or throttles). While an old lease drains,
 * its busy sandboxes run on top of the new lease's memory capacity (for at most their remaining
 * timeout).
 */
public final class Placement {

  /** Placements of worker nodes, as the receptionist lists them. */
  public static final ServiceKey<WorkerActor.Command> WORKERS =
      ServiceKey.create(WorkerActor.Command.class, "lamina-worker-placement");

  private static final Key<LWWMap<String, Long>> FREE_MB = LWWMapKey.create("lamina-worker-free-mb");

  /** The worker nodes now known. */
  record PeersChanged(Set<ActorRef<WorkerActor.Command>> placements) implements WorkerActor.Command {}

  /** The replicated view changed: free sandbox memory per node address. */
  record CapacityChanged(Map<String, Long> freeMb) implements WorkerActor.Command {}

  /** TICK: time to publish this node's free memory; DONE: the replicator took it. */
  enum PublishCapacity implements WorkerActor.Command { TICK, DONE }

  /**
   * The node is leaving: place nothing more here (new starts go to other nodes, or fail when
   * there are none), let the sandboxes finish what they run and stop; {@code replyTo} hears when
   * the last one is gone.
   */
  public record Drain(ActorRef<org.apache.pekko.Done> replyTo) implements WorkerActor.Command {}

  /**
   * What this node offers for sandboxes: {@code memoryMb} in total, {@code usedMb} held by the
   * sandboxes of all its leases. {@code offersSandboxes} false: a front-end-only node.
   */
  public record NodeCapacity(boolean offersSandboxes, long memoryMb, AtomicLong usedMb) {
    long freeMb() {
      return offersSandboxes ? memoryMb - usedMb.get() : 0;
    }
  }

  private final ActorContext<WorkerActor.Command> ctx;
  private final TimerScheduler<WorkerActor.Command> timers;
  private final Supplier<Behavior<WorkerActor.Command>> newLease;
  private final Duration lease;
  private final AtomicLong leaseStarted;
  private final NodeCapacity capacity;
  private final ReplicatorMessageAdapter<WorkerActor.Command, LWWMap<String, Long>> replicator;
  private final SelfUniqueAddress selfUnique;
  private final String self;
  private final Map<String, ActorRef<WorkerActor.Command>> peers = new HashMap<>();   // other worker nodes
  private final Map<String, Long> freeMb = new HashMap<>();   // the view, less what was sent since
  private long published = Long.MIN_VALUE;
  private ActorRef<WorkerActor.Command> current;
  private long leaseNumber;
  private final java.util.List<ActorRef<org.apache.pekko.Done>> drained = new java.util.ArrayList<>();
  private boolean draining;

  private Placement(ActorContext<WorkerActor.Command> ctx, TimerScheduler<WorkerActor.Command> timers,
      ReplicatorMessageAdapter<WorkerActor.Command, LWWMap<String, Long>> replicator,
      Supplier<Behavior<WorkerActor.Command>> newLease, Duration lease, Metrics metrics, NodeCapacity capacity) {
    this.ctx = ctx;
    ctx.setLoggerName(Placement.class);   // else a Pekko class names the logger (filtered to WARN)
    this.timers = timers;
    this.replicator = replicator;
    this.newLease = newLease;
    this.lease = lease;
    this.leaseStarted = metrics.leaseStarted();
    this.capacity = capacity;
    this.selfUnique = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    this.self = ctx.getSystem().address().toString();
  }

  /**
   * @param newLease makes the worker of one lease
   * @param publishEvery how often this node's free memory is written to the replicated view (when it changed)
   */
  public static Behavior<WorkerActor.Command> create(Supplier<Behavior<WorkerActor.Command>> newLease, Duration lease,
      Metrics metrics, NodeCapacity capacity, Duration publishEvery) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        DistributedData.<WorkerActor.Command, LWWMap<String, Long>>withReplicatorMessageAdapter(replicator -> {
          Placement placement = new Placement(ctx, timers, replicator, newLease, lease, metrics, capacity);
          placement.join(publishEvery);
          return placement.behavior();
        })));
  }

  private void join(Duration publishEvery) {
    if (capacity.offersSandboxes()) {
      ctx.getSystem().receptionist().tell(Receptionist.register(WORKERS, ctx.getSelf()));
    }
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(WORKERS, ctx.messageAdapter(Receptionist.Listing.class,
        listing -> new PeersChanged(listing.getServiceInstances(WORKERS)))));
    replicator.subscribe(FREE_MB, changed -> changed instanceof Replicator.Changed<LWWMap<String, Long>> c
        ? new CapacityChanged(c.get(FREE_MB).getEntries()) : new CapacityChanged(Map.of()));
    timers.startTimerWithFixedDelay(PublishCapacity.TICK, publishEvery);
    startLease();
  }

  private Behavior<WorkerActor.Command> behavior() {
    return Behaviors.receive(WorkerActor.Command.class)
        .onMessage(WorkerActor.StartSandbox.class, this::onStart)
        .onMessage(PeersChanged.class, m -> {
          peers.clear();
          m.placements().forEach(p -> {
            String node = nodeOf(p.path().address());
            if (!node.equals(self)) {
              peers.put(node, p);
            }
          });
          return Behaviors.same();
        })
        .onMessage(CapacityChanged.class, m -> {
          freeMb.clear();
          freeMb.putAll(m.freeMb());
          return Behaviors.same();
        })
        .onMessage(PublishCapacity.class, m -> {
          if (m == PublishCapacity.TICK) {
            publish();
          }
          return Behaviors.same();
        })
        .onMessage(Drain.class, this::onDrain)
        .onMessage(WorkerActor.RotateLease.class, m -> {
          if (draining) {
            return Behaviors.same();
          }
          ActorRef<WorkerActor.Command> old = current;
          long oldNumber = leaseNumber;
          startLease();
          old.tell(new WorkerActor.LeaseEnded(ctx.getSelf()));
          ctx.getLog().info("host lease {} ended: {} takes new sandboxes, the old one drains", oldNumber,
              current.path().name());
          return Behaviors.same();
        })
        .onSignal(Terminated.class, t -> {
          if (draining && t.getRef().equals(current)) {
            drained.forEach(r -> r.tell(org.apache.pekko.Done.getInstance()));
            drained.clear();
            current = null;
            return Behaviors.same();
          }
          if (t.getRef().equals(current)) {
            ctx.getLog().warn("the worker of host lease {} stopped unexpectedly: starting a new lease", leaseNumber);
            startLease();
          }
          return Behaviors.same();   // else a drained lease
        })
        .build();
  }

  private Behavior<WorkerActor.Command> onDrain(Drain drain) {
    if (current == null) {
      drain.replyTo().tell(org.apache.pekko.Done.getInstance());
      return Behaviors.same();
    }
    drained.add(drain.replyTo());
    if (!draining) {
      draining = true;
      ctx.getSystem().receptionist().tell(Receptionist.deregister(WORKERS, ctx.getSelf()));
      current.tell(new WorkerActor.LeaseEnded(ctx.getSelf()));
      ctx.getLog().info("draining this node's sandboxes before it leaves");
    }
    return Behaviors.same();
  }

  private Behavior<WorkerActor.Command> onStart(WorkerActor.StartSandbox start) {
    if (draining || !capacity.offersSandboxes()) {
      ActorRef<WorkerActor.Command> elsewhere = peers.isEmpty() ? null : choose(start);
      if (elsewhere == null) {
        start.owner().tell(new FunctionActor.PlacementFailed(start.config().sandboxKey(),
            LambdaError.Code.ServiceException.name(), draining ? "The node is shutting down; retry"
                : "No node of the cluster runs sandboxes now (none has the worker role)", null, start.provisioned()));
      } else {
        elsewhere.tell(start.placedHere());
      }
      return Behaviors.same();
    }
    ActorRef<WorkerActor.Command> target = start.placed() ? null : choose(start);
    if (target == null) {
      current.tell(start);
    } else {
      target.tell(start.placedHere());
    }
    return Behaviors.same();
  }

  /** The placement of the node to start on, or null for this node. */
  private ActorRef<WorkerActor.Command> choose(WorkerActor.StartSandbox start) {
    if (peers.isEmpty()) {
      return null;
    }
    int needed = start.config().memorySizeMb();
    String near = start.near() == null ? self : start.near();
    if (fits(near, needed)) {
      return sendTo(near, needed);
    }
    if (fits(self, needed)) {
      return null;
    }
    String roomiest = peers.keySet().stream()
        .filter(node -> fits(node, needed))
        .max(Comparator.comparingLong(node -> freeMb.getOrDefault(node, 0L)))
        .orElse(null);
    if (roomiest != null) {
      return sendTo(roomiest, needed);
    }
    // Nowhere has room: this node's worker reclaims, waits or throttles; a front end (or a node
    // that is leaving) hands it on to any worker, whose own worker then decides.
    return capacity.offersSandboxes() && !draining ? null : peers.values().iterator().next();
  }

  private boolean fits(String node, int neededMb) {
    if (node.equals(self)) {
      return !draining && capacity.freeMb() >= neededMb;
    }
    return peers.containsKey(node) && freeMb.getOrDefault(node, 0L) >= neededMb;
  }

  private ActorRef<WorkerActor.Command> sendTo(String node, int neededMb) {
    if (node.equals(self)) {
      return null;
    }
    freeMb.merge(node, (long) -neededMb, Long::sum);   // until that node publishes again
    return peers.get(node);
  }

  private void publish() {
    long free = draining ? 0 : capacity.freeMb();
    if (!capacity.offersSandboxes() || free == published) {
      return;
    }
    published = free;
    replicator.askUpdate(
        replyTo -> new Replicator.Update<>(FREE_MB, LWWMap.create(), Replicator.writeLocal(), replyTo,
            view -> view.put(selfUnique, self, free)),
        response -> PublishCapacity.DONE);
  }

  private String nodeOf(Address address) {
    return address.hasGlobalScope() ? address.toString() : self;
  }

  private void startLease() {
    leaseNumber++;
    current = ctx.spawn(newLease.get(), "worker-lease-" + leaseNumber);
    ctx.watch(current);
    leaseStarted.set(System.nanoTime());
    timers.startSingleTimer(WorkerActor.RotateLease.INSTANCE, lease);
  }
}
