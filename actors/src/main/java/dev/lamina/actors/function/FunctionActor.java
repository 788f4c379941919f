package dev.lamina.actors.function;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.account.AccountActor;
import dev.lamina.actors.metrics.Metrics;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.sandbox.Json;
import dev.lamina.actors.sandbox.SandboxActor;
import dev.lamina.actors.worker.WorkerActor;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.util.ByteString;

/**
 * Routes the invocations of one function version (entity id = {@code name:version}) to
 * sandboxes: a warm idle sandbox when there is one (most recently used first, so that surplus
 * sandboxes age out), else a cold start through the worker while the invocation waits.
 *
 * <p>Contract: {@link Invoke} carries the configuration the front end resolved. When its
 * revision differs from the one the idle sandboxes run, those are stopped and new ones start:
 * a sandbox never serves another revision. Sandboxes report {@code SandboxReady} once
 * initialised, {@code SandboxIdle} after each invocation, and end with exactly one of
 * {@code SandboxFailed} (init failed: the oldest waiting invocation gets the error),
 * {@code SandboxRetiring} (an idle sandbox asks to leave; it is forgotten, then confirmed) or
 * {@code SandboxGone}. An invocation a sandbox could not run comes back as {@link Bounced} and
 * waits at the head of the queue. Each waiting invocation has at most one cold start of the
 * current revision under way. An Invoke resolved from a configuration older than the current one
 * (a stale cache elsewhere) runs on the current revision instead of switching back.
 *
 * <p>State (one behavior, the data below): idle sandboxes, all live sandboxes, sandboxes
 * starting, invocations waiting. Never passivated while the version exists (that would orphan warm
 * sandboxes); after {@link FunctionDeleted} it passivates once nothing is left. On passivation or
 * rebalance every sandbox is stopped; a waiting invocation is answered with a ServiceException.
 */
