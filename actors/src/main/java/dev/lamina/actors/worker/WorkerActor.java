package dev.lamina.actors.worker;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.sandbox.SandboxActor;
import dev.lamina.actors.sandbox.SandboxCode;
import dev.lamina.persistence.code.CodeDigest;
import dev.lamina.persistence.code.CodeStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * This node's worker: owns the sandboxes started here (as children) and the memory they hold.
 *
 * <p>Contract: {@link StartSandbox} answers the asking function actor either through the new
 * sandbox ({@code SandboxReady} / {@code SandboxFailed}) or with {@code PlacementFailed}. When
 * the memory offered by this worker is taken, the least recently used sandboxes are asked to
 * {@link SandboxActor.Reclaim reclaim} (an idle one retires; a busy one carries on) and the start
 * waits for memory to be freed, at most {@code reclaimWait}; then it is throttled (429). A
 * function larger than the whole worker is refused at once. Code is extracted once per digest
 * (off the actor) before the sandbox starts. Host leases (14 h) and placement across nodes arrive
 * with the concurrency and cluster issues.
 *
 * <p>State: memory reserved per live sandbox (least recently used first), starts waiting for memory.
 */
public final class WorkerActor {

  public sealed interface Command extends CborSerializable
      permits StartSandbox, ReclaimDeclined, SandboxUsed, CodeReady, CodeFailed, WaitExpired, LeaseEnded,
          RotateLease, Placement.PeersChanged, Placement.CapacityChanged, Placement.PublishCapacity, Placement.Drain {}

  /**
   * {@code provisioned}: a sandbox kept ready for provisioned concurrency. {@code near}: the address
   * of the node that received the invocation (null: the asking function actor's node), which
   * {@link Placement} prefers. {@code placed}: a placement already chose this node; start it here.
   */
  public record StartSandbox(FunctionConfig config, ActorRef<FunctionActor.Command> owner, boolean provisioned,
      String near, boolean placed) implements Command {

    public StartSandbox(FunctionConfig config, ActorRef<FunctionActor.Command> owner) {
      this(config, owner, false, null, false);
    }

    public StartSandbox(FunctionConfig config, ActorRef<FunctionActor.Command> owner, boolean provisioned) {
      this(config, owner, provisioned, null, false);
    }

    StartSandbox placedHere() {
      return new StartSandbox(config, owner, provisioned, near, true);
    }
  }

  /** A sandbox asked to reclaim its memory is busy or still starting. */
  public record ReclaimDeclined(ActorRef<SandboxActor.Command> sandbox) implements Command {}

  /** A sandbox finished an invocation: it becomes the most recently used (reclaimed last). */
  public record SandboxUsed(ActorRef<SandboxActor.Command> sandbox) implements Command {}

  record CodeReady(StartSandbox request, SandboxCode code) implements Command {}

  record CodeFailed(StartSandbox request, String message) implements Command {}

  record WaitExpired(long waitId) implements Command {}

  /**
   * This worker's host lease is over: it places nothing more (starts still arriving or waiting go
   * back to {@code placement}), its sandboxes drain (idle ones stop, busy ones finish their
   * invocation first) and it stops when the last one is gone.
   */
  record LeaseEnded(ActorRef<Command> placement) implements Command {}

  /** To {@link Placement}: time for a fresh lease. */
  enum RotateLease implements Command { INSTANCE }

  /** A start waiting for memory; the id keys its timer (equal requests may wait side by side). */
  private record Waiting(long id, StartSandbox start) {}

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final CodeStore code;
  private final SandboxActor.Deps deps;
  private final long capacityMb;
  private final java.util.concurrent.atomic.AtomicLong nodeUsedMb;   // all leases of this node, for metrics
  private final Duration reclaimWait;
  // Memory per sandbox, least recently used first: reclaiming asks the front.
  private final Map<ActorRef<SandboxActor.Command>, Integer> sandboxes = new LinkedHashMap<>(16, 0.75f, true);
  private final Set<ActorRef<SandboxActor.Command>> reclaiming = new HashSet<>();
  private final Set<ActorRef<SandboxActor.Command>> declined = new HashSet<>();
  private final Deque<Waiting> waitingForMemory = new ArrayDeque<>();
  private long usedMb;
  private long nextWaitId;
  private ActorRef<Command> drainingTo;   // set when the lease has ended: where new work goes instead