public final class FunctionActor {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "FunctionActor");

  public sealed interface Command extends CborSerializable
      permits Invoke, SandboxReady, SandboxIdle, SandboxFailed, SandboxGone, SandboxRetiring, Bounced,
          PlacementFailed, FunctionDeleted, Shutdown, LeaseGranted, ScaleGranted, LeaseWindowEnded, Provision,
          GetProvisioned, GrantorGone, AccountSilent, RetryProvisioning, NodeLost {}

  public record Invoke(FunctionConfig config, Invocation invocation, ActorRef<InvocationResult> replyTo)
      implements Command {}

  /** A new sandbox finished init and waits for work ({@code provisioned}: started for provisioned concurrency). */
  public record SandboxReady(ActorRef<SandboxActor.Command> sandbox, String sandboxKey, boolean provisioned)
      implements Command {

    public SandboxReady(ActorRef<SandboxActor.Command> sandbox, String sandboxKey) {
      this(sandbox, sandboxKey, false);
    }
  }

  /** A sandbox finished an invocation and can take the next one. */
  public record SandboxIdle(ActorRef<SandboxActor.Command> sandbox, String sandboxKey) implements Command {}

  /**
   * A sandbox failed before it became ready. {@code payload} is the runtime's init error
   * document, or null: then the error is {@code errorType} with {@code message}. {@code initLog}
   * is what the runtime wrote during init plus the INIT_REPORT line (the caller's log tail).
   */
  public record SandboxFailed(ActorRef<SandboxActor.Command> sandbox, String sandboxKey, String errorType,
      String message, ByteString payload, String initLog, boolean provisioned) implements Command {}

  /** A sandbox that had been ready is gone (keep-alive, crash, timeout, stop). */
  public record SandboxGone(ActorRef<SandboxActor.Command> sandbox, String sandboxKey) implements Command {}

  /** An idle sandbox wants to leave; it stops once this actor answers {@code RetireConfirmed}. */
  public record SandboxRetiring(ActorRef<SandboxActor.Command> sandbox, String sandboxKey) implements Command {}

  /** An invocation handed to a sandbox that could no longer run it: it needs another sandbox. */
  public record Bounced(Invocation invocation, ActorRef<InvocationResult> replyTo) implements Command {}

  /** The worker could not place a sandbox asked for by this actor. */
  public record PlacementFailed(String sandboxKey, String errorCode, String message, String reason,
      boolean provisioned) implements Command {}

  /**
   * Keep {@code target} sandboxes of {@code config} (a published version) initialised ahead of
   * traffic; 0 ends provisioned concurrency here. Re-sent after a node start.
   */
  public record Provision(FunctionConfig config, int target) implements Command {}

  /** How far provisioning got; answered with {@link ProvisionedStatus}. */
  public record GetProvisioned(ActorRef<ProvisionedStatus> replyTo) implements Command {}

  /**
   * @param ready provisioned sandboxes initialised (busy or idle)
   * @param failure why provisioning stopped (an init error), or null
   */
  public record ProvisionedStatus(int target, int ready, String failure) implements CborSerializable {}

  /**
   * The function was deleted: its sandboxes stop as soon as they are idle, releasing their memory
   * now rather than at keep-alive expiry. Invocations already waiting still run.
   */
  public enum FunctionDeleted implements Command { INSTANCE }

  public enum Shutdown implements Command { INSTANCE }

  /**
   * The account's answer to an Acquire: {@code units} more concurrency; {@code shortReason} is the
   * throttle reason when fewer units than needed were granted, else null. Units go back to
   * {@code grantor} directly (not through the sharding region, which may be shutting down).
   */
  public record LeaseGranted(int units, String shortReason, ActorRef<AccountActor.Command> grantor)
      implements Command {}

  /** The account's answer to a Scale: tokens for {@code starts} new sandboxes; {@code shortReason} as above. */
  public record ScaleGranted(long id, int starts, String shortReason) implements Command {}

  enum LeaseWindowEnded implements Command { INSTANCE }

  /** The account that granted the units held stopped (moved, node lost): they are gone with it. */
  record GrantorGone(ActorRef<AccountActor.Command> grantor) implements Command {}

  /** The account did not answer an Acquire ({@code scaleId} < 0) or a Scale in time. */
  record AccountSilent(long scaleId) implements Command {}

  enum RetryProvisioning implements Command { INSTANCE }

  /** A sandbox on another node ended without a word while running this invocation: its node was lost. */
  record NodeLost(String requestId, ActorRef<InvocationResult> replyTo) implements Command {}

  /** {@code bounced}: it came back from a sandbox that left before running it. */
  private record Waiting(Invoke invoke, boolean bounced) {
    Waiting(Invoke invoke) {
      this(invoke, false);
    }
  }

  /** Cold starts asked of the account's scaling rate, not answered yet. */
  private record ScaleAsk(long id, FunctionConfig config, int wanted) {}

  private static final String LEASE_TIMER = "lease-window";
  private static final String ACQUIRE_TIMER = "acquire";
  private static final String PROVISION_RETRY_TIMER = "provision-retry";
  private static final Duration ACCOUNT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration NODE_LOST_GRACE = Duration.ofSeconds(1);

  private final ActorContext<Command> ctx;
  private final ActorRef<WorkerActor.Command> worker;
  private final Deque<ActorRef<SandboxActor.Command>> idle = new ArrayDeque<>();
  private final Map<ActorRef<SandboxActor.Command>, String> live = new HashMap<>();
  // Invocations running on sandboxes of other nodes: if such a node is lost, nobody else answers them.
  private final Map<ActorRef<SandboxActor.Command>, NodeLost> remoteRunning = new HashMap<>();
  private final Deque<Waiting> waiting = new ArrayDeque<>();
  private final Map<String, Integer> starting = new HashMap<>();   // cold starts under way, per revision
  private String currentKey;
  private FunctionConfig currentConfig;   // set by the first Invoke; a Bounced always follows one
  private final ActorRef<ClusterSharding.ShardCommand> shard;   // null outside sharding (tests)
  private boolean deleted;      // the version is gone: once nothing is left, this actor leaves too
  private boolean passivating;
  // Concurrency accounting (account == null: off). Units held from the account, invocations
  // waiting for units, and the peak in flight during the current lease window.
  private final RecipientRef<AccountActor.Command> account;
  private final Duration leaseWindow;
  private final TimerScheduler<Command> timers;
  private final Deque<Invoke> admitting = new ArrayDeque<>();
  private final Deque<ScaleAsk> scaling = new ArrayDeque<>();
  private int held;
  private ActorRef<AccountActor.Command> grantor;
  // Provisioned concurrency: sandboxes kept initialised ahead of traffic, used first.
  private int provisionedTarget;
  private int provisionedStarting;
  private String provisionedFailure;
  private final java.util.Set<ActorRef<SandboxActor.Command>> provisioned = new java.util.HashSet<>();
  private final Deque<ActorRef<SandboxActor.Command>> idleProvisioned = new ArrayDeque<>();
  private boolean acquiring;
  private int peak;
  private long nextScaleId;
  // Invocations handed to sandboxes that left before running them: they come back as Bounced and
  // keep holding their unit meanwhile.
  private int inTransit;

  private final Metrics metrics;
  private AtomicInteger inFlightGauge;   // set once the version is known (first Invoke or Provision)
  private AtomicInteger idleGauge;
  private AtomicInteger busyGauge;

  private FunctionActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, ActorRef<WorkerActor.Command> worker,
      ActorRef<ClusterSharding.ShardCommand> shard, RecipientRef<AccountActor.Command> account, Duration leaseWindow,
      Metrics metrics) {
    this.ctx = ctx;
    this.metrics = metrics;
    this.timers = timers;
    this.worker = worker;
    this.shard = shard;
    this.account = account;
    this.leaseWindow = leaseWindow;
  }

  /** Without concurrency accounting and outside sharding (unit tests of routing). */
  public static Behavior<Command> create(ActorRef<WorkerActor.Command> worker) {
    return create(worker, null, null, Duration.ofSeconds(1), Metrics.inMemory());
  }

  /**
   * With {@code shard}, the actor of a deleted version passivates once its sandboxes are gone.
   * With {@code account}, every invocation in flight holds a unit of concurrency leased from it,
   * and cold starts take its scaling tokens; units unused for {@code leaseWindow} go back.
   */
  public static Behavior<Command> create(ActorRef<WorkerActor.Command> worker,
      ActorRef<ClusterSharding.ShardCommand> shard, RecipientRef<AccountActor.Command> account, Duration leaseWindow,
      Metrics metrics) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      FunctionActor actor = new FunctionActor(ctx, timers, worker, shard, account, leaseWindow, metrics);
      // After every message the gauges show the version's invocations in flight and sandboxes.
      return Behaviors.intercept(() -> new BehaviorInterceptor<Command, Command>(Command.class) {
        @Override
        public Behavior<Command> aroundReceive(TypedActorContext<Command> c, Command msg, ReceiveTarget<Command> target) {
          Behavior<Command> next = target.apply(c, msg);
          actor.updateGauges();
          return next;
        }
      }, actor.behavior());
    }));
  }

  /**
   * Starts the sharded function actors on this node; cold starts go to this node's worker.
   * {@code account} is null when concurrency accounting is off.
   */
  public static void initSharding(ActorSystem<?> system, ActorRef<WorkerActor.Command> worker,
      RecipientRef<AccountActor.Command> account, Duration leaseWindow, Metrics metrics) {
    // Passivation would orphan warm sandboxes; sandboxes age out by keep-alive instead.
    ClusterShardingSettings settings = ClusterShardingSettings.create(system).withNoPassivationStrategy();
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, ctx -> create(worker, ctx.getShard(), account, leaseWindow, metrics))
        .withSettings(settings)
        .withStopMessage(Shutdown.INSTANCE));
  }

  /** The entity id of a function version. */
  public static String entityId(String functionName, String version) {
    return functionName + ":" + version;
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(Invoke.class, this::onInvoke)
        .onMessage(SandboxReady.class, m -> {
          if (m.provisioned()) {
            provisionedStarting--;
            provisioned.add(m.sandbox());
          } else {
            startEnded(m.sandboxKey());
          }
          ctx.watch(m.sandbox());
          live.put(m.sandbox(), m.sandboxKey());
          return offer(m.sandbox(), m.sandboxKey());
        })
        .onMessage(Provision.class, this::onProvision)
        .onMessage(GetProvisioned.class, m -> {
          m.replyTo().tell(new ProvisionedStatus(provisionedTarget, provisioned.size(), provisionedFailure));
          return Behaviors.same();
        })
        .onMessage(SandboxIdle.class, m -> {
          remoteRunning.remove(m.sandbox());
          return offer(m.sandbox(), m.sandboxKey());
        })
        .onMessage(NodeLost.class, m -> {
          m.replyTo().tell(InvocationResult.refused(m.requestId(), LambdaError.Code.ServiceException,
              "The execution environment was lost with its node during the invocation; retry", null));
          return Behaviors.same();
        })
        .onMessage(SandboxFailed.class, m -> {
          if (m.provisioned()) {
            provisionedStarting--;
            // An init error would fail again at once: provisioning stops until it is set anew.
            provisionedFailure = m.errorType() + ": " + m.message();
            return leaveIfGone();
          }
          onSandboxFailed(m);
          return leaveIfGone();
        })
        .onMessage(SandboxGone.class, m -> {
          forget(m.sandbox());
          return leaveIfGone();
        })
        .onMessage(SandboxRetiring.class, m -> {
          if (live.containsKey(m.sandbox()) && !idle.contains(m.sandbox()) && !idleProvisioned.contains(m.sandbox())) {
            inTransit++;   // it was handed an invocation it will bounce
          }
          forget(m.sandbox());
          m.sandbox().tell(SandboxActor.RetireConfirmed.INSTANCE);
          return leaveIfGone();
        })
        .onMessage(Bounced.class, this::onBounced)
        .onMessage(PlacementFailed.class, m -> {
          if (m.provisioned()) {
            provisionedStarting--;
            if (LambdaError.Code.TooManyRequestsException.name().equals(m.errorCode())) {
              // No room now (memory): try again later rather than giving the pool up.
              timers.startSingleTimer(PROVISION_RETRY_TIMER, RetryProvisioning.INSTANCE, Duration.ofSeconds(1));
            } else {
              provisionedFailure = m.message();   // would fail again (too large, code unreadable)
            }
            return leaveIfGone();
          }
          onPlacementFailed(m);
          return leaveIfGone();
        })
        .onMessage(FunctionDeleted.class, m -> {
          switchRevision(null);
          deleted = true;
          inFlightGauge = null;   // its series were removed; a function created again registers anew
          return leaveIfGone();
        })
        .onMessage(Shutdown.class, m -> Behaviors.stopped())
        .onMessage(LeaseGranted.class, this::onLeaseGranted)
        .onMessage(ScaleGranted.class, this::onScaleGranted)
        .onMessage(LeaseWindowEnded.class, m -> onLeaseWindowEnded())
        .onMessage(GrantorGone.class, m -> {
          if (m.grantor().equals(grantor)) {
            held = 0;      // the account that counted them is gone; a new one starts from zero
            grantor = null;
          }
          return Behaviors.same();
        })
        .onMessage(AccountSilent.class, this::onAccountSilent)
        .onMessage(RetryProvisioning.class, m -> {
          refillProvisioned();
          acquireForProvisioning();
          return Behaviors.same();
        })
        .onSignal(Terminated.class, t -> {
          NodeLost lost = remoteRunning.remove(t.getRef());
          if (lost != null) {
            // A sandbox that stops answers its invocation first; from another node that answer may
            // still be on its way. Only when none came is the node gone: answer a little later.
            timers.startSingleTimer(lost, NODE_LOST_GRACE);
          }
          forget(t.getRef().unsafeUpcast());
          updateGauges();
          return leaveIfGone();
        })
        .onSignal(PostStop.class, s -> {
          live.keySet().forEach(sb -> sb.tell(new SandboxActor.Stop("function actor stopped")));
          waiting.forEach(w -> w.invoke().replyTo().tell(InvocationResult.refused(
              w.invoke().invocation().requestId(), LambdaError.Code.ServiceException,
              "The function was moved while the invocation waited; retry", null)));
          admitting.forEach(i -> i.replyTo().tell(InvocationResult.refused(i.invocation().requestId(),
              LambdaError.Code.ServiceException, "The function was moved while the invocation waited; retry", null)));
          // Units held go back by themselves: the account watches this actor.
          if (inFlightGauge != null) {
            inFlightGauge.set(0);
            idleGauge.set(0);
            busyGauge.set(0);
          }
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onInvoke(Invoke received) {
    deleted = false;   // created again under the same name
    Invoke invoke = received;
    FunctionConfig config = received.config();
    if (currentKey != null && config.lastModified().compareTo(currentConfig.lastModified()) < 0) {
      // Resolved from a configuration older than one already served (a cache that had not yet
      // heard of the update): run it on the current revision rather than switching back.
      invoke = new Invoke(currentConfig, received.invocation(), received.replyTo());
    } else {
      if (!config.sandboxKey().equals(currentKey)) {
        switchRevision(config.sandboxKey());
      }
      currentConfig = config;
    }
    if (account == null || (admitting.isEmpty() && inFlight() < held)) {
      run(invoke);
    } else {
      admitting.addLast(invoke);
      acquire();
    }
    return Behaviors.same();
  }

  /**
   * Keeps {@code target} provisioned sandboxes of the version: starts the missing ones (and holds
   * as many units of concurrency for them), stops idle ones beyond the target.
   */
  private Behavior<Command> onProvision(Provision p) {
    if (!p.config().sandboxKey().equals(currentKey)
        && (currentConfig == null || p.config().lastModified().compareTo(currentConfig.lastModified()) >= 0)) {
      switchRevision(p.config().sandboxKey());
      currentConfig = p.config();
    }
    if (p.target() > 0) {
      deleted = false;
    } else if (live.isEmpty() && waiting.isEmpty() && admitting.isEmpty()) {
      deleted = true;   // nothing to keep here (perhaps started just for this message): may leave
    }
    provisionedTarget = p.target();
    provisionedFailure = null;
    refillProvisioned();
    acquireForProvisioning();
    return leaveIfGone();
  }

  /** Leases the units the provisioned sandboxes stand for, when some are missing. */
  private void acquireForProvisioning() {
    if (account != null && held < provisionedTarget && !acquiring && currentConfig != null) {
      sendAcquire(provisionedTarget - held, 0);
    }
  }

  private void sendAcquire(int needed, int extra) {
    acquiring = true;
    timers.startSingleTimer(ACQUIRE_TIMER, new AccountSilent(-1), ACCOUNT_TIMEOUT);
    account.tell(new AccountActor.Acquire(currentConfig.name(), needed, extra, ctx.getSelf()));
  }

  private void refillProvisioned() {
    while (provisioned.size() > provisionedTarget && !idleProvisioned.isEmpty()) {
      ActorRef<SandboxActor.Command> surplus = idleProvisioned.pollLast();
      provisioned.remove(surplus);
      live.remove(surplus);
      surplus.tell(new SandboxActor.Stop("provisioned concurrency lowered"));
    }
    if (provisionedFailure != null || currentConfig == null || currentKey == null) {
      return;
    }
    // With accounting, every provisioned sandbox stands for a unit held: never more than that.
    int allowed = account == null ? provisionedTarget : Math.min(provisionedTarget, held);
    while (provisioned.size() + provisionedStarting < allowed) {
      provisionedStarting++;
      worker.tell(new WorkerActor.StartSandbox(currentConfig, ctx.getSelf(), true));
    }
  }

  /** Runs an admitted invocation: on a warm sandbox, else it waits for a cold start. */
  private void run(Invoke invoke) {
    ActorRef<SandboxActor.Command> sandbox = idleProvisioned.isEmpty() ? idle.pollFirst() : idleProvisioned.pollFirst();
    if (sandbox != null) {
      dispatch(sandbox, invoke.invocation(), invoke.replyTo());
    } else {
      waiting.addLast(new Waiting(invoke));
      refillStarts();
    }
    peak = Math.max(peak, inFlight());
  }

  /** Invocations holding concurrency: waiting for a sandbox, or running on one. */
  private int inFlight() {
    return waiting.size() + live.size() - idle.size() - idleProvisioned.size() + inTransit;
  }

  /** Asks the account for the units the admitting invocations need, plus as many to hold. */
  private void acquire() {
    if (acquiring || admitting.isEmpty()) {
      return;
    }
    int needed = Math.max(1, inFlight() + admitting.size() - held);
    sendAcquire(needed, needed);
  }

  /**
   * The account did not answer: the invocations that waited for it get a ServiceException rather
   * than waiting forever (an answer that comes later still counts).
   */
  private Behavior<Command> onAccountSilent(AccountSilent silent) {
    if (silent.scaleId() < 0) {
      acquiring = false;
      while (!admitting.isEmpty()) {
        Invoke i = admitting.pollFirst();
        i.replyTo().tell(InvocationResult.refused(i.invocation().requestId(), LambdaError.Code.ServiceException,
            "The account's concurrency could not be reached in time; retry", null));
      }
      return leaveIfGone();
    }
    ScaleAsk ask = null;
    for (ScaleAsk a : scaling) {
      if (a.id() == silent.scaleId()) {
        ask = a;
      }
    }
    if (ask != null) {
      scaling.remove(ask);
      for (int i = 0; i < ask.wanted(); i++) {
        startEnded(ask.config().sandboxKey());
        if (waiting.size() > starting.getOrDefault(ask.config().sandboxKey(), 0)) {
          Invoke lost = waiting.pollLast().invoke();
          lost.replyTo().tell(InvocationResult.refused(lost.invocation().requestId(),
              LambdaError.Code.ServiceException, "The account's scaling rate could not be reached in time; retry",
              null));
        }
      }
    }
    return leaveIfGone();
  }

  private Behavior<Command> onLeaseGranted(LeaseGranted granted) {
    acquiring = false;
    timers.cancel(ACQUIRE_TIMER);
    if (!granted.grantor().equals(grantor)) {
      if (grantor != null) {
        ctx.unwatch(grantor);
        held = 0;   // units of an earlier account incarnation are not counted by this one
      }
      grantor = granted.grantor();
      ctx.watchWith(grantor, new GrantorGone(grantor));
    }
    held += granted.units();
    refillProvisioned();
    if (account != null && held < provisionedTarget) {
      // Short of units for the provisioned sandboxes: ask again later, not in a tight loop.
      timers.startSingleTimer(PROVISION_RETRY_TIMER, RetryProvisioning.INSTANCE, Duration.ofSeconds(1));
    }
    if (held > 0 && !timers.isTimerActive(LEASE_TIMER)) {
      timers.startTimerWithFixedDelay(LEASE_TIMER, LeaseWindowEnded.INSTANCE, leaseWindow);
    }
    while (!admitting.isEmpty() && inFlight() < held) {
      run(admitting.pollFirst());
    }
    if (!admitting.isEmpty()) {
      if (granted.shortReason() != null) {
        while (!admitting.isEmpty()) {
          throttle(admitting.pollFirst(), granted.shortReason());
        }
      } else {
        acquire();   // more arrived while the account was asked
      }
    }
    return leaveIfGone();
  }

  /** Units not needed at any moment of the window that ended go back to the account. */
  private Behavior<Command> onLeaseWindowEnded() {
    int keep = Math.max(Math.max(peak, inFlight() + admitting.size()), Math.min(provisionedTarget, held));
    if (held > keep && grantor != null) {
      grantor.tell(new AccountActor.Release(ctx.getSelf(), held - keep));
      held = keep;
    }
    peak = inFlight();
    if (held == 0) {
      timers.cancel(LEASE_TIMER);
    }
    return Behaviors.same();
  }

  private void throttle(Invoke invoke, String reason) {
    metrics.throttled(invoke.config().name(), reason);
    invoke.replyTo().tell(InvocationResult.refused(invoke.invocation().requestId(),
        LambdaError.Code.TooManyRequestsException, "Rate Exceeded.", reason));
  }

  private void updateGauges() {
    if (currentConfig == null || deleted) {
      return;   // a deleted version's series are gone from the scrape: nothing to show
    }
    if (inFlightGauge == null) {
      inFlightGauge = metrics.concurrentExecutions(currentConfig.name(), currentConfig.version());
      idleGauge = metrics.sandboxes(currentConfig.name(), currentConfig.version(), "idle");
      busyGauge = metrics.sandboxes(currentConfig.name(), currentConfig.version(), "busy");
    }
    inFlightGauge.set(inFlight());
    idleGauge.set(idle.size() + idleProvisioned.size());
    busyGauge.set(live.size() - idle.size() - idleProvisioned.size());
  }

  /** Runs a bounced invocation next, on the current configuration. */
  private Behavior<Command> onBounced(Bounced bounced) {
    if (inTransit > 0) {
      inTransit--;
    }
    if (currentConfig == null) {
      // A new incarnation of this actor knows no configuration to run it with: the caller retries.
      bounced.replyTo().tell(InvocationResult.refused(bounced.invocation().requestId(),
          LambdaError.Code.ServiceException, "The function was moved while the invocation waited; retry", null));
      return leaveIfGone();
    }
    Invoke invoke = new Invoke(currentConfig, bounced.invocation(), bounced.replyTo());
    ActorRef<SandboxActor.Command> sandbox = idleProvisioned.isEmpty() ? idle.pollFirst() : idleProvisioned.pollFirst();
    if (sandbox != null) {
      dispatch(sandbox, invoke.invocation(), invoke.replyTo());
    } else {
      waiting.addFirst(new Waiting(invoke, true));
      refillStarts();
    }
    return Behaviors.same();
  }

  /** A new configuration (null: the function is gone): sandboxes of the old one must not serve it. */
  private void switchRevision(String key) {
    currentKey = key;
    for (ActorRef<SandboxActor.Command> sandbox : idle) {
      sandbox.tell(new SandboxActor.Stop("function updated"));
      live.remove(sandbox);
    }
    idle.clear();
    for (ActorRef<SandboxActor.Command> sandbox : idleProvisioned) {
      sandbox.tell(new SandboxActor.Stop("function updated"));
      live.remove(sandbox);
      provisioned.remove(sandbox);
    }
    idleProvisioned.clear();
    if (key == null) {
      provisionedTarget = 0;
    }
  }

  /** A sandbox can work: give it the oldest waiting invocation, else keep it warm. */
  private Behavior<Command> offer(ActorRef<SandboxActor.Command> sandbox, String key) {
    if (currentKey == null && !waiting.isEmpty()) {
      // Deleted meanwhile: finish what was accepted before, then let the sandbox go.
      Waiting next = waiting.pollFirst();
      dispatch(sandbox, next.invoke().invocation(), next.invoke().replyTo());
      return Behaviors.same();
    }
    boolean isProvisioned = provisioned.contains(sandbox);
    if (!key.equals(currentKey) || (isProvisioned && provisioned.size() > provisionedTarget)) {
      sandbox.tell(new SandboxActor.Stop(key.equals(currentKey) ? "provisioned concurrency lowered" : "function updated"));
      live.remove(sandbox);
      provisioned.remove(sandbox);
      refillStarts();
      return leaveIfGone();
    }
    Waiting next = waiting.pollFirst();
    if (next != null) {
      dispatch(sandbox, next.invoke().invocation(), next.invoke().replyTo());
    } else if (isProvisioned) {
      idleProvisioned.addFirst(sandbox);
    } else {
      idle.addFirst(sandbox);
    }
    return Behaviors.same();
  }

  private Behavior<Command> onSandboxFailed(SandboxFailed failed) {
    startEnded(failed.sandboxKey());
    forget(failed.sandbox());
    if (isStale(failed.sandboxKey())) {
      refillStarts();  // an old revision's start failed: the waiting invocations need new ones
      return Behaviors.same();
    }
    Waiting head = waiting.pollFirst();
    if (head != null) {
      String requestId = head.invoke().invocation().requestId();
      ByteString payload = failed.payload() != null ? failed.payload()
          : ByteString.fromString(Json.error(failed.errorType(), "RequestId: " + requestId + " Error: "
              + failed.message()));
      String tail = head.invoke().invocation().tailLog() ? LogTail.of(failed.initLog()) : null;
      head.invoke().replyTo().tell(InvocationResult.ran(requestId, payload, true, head.invoke().config().version(),
          tail));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onPlacementFailed(PlacementFailed failed) {
    startEnded(failed.sandboxKey());
    if (isStale(failed.sandboxKey())) {
      refillStarts();
      return Behaviors.same();
    }
    Waiting head = waiting.pollFirst();
    if (head != null) {
      if (failed.reason() != null) {
        metrics.throttled(head.invoke().config().name(), failed.reason());
      }
      head.invoke().replyTo().tell(InvocationResult.refused(head.invoke().invocation().requestId(),
          LambdaError.Code.valueOf(failed.errorCode()), failed.message(), failed.reason()));
    }
    return Behaviors.same();
  }

  /**
   * After its version was deleted, the actor asks its shard to stop it once no sandbox, start or
   * invocation is left: deleted versions do not keep actors resident. A message that arrives
   * meanwhile starts a new one.
   */
  private Behavior<Command> leaveIfGone() {
    if (deleted && !passivating && shard != null && live.isEmpty() && waiting.isEmpty() && starting.isEmpty()
        && admitting.isEmpty() && provisionedStarting == 0 && inTransit == 0) {
      passivating = true;
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    }
    return Behaviors.same();
  }

  /** Hands an invocation to a sandbox; one on another node is remembered until it is idle again. */
  private void dispatch(ActorRef<SandboxActor.Command> sandbox, Invocation invocation,
      ActorRef<InvocationResult> replyTo) {
    sandbox.tell(new SandboxActor.Invoke(invocation, replyTo));
    if (sandbox.path().address().hasGlobalScope()) {
      remoteRunning.put(sandbox, new NodeLost(invocation.requestId(), replyTo));
    }
  }

  private void forget(ActorRef<SandboxActor.Command> sandbox) {
    remoteRunning.remove(sandbox);
    idle.remove(sandbox);
    live.remove(sandbox);
    idleProvisioned.remove(sandbox);
    if (provisioned.remove(sandbox)) {
      refillProvisioned();   // a provisioned sandbox died: it is re-created
      acquireForProvisioning();
    }
  }

  /**
   * Keeps one cold start of the current revision under way per waiting invocation. Starts of an
   * older revision do not count: their sandboxes will be stopped as stale.
   */
  private void refillStarts() {
    if (waiting.isEmpty()) {
      return;
    }
    FunctionConfig config = currentKey != null ? currentConfig : waiting.peekLast().invoke().config();
    int wanted = waiting.size() - starting.getOrDefault(config.sandboxKey(), 0);
    if (wanted <= 0) {
      return;
    }
    starting.merge(config.sandboxKey(), wanted, Integer::sum);
    if (account == null) {
      for (int i = 0; i < wanted; i++) {
        worker.tell(startFor(config));
      }
    } else {
      // New execution environments take scaling tokens; the starts count as under way meanwhile.
      long id = nextScaleId++;
      scaling.addLast(new ScaleAsk(id, config, wanted));
      timers.startSingleTimer("scale-" + id, new AccountSilent(id), ACCOUNT_TIMEOUT);
      account.tell(new AccountActor.Scale(id, config.name(), wanted, ctx.getSelf()));
    }
  }

  /**
   * Starts what the scaling rate allows; invocations that would have needed the others are
   * throttled (the newest first), as Lambda does when a function scales faster than allowed.
   */
  private Behavior<Command> onScaleGranted(ScaleGranted granted) {
    ScaleAsk ask = null;
    for (ScaleAsk a : scaling) {
      if (a.id() == granted.id()) {
        ask = a;
      }
    }
    if (ask == null) {
      return Behaviors.same();   // answered too late: its invocations were answered already
    }
    scaling.remove(ask);
    timers.cancel("scale-" + ask.id());
    for (int i = 0; i < granted.starts(); i++) {
      worker.tell(startFor(ask.config()));
    }
    String key = ask.config().sandboxKey();
    for (int i = granted.starts(); i < ask.wanted(); i++) {
      startEnded(key);
      if (waiting.size() > starting.getOrDefault(key, 0)) {
        if (waiting.peekLast().bounced()) {
          // A bounced invocation replaces an environment that went away: that is not scaling.
          starting.merge(key, 1, Integer::sum);
          worker.tell(startFor(ask.config()));
        } else {
          throttle(waiting.pollLast().invoke(), granted.shortReason());
        }
      }
    }
    return leaveIfGone();
  }

  /**
   * A cold start for the invocations waiting; placement prefers the node the newest of them came
   * through (its caller's address; a caller on this node leaves the choice to this node).
   */
  private WorkerActor.StartSandbox startFor(FunctionConfig config) {
    String near = null;
    Waiting newest = waiting.peekLast();
    if (newest != null && newest.invoke().replyTo().path().address().hasGlobalScope()) {
      near = newest.invoke().replyTo().path().address().toString();
    }
    return new WorkerActor.StartSandbox(config, ctx.getSelf(), false, near, false);
  }

  /** A start of {@code key} ended (ready, failed or refused). */
  private void startEnded(String key) {
    starting.computeIfPresent(key, (k, n) -> n > 1 ? n - 1 : null);
  }

  /** True when {@code key} is an older revision than the one now served (not after a delete). */
  private boolean isStale(String key) {
    return currentKey != null && !currentKey.equals(key);
  }
}