  private WorkerActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, CodeStore code,
      SandboxActor.Deps deps, long capacityMb, Duration reclaimWait, java.util.concurrent.atomic.AtomicLong nodeUsedMb) {
    this.nodeUsedMb = nodeUsedMb;
    this.ctx = ctx;
    ctx.setLoggerName(WorkerActor.class);   // else a Pekko class names the logger (filtered to WARN)
    this.timers = timers;
    this.code = code;
    this.deps = deps;
    this.capacityMb = capacityMb;
    this.reclaimWait = reclaimWait;
  }

  /**
   * @param capacityMb the sandbox memory this worker offers (sum of the functions' MemorySize)
   * @param reclaimWait how long a start may wait for idle sandboxes to free memory
   * @param nodeUsedMb the memory held by the sandboxes of every lease of this node (metrics)
   */
  public static Behavior<Command> create(CodeStore code, SandboxActor.Deps deps, long capacityMb,
      Duration reclaimWait, java.util.concurrent.atomic.AtomicLong nodeUsedMb) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new WorkerActor(ctx, timers, code, deps, capacityMb, reclaimWait, nodeUsedMb).behavior()));
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(StartSandbox.class, this::onStart)
        .onMessage(CodeReady.class, this::onCodeReady)
        .onMessage(CodeFailed.class, m -> {
          usedMb -= m.request().config().memorySizeMb();
          nodeUsedMb.addAndGet(-m.request().config().memorySizeMb());
          m.request().owner().tell(new FunctionActor.PlacementFailed(m.request().config().sandboxKey(),
              LambdaError.Code.ServiceException.name(), m.message(), null, m.request().provisioned()));
          if (drainingTo != null) {
            return drained();
          }
          startWaiting();
          return Behaviors.same();
        })
        .onMessage(WaitExpired.class, m -> {
          for (Iterator<Waiting> it = waitingForMemory.iterator(); it.hasNext(); ) {
            Waiting w = it.next();
            if (w.id() == m.waitId()) {
              it.remove();
              throttle(w.start());
            }
          }
          startWaiting();  // smaller starts queued behind the expired one may fit now
          return Behaviors.same();
        })
        .onMessage(LeaseEnded.class, this::onLeaseEnded)
        .onMessage(SandboxUsed.class, m -> {
          sandboxes.get(m.sandbox());   // an access: moves it to the most recently used end
          return Behaviors.same();
        })
        .onMessage(ReclaimDeclined.class, m -> {
          if (reclaiming.remove(m.sandbox())) {
            declined.add(m.sandbox());
            if (!waitingForMemory.isEmpty()) {
              reclaimFor(waitingMb() + usedMb - capacityMb);
            }
          }
          return Behaviors.same();
        })
        .onSignal(Terminated.class, t -> {
          Integer mb = sandboxes.remove(t.getRef());
          reclaiming.remove(t.getRef());
          declined.remove(t.getRef());
          if (mb != null) {
            usedMb -= mb;
            nodeUsedMb.addAndGet(-mb);
          }
          if (drainingTo != null) {
            return drained();
          }
          startWaiting();
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onLeaseEnded(LeaseEnded ended) {
    drainingTo = ended.placement();
    for (Waiting w : waitingForMemory) {
      timers.cancel(w.id());
      drainingTo.tell(w.start());
    }
    waitingForMemory.clear();
    sandboxes.keySet().forEach(s -> s.tell(new SandboxActor.Drain("host lease ended")));
    return drained();
  }

  /** A draining worker stops once no sandbox and no start in preparation is left. */
  private Behavior<Command> drained() {
    return sandboxes.isEmpty() && usedMb == 0 ? Behaviors.stopped() : Behaviors.same();
  }

  private Behavior<Command> onStart(StartSandbox start) {
    if (drainingTo != null) {
      drainingTo.tell(start);   // sent before the placement moved to the next lease
      return Behaviors.same();
    }
    int mb = start.config().memorySizeMb();
    if (mb > capacityMb) {
      start.owner().tell(new FunctionActor.PlacementFailed(start.config().sandboxKey(),
          LambdaError.Code.ServiceException.name(), "The function's MemorySize of " + mb
              + " MB exceeds the " + capacityMb + " MB this node offers to sandboxes (lamina.worker.memory-mb).", null,
          start.provisioned()));
      return Behaviors.same();
    }
    if (!waitingForMemory.isEmpty() || usedMb + mb > capacityMb) {
      long id = nextWaitId++;
      waitingForMemory.addLast(new Waiting(id, start));
      timers.startSingleTimer(id, new WaitExpired(id), reclaimWait);
      reclaimFor(waitingMb() + usedMb - capacityMb);
      return Behaviors.same();
    }
    place(start);
    return Behaviors.same();
  }

  /**
   * Asks the least recently used sandboxes not yet asked in this episode to free at least {@code deficitMb};
   * one that declines (busy, starting) makes room for asking the next.
   */
  private void reclaimFor(long deficitMb) {
    long asked = reclaiming.stream().mapToLong(s -> sandboxes.getOrDefault(s, 0)).sum();
    for (Iterator<Map.Entry<ActorRef<SandboxActor.Command>, Integer>> it = sandboxes.entrySet().iterator();
        it.hasNext() && asked < deficitMb; ) {
      Map.Entry<ActorRef<SandboxActor.Command>, Integer> e = it.next();
      if (!declined.contains(e.getKey()) && reclaiming.add(e.getKey())) {
        e.getKey().tell(new SandboxActor.Reclaim(ctx.getSelf()));
        asked += e.getValue();
      }
    }
  }

  /** Memory freed: place waiting starts in order while they fit. */
  private void startWaiting() {
    while (!waitingForMemory.isEmpty()
        && usedMb + waitingForMemory.peekFirst().start().config().memorySizeMb() <= capacityMb) {
      Waiting next = waitingForMemory.pollFirst();
      timers.cancel(next.id());
      place(next.start());
    }
    if (!waitingForMemory.isEmpty()) {
      reclaimFor(waitingMb() + usedMb - capacityMb);
    }
    endEpisodeIfDone();
  }

  /**
   * Nobody waits for memory any more: forget whom we asked. A sandbox that was busy when asked
   * kept running and may be asked again next time.
   */
  private void endEpisodeIfDone() {
    if (waitingForMemory.isEmpty()) {
      reclaiming.clear();
      declined.clear();
    }
  }

  private long waitingMb() {
    return waitingForMemory.stream().mapToLong(w -> w.start().config().memorySizeMb()).sum();
  }

  private void throttle(StartSandbox start) {
    start.owner().tell(new FunctionActor.PlacementFailed(start.config().sandboxKey(),
        LambdaError.Code.TooManyRequestsException.name(), "Rate Exceeded.", "ConcurrentInvocationLimitExceeded",
        start.provisioned()));
  }

  private void place(StartSandbox start) {
    usedMb += start.config().memorySizeMb();
    nodeUsedMb.addAndGet(start.config().memorySizeMb());
    CodeDigest digest = new CodeDigest(start.config().codeSha256Hex());
    List<CodeDigest> layers = start.config().layers().stream().map(l -> new CodeDigest(l.codeSha256Hex())).toList();
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        return SandboxCode.of(code.extracted(digest), code.extractedLayers(layers));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, deps.blocking()), (dir, failure) -> {
      if (failure == null) {
        return new CodeReady(start, dir);
      }
      // The detail names host paths: it goes to the node's log, not to the caller.
      ctx.getLog().error("could not prepare the code of {}", start.config().sandboxKey(), failure);
      return new CodeFailed(start, "Could not prepare the function code and layers for a new execution "
          + "environment.");
    });
  }

  private Behavior<Command> onCodeReady(CodeReady ready) {
    StartSandbox start = ready.request();
    if (drainingTo != null) {
      usedMb -= start.config().memorySizeMb();
      nodeUsedMb.addAndGet(-start.config().memorySizeMb());
      drainingTo.tell(start);
      return drained();
    }
    ActorRef<SandboxActor.Command> sandbox = ctx.spawn(
        SandboxActor.create(start.config(), ready.code(), deps, start.owner(), start.provisioned(), ctx.getSelf()),
        "sandbox-" + UUID.randomUUID());
    ctx.watch(sandbox);
    sandboxes.put(sandbox, start.config().memorySizeMb());
    return Behaviors.same();
  }
}
