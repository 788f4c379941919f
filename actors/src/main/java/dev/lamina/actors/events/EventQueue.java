package dev.lamina.actors.events;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.events.EventDispatch.Attempt;
import dev.lamina.actors.events.EventDispatch.Kind;
import dev.lamina.actors.metrics.Metrics;
import dev.lamina.actors.registry.EventInvokeConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.apache.pekko.util.ByteString;

/**
 * The durable queue of asynchronous ({@code Event}) invocations of one function, or of one
 * partition of it (entity id {@code name#partition}): the front end answers {@code 202} only once
 * {@link Enqueue} is in the journal.
 *
 * <p>Contract: every accepted event runs at least once, or ends in failure handling (on-failure
 * destination and/or the function's DLQ) or, when the function was deleted, is dropped and
 * counted. Function errors are retried {@code MaximumRetryAttempts} times after the configured
 * delays; throttles and system errors are retried with exponential backoff until the event is
 * older than {@code MaximumEventAgeInSeconds}. An event leaves the journal ({@link Finished}) only
 * after its outcome and its records are handled, so a crash runs it again (duplicates only across
 * a crash).
 *
 * <p>States per event: ready (queued, due), delayed (waiting for its retry time), busy (an attempt
 * or a delivery is running, or it is finished and waits for the journal write). At most
 * {@code partitionConcurrency} attempts run at once; a throttle halves that window, successes grow
 * it back one by one, so a queue deeper than the function's concurrency does not spin on 429s.
 */
public final class EventQueue extends EventSourcedBehavior<EventQueue.Command, EventQueue.Event, EventQueue.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "EventQueue");

  public static String entityId(String function, int partition) {
    return function + "#" + partition;
  }

  public sealed interface Command extends CborSerializable
      permits Enqueue, Wake, GetDepth, Due, Outcome, Delivered, DeliveryFailed, Redeliver, Flush, Idle, AcceptNow,
          Stop, DropQueued {}

  /** Accepts one event; the reply ({@link Accepted}) comes once it is durable. */
  public record Enqueue(String requestId, String qualifier, byte[] payload, ActorRef<Accepted> replyTo)
      implements Command {}

  public record Accepted(String requestId) implements CborSerializable {}

  /** Starts the entity (after a restart) so that it dispatches what its journal holds. */
  public record Wake() implements Command {}

  /**
   * The function was deleted: its queued events are dropped, those running now included (what
   * their attempts answer later is ignored).
   */
  public record DropQueued() implements Command {}

  /** Events held, and how many of them are running or waiting for a retry. */
  public record GetDepth(ActorRef<Depth> replyTo) implements Command {}

  public record Depth(int queued, int busy, int delayed) implements CborSerializable {}

  private record Due() implements Command {}

  private record Outcome(long epoch, String requestId, Attempt attempt) implements Command {}

  private record Delivered(long epoch, String requestId) implements Command {}

  private record DeliveryFailed(long epoch, String requestId, Delivery delivery, String error) implements Command {}

  private record Redeliver(long epoch, String requestId, Delivery delivery) implements Command {}

  private record Flush() implements Command {}

  private record Idle() implements Command {}

  /** Writes the events accepted since the last write, in one journal write. */
  private record AcceptNow() implements Command {}

  /**
   * Sharding's stop message after a passivation. Work that raced with it (events being accepted,
   * events queued) is handed to the next incarnation, which sharding starts for it.
   */
  private record Stop() implements Command {}

  public sealed interface Event extends CborSerializable permits Queued, Rescheduled, Finished {}

  public record Queued(String requestId, String qualifier, byte[] payload, long acceptedAt) implements Event {}

  /** After a failed attempt: the counts so far and when the next attempt may start. */
  public record Rescheduled(String requestId, int invokeCount, int functionErrors, int throttles, long notBefore)
      implements Event {}

  /** These events are done (ran, handled, or dropped). */
  public record Finished(List<String> requestIds) implements Event {}

  /** One event waiting in the queue. Mutated only by the event handler. */
  private static final int MAX_BATCH = 500;

  static final class Pending {
    final String requestId;
    final String qualifier;
    final byte[] payload;
    final long acceptedAt;
    int invokeCount;
    int functionErrors;
    int throttles;
    long notBefore;

    Pending(String requestId, String qualifier, byte[] payload, long acceptedAt) {
      this.requestId = requestId;
      this.qualifier = qualifier;
      this.payload = payload;
      this.acceptedAt = acceptedAt;
    }
  }

  private record Timed(String requestId, long notBefore) {}

  /**
   * The queue. {@code pending} and the order of {@code ready} / {@code delayed} follow from the
   * journal; {@code busy}, {@code toFinish} and {@code window} live in memory only.
   */
  public static final class State {
    final Map<String, Pending> pending = new HashMap<>();
    final ArrayDeque<String> ready = new ArrayDeque<>();
    final PriorityQueue<Timed> delayed = new PriorityQueue<>(Comparator.comparingLong(Timed::notBefore));
    final Set<String> busy = new HashSet<>();
    final List<String> toFinish = new ArrayList<>();
    final List<Enqueue> accepting = new ArrayList<>();
    boolean acceptQueued;
    /**
     * This incarnation: results of attempts and deliveries started by an earlier one (before a
     * restart) carry another epoch and are ignored, since recovery starts those events afresh.
     */
    final long epoch = java.util.concurrent.ThreadLocalRandom.current().nextLong();
    int running;
    int window;
  }

  /** The journal's form of the state: what is queued, with its counts. */
  public record Snapshot(List<Queued> events, List<Rescheduled> counts) implements CborSerializable {}

  /** A record on its way to destinations: {@code targets} still to reach. */
  private record Delivery(boolean success, List<String> targets, ByteString body, List<String> dlqTargets,
      ByteString dlqBody, List<EventDispatch.Attribute> dlqAttributes, String sourceArn, int tries) {}

  private final String function;
  private final String entityId;
  private final EventSettings settings;
  private final EventDispatch dispatch;
  private final Clock clock;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final Metrics metrics;
  private final Consumer<ActorRef<Command>> passivate;
  private final org.slf4j.Logger log;
  private int reportedDepth;
  private Metrics.EventMeters depthOwner;

  private EventQueue(String entityId, EventSettings settings, EventDispatch dispatch, Clock clock,
      ActorContext<Command> ctx, TimerScheduler<Command> timers, Metrics metrics,
      Consumer<ActorRef<Command>> passivate) {
    // A failed journal write or recovery restarts the entity (from the journal) instead of
    // stopping it: sharding would not start it again until the next message.
    super(PersistenceId.of(TYPE_KEY.name(), entityId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.entityId = entityId;
    this.function = entityId.substring(0, entityId.lastIndexOf('#'));
    this.settings = settings;
    this.dispatch = dispatch;
    this.clock = clock;
    this.ctx = ctx;
    ctx.setLoggerName(EventQueue.class);   // else a Pekko class names the logger (filtered to WARN)
    this.timers = timers;
    this.metrics = metrics;
    this.passivate = passivate;
    this.log = ctx.getLog();
  }

  public static Behavior<Command> create(String entityId, EventSettings settings, EventDispatch dispatch, Clock clock,
      Metrics metrics, Consumer<ActorRef<Command>> passivate) {
    // Any other failure restarts it too: its state is the journal.
    return Behaviors.supervise(Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers ->
            new EventQueue(entityId, settings, dispatch, clock, ctx, timers, metrics, passivate))))
        .onFailure(Exception.class,
            SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
  }

  /** Registers the entity type. An empty partition passivates itself (no timer may be lost). */
  public static void initSharding(ActorSystem<?> system, EventSettings settings, EventDispatch dispatch, Clock clock,
      Metrics metrics) {
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), settings, dispatch, clock, metrics,
            self -> ctx.getShard().tell(new ClusterSharding.Passivate<>(self))))
        .withStopMessage(new Stop())
        // Remembered: after a node is lost its partitions start again wherever their shards land,
        // and run what they hold without waiting for a new event.
        .withSettings(ClusterShardingSettings.create(system).withNoPassivationStrategy().withRememberEntities(true)));
  }

  /**
   * The function's meters, looked up on each use: deleting a function removes its series, and a
   * function created again under the name must count into fresh ones.
   */
  private Metrics.EventMeters meters() {
    return metrics.events(function);
  }

  @Override
  public State emptyState() {
    State s = new State();
    s.window = settings.partitionConcurrency();
    return s;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2).withDeleteEventsOnSnapshot();
  }

  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        List<Queued> events = new ArrayList<>(state.pending.size());
        List<Rescheduled> counts = new ArrayList<>();
        for (Pending p : state.pending.values()) {
          events.add(new Queued(p.requestId, p.qualifier, p.payload, p.acceptedAt));
          if (p.invokeCount > 0 || p.notBefore > 0) {
            counts.add(new Rescheduled(p.requestId, p.invokeCount, p.functionErrors, p.throttles, p.notBefore));
          }
        }
        events.sort(Comparator.comparingLong(Queued::acceptedAt));
        return new Snapshot(events, counts);
      }

      @Override
      public State fromJournal(Object from) {
        State state = emptyState();
        Snapshot snapshot = (Snapshot) from;
        snapshot.events().forEach(e -> apply(state, e));
        snapshot.counts().forEach(e -> apply(state, e));
        return state;
      }
    };
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          dispatch(state);
        })
        .onSignal(PreRestart.instance(), state -> withdrawDepth())
        .onSignal(PostStop.instance(), state -> withdrawDepth())
        .build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Enqueue.class, this::onEnqueue)
        .onCommand(Wake.class, (state, cmd) -> Effect().none().thenRun(this::dispatch))
        .onCommand(GetDepth.class, (state, cmd) -> Effect().reply(cmd.replyTo(),
            new Depth(state.pending.size(), state.busy.size(), state.delayed.size())))
        .onCommand(Due.class, (state, cmd) -> Effect().none().thenRun(this::dispatch))
        .onCommand(Outcome.class, (state, cmd) -> cmd.epoch() != state.epoch ? Effect().none()
            : onOutcome(state, cmd))
        .onCommand(Delivered.class, (state, cmd) -> cmd.epoch() != state.epoch ? Effect().none()
            : Effect().none().thenRun(s -> finish(s, cmd.requestId())))
        .onCommand(DeliveryFailed.class, (state, cmd) -> cmd.epoch() != state.epoch ? Effect().none()
            : onDeliveryFailed(state, cmd))
        .onCommand(Redeliver.class, (state, cmd) -> cmd.epoch() != state.epoch ? Effect().none()
            : Effect().none().thenRun(s -> deliver(s, cmd.requestId(),
            cmd.delivery())))
        .onCommand(Flush.class, this::onFlush)
        .onCommand(AcceptNow.class, this::onAcceptNow)
        .onCommand(DropQueued.class, (state, cmd) -> {
          // Running ones too: their late outcomes find nothing (their function is gone anyway).
          List<String> dropped = List.copyOf(state.pending.keySet());
          if (dropped.isEmpty()) {
            return Effect().none();
          }
          // Logged, not counted: the deleted function's series left the scrape with it.
          log.info("{} queued event(s) of {} dropped: the function was deleted", dropped.size(), function);
          return Effect().persist(new Finished(dropped)).thenRun(this::dispatch);
        })
        .onCommand(Idle.class, (state, cmd) -> {
          if (idle(state)) {
            passivate.accept(ctx.getSelf());
          }
          return Effect().none();
        })
        .onCommand(Stop.class, (state, cmd) -> {
          if (!idle(state)) {
            var next = ClusterSharding.get(ctx.getSystem()).entityRefFor(TYPE_KEY, entityId);
            state.accepting.forEach(next::tell);
            next.tell(new Wake());
          }
          // What already ran is written finished first, so the next incarnation does not run it again.
          return state.toFinish.isEmpty() ? Effect().stop()
              : Effect().persist(new Finished(List.copyOf(state.toFinish))).thenStop();
        })
        .build();
  }

  /**
   * Group commit: events that arrive while a journal write is running wait (stashed by Pekko), are
   * gathered when it ends, and go into the journal together in the next write.
   */
  private static boolean idle(State s) {
    return s.pending.isEmpty() && s.busy.isEmpty() && s.accepting.isEmpty() && !s.acceptQueued
        && s.toFinish.isEmpty();
  }

  private Effect<Event, State> onEnqueue(State state, Enqueue cmd) {
    timers.cancel("idle");
    if (state.pending.containsKey(cmd.requestId())) {
      return Effect().reply(cmd.replyTo(), new Accepted(cmd.requestId()));  // a retried hand-over
    }
    state.accepting.add(cmd);
    if (!state.acceptQueued) {
      state.acceptQueued = true;
      ctx.getSelf().tell(new AcceptNow());
    }
    return Effect().none();
  }

  private Effect<Event, State> onAcceptNow(State state, AcceptNow cmd) {
    state.acceptQueued = false;
    if (state.accepting.isEmpty()) {
      return Effect().none();
    }
    List<Enqueue> batch;
    if (state.accepting.size() <= MAX_BATCH) {
      batch = List.copyOf(state.accepting);
      state.accepting.clear();
    } else {
      List<Enqueue> head = state.accepting.subList(0, MAX_BATCH);
      batch = List.copyOf(head);
      head.clear();
      state.acceptQueued = true;
      ctx.getSelf().tell(new AcceptNow());  // the rest in the next write
    }
    long now = clock.millis();
    Set<String> seen = new HashSet<>();
    List<Event> events = new ArrayList<>(batch.size());
    for (Enqueue e : batch) {
      if (seen.add(e.requestId()) && !state.pending.containsKey(e.requestId())) {
        events.add(new Queued(e.requestId(), e.qualifier(), e.payload(), now));
      }
    }
    if (events.isEmpty()) {
      batch.forEach(e -> e.replyTo().tell(new Accepted(e.requestId())));
      return Effect().none();
    }
    return Effect().persist(events).thenRun(s -> {
      meters().accepted().increment(events.size());
      batch.forEach(e -> e.replyTo().tell(new Accepted(e.requestId())));
      dispatch(s);
    });
  }

  /** Starts attempts while the window allows, and arms the timer for the next delayed event. */
  private void dispatch(State s) {
    long now = clock.millis();
    while (!s.delayed.isEmpty() && s.delayed.peek().notBefore() <= now) {
      Timed due = s.delayed.poll();
      Pending p = s.pending.get(due.requestId());
      if (p != null && p.notBefore == due.notBefore()) {
        s.ready.add(due.requestId());
      }
    }
    while (s.running < s.window && !s.ready.isEmpty()) {
      String id = s.ready.poll();
      Pending p = s.pending.get(id);
      if (p == null || s.busy.contains(id) || p.notBefore > now) {
        continue;  // gone, running, or (after recovery) waiting in delayed for its retry time
      }
      s.busy.add(id);
      s.running++;
      meters().dispatched().increment();
      meters().ageAtDispatch().record(Math.max(0, now - p.acceptedAt), TimeUnit.MILLISECONDS);
      ctx.pipeToSelf(dispatch.run(function, p.qualifier, id, ByteString.fromArrayUnsafe(p.payload), p.acceptedAt),
          (attempt, failure) -> new Outcome(s.epoch, id, attempt != null ? attempt : systemError(failure)));
    }
    if (!s.delayed.isEmpty()) {
      timers.startSingleTimer("due", new Due(), Duration.ofMillis(Math.max(1, s.delayed.peek().notBefore() - now)));
    }
    if (idle(s)) {
      timers.startSingleTimer("idle", new Idle(), settings.idlePassivation());
    } else {
      timers.cancel("idle");
    }
    reportDepth(s);
  }

  /**
   * Keeps the function's queued-events gauge at the sum of its partitions' pending events. The
   * gauge this partition added to may be gone (the function was deleted) or replaced (created
   * again): then it starts over on the current one, and never brings a deleted function's back.
   */
  private void reportDepth(State s) {
    if (depthOwner == null && s.pending.isEmpty()) {
      return;  // nothing to add: no reason to create the function's series (it may be deleted)
    }
    Metrics.EventMeters current = depthOwner == null ? meters() : metrics.eventsIfPresent(function);
    if (current != depthOwner) {
      reportedDepth = 0;
      depthOwner = current;
    }
    int now = s.pending.size();
    if (current != null && now != reportedDepth) {
      current.depth().addAndGet(now - reportedDepth);
      reportedDepth = now;
    }
  }

  /** Takes this partition's share out of the gauge (it stops or restarts). */
  private void withdrawDepth() {
    if (depthOwner != null && metrics.eventsIfPresent(function) == depthOwner) {
      depthOwner.depth().addAndGet(-reportedDepth);
    }
    reportedDepth = 0;
    depthOwner = null;
  }

  private static Attempt systemError(Throwable failure) {
    return new Attempt(Kind.SYSTEM_ERROR, null, null, null, null, null, null, 500, "ServiceException",
        String.valueOf(failure));
  }

  private Effect<Event, State> onOutcome(State state, Outcome cmd) {
    state.running--;
    Pending p = state.pending.get(cmd.requestId());
    Attempt a = cmd.attempt();
    if (p == null) {
      state.busy.remove(cmd.requestId());
      return Effect().none().thenRun(this::dispatch);
    }
    EventInvokeConfig config = a.config();
    int maxRetries = config == null ? EventInvokeConfig.DEFAULT_RETRY_ATTEMPTS : config.retryAttempts();
    long maxAgeMillis = 1000L * (config == null ? EventInvokeConfig.DEFAULT_EVENT_AGE_SECONDS
        : config.eventAgeSeconds());
    long now = clock.millis();
    int invokeCount = p.invokeCount + (ran(a.kind()) ? 1 : 0);
    switch (a.kind()) {
      case SUCCESS -> {
        state.window = Math.min(settings.partitionConcurrency(), state.window + 1);
        return handle(state, p, a, invokeCount, "Success");
      }
      case FUNCTION_ERROR -> {
        int errors = p.functionErrors + 1;
        if (errors > maxRetries) {
          meters().retriesExhausted().increment();
          return handle(state, p, a, invokeCount, "RetriesExhausted");
        }
        long next = now + settings.retryDelay(errors).toMillis();
        if (next - p.acceptedAt > maxAgeMillis) {
          meters().expired().increment();
          return handle(state, p, a, invokeCount, "EventAgeExceeded");
        }
        return reschedule(state, new Rescheduled(p.requestId, invokeCount, errors, p.throttles, next));
      }
      case THROTTLED, SYSTEM_ERROR -> {
        if (a.kind() == Kind.THROTTLED) {
          state.window = Math.max(1, state.window / 2);
        }
        int throttles = p.throttles + 1;
        long next = now + settings.backoff(throttles).toMillis();
        if (next - p.acceptedAt > maxAgeMillis) {
          meters().expired().increment();
          return handle(state, p, a, invokeCount, "EventAgeExceeded");
        }
        return reschedule(state, new Rescheduled(p.requestId, invokeCount, p.functionErrors, throttles, next));
      }
      case EXPIRED -> {
        meters().expired().increment();
        return handle(state, p, a, invokeCount, "EventAgeExceeded");
      }
      case RESERVED_ZERO -> {
        meters().retriesExhausted().increment();
        return handle(state, p, a, invokeCount, "RetriesExhausted");
      }
      default -> {
        log.info("event {} of {} dropped: the function or its qualifier {} no longer exists", p.requestId, function,
            p.qualifier);
        meters().discarded().increment();
        return Effect().none().thenRun(s -> finish(s, p.requestId));
      }
    }
  }

  private static boolean ran(Kind kind) {
    return kind == Kind.SUCCESS || kind == Kind.FUNCTION_ERROR;
  }

  private Effect<Event, State> reschedule(State state, Rescheduled next) {
    meters().retried().increment();
    return Effect().persist(next).thenRun(s -> {
      s.busy.remove(next.requestId());
      dispatch(s);
    });
  }

  /**
   * The event is done: a success record goes to the on-success destination, a failure record to
   * the on-failure destination and the original event to the DLQ; then the event is finished.
   */
  private Effect<Event, State> handle(State state, Pending p, Attempt a, int invokeCount, String condition) {
    boolean success = condition.equals("Success");
    EventInvokeConfig config = a.config();
    List<String> targets = new ArrayList<>();
    String destination = config == null ? null : success ? config.onSuccess() : config.onFailure();
    if (destination != null) {
      targets.add(destination);
    }
    List<String> dlq = !success && a.deadLetterArn() != null ? List.of(a.deadLetterArn()) : List.of();
    if (targets.isEmpty() && dlq.isEmpty()) {
      if (!success) {
        log.info("event {} of {} failed ({}) and has no destination or DLQ: discarded", p.requestId, function,
            condition);
        meters().discarded().increment();
      }
      return Effect().none().thenRun(s -> finish(s, p.requestId));
    }
    ByteString record = targets.isEmpty() ? null
        : DestinationRecord.of(p.requestId, a, condition, invokeCount, p.payload, clock.instant());
    List<EventDispatch.Attribute> dlqAttributes = dlq.isEmpty() ? List.of() : DestinationRecord.dlqAttributes(p.requestId, a);
    String source = a.functionArn() == null ? null : a.functionArn().replaceAll(":\\$LATEST$", "");
    Delivery delivery = new Delivery(success, targets, record, dlq, ByteString.fromArrayUnsafe(p.payload),
        dlqAttributes, source, 0);
    return Effect().none().thenRun(s -> deliver(s, p.requestId, delivery));
  }

  /**
   * Sends the record to its destinations and the event to the DLQ; a retry sends only to those
   * that failed. The meters count a hand-over once it is complete.
   */
  private void deliver(State s, String requestId, Delivery d) {
    long epoch = s.epoch;
    List<CompletableFuture<String>> sends = new ArrayList<>();
    for (String t : d.targets()) {
      sends.add(outcome(t, dispatch.deliver(t, d.body(), List.of(), null)));
    }
    for (String t : d.dlqTargets()) {
      sends.add(outcome(t, dispatch.deliver(t, d.dlqBody(), d.dlqAttributes(), d.sourceArn())));
    }
    ctx.pipeToSelf(CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)), (ok, never) -> {
      List<String> failedTargets = new ArrayList<>();
      List<String> failedDlq = new ArrayList<>();
      String error = null;
      for (int i = 0; i < sends.size(); i++) {
        String failure = sends.get(i).getNow(null);  // all complete here
        if (failure != null) {
          error = failure;
          if (i < d.targets().size()) {
            failedTargets.add(d.targets().get(i));
          } else {
            failedDlq.add(d.dlqTargets().get(i - d.targets().size()));
          }
        }
      }
      if (error == null) {
        if (!d.targets().isEmpty()) {
          (d.success() ? meters().toSuccessDestination() : meters().toFailureDestination()).increment();
        }
        if (!d.dlqTargets().isEmpty()) {
          meters().toFailureDestination().increment();
        }
        return new Delivered(epoch, requestId);
      }
      return new DeliveryFailed(epoch, requestId, new Delivery(d.success(), failedTargets, d.body(), failedDlq, d.dlqBody(),
          d.dlqAttributes(), d.sourceArn(), d.tries()), error);
    });
  }

  /** Null when the hand-over succeeded, else why not (never completes exceptionally). */
  private static CompletableFuture<String> outcome(String target, CompletionStage<Void> send) {
    return send.toCompletableFuture().handle((v, failure) -> failure == null ? null
        : target + ": " + (failure.getCause() != null ? failure.getCause() : failure));
  }

  private Effect<Event, State> onDeliveryFailed(State state, DeliveryFailed cmd) {
    Delivery d = cmd.delivery();
    if (d.tries() + 1 >= settings.deliveryAttempts()) {
      log.error("event {} of {}: its record could not be delivered to {} {} after {} tries ({}); dropped",
          cmd.requestId(), function, d.targets(), d.dlqTargets(), d.tries() + 1, cmd.error());
      meters().discarded().increment();
      return Effect().none().thenRun(s -> finish(s, cmd.requestId()));
    }
    log.warn("event {} of {}: delivery to {} {} failed ({}), trying again", cmd.requestId(), function, d.targets(),
        d.dlqTargets(), cmd.error());
    Delivery again = new Delivery(d.success(), d.targets(), d.body(), d.dlqTargets(), d.dlqBody(),
        d.dlqAttributes(), d.sourceArn(), d.tries() + 1);
    // Redelivers to every target: one may receive a record twice, as with any retry.
    timers.startSingleTimer("redeliver-" + cmd.requestId(), new Redeliver(state.epoch, cmd.requestId(), again),
        settings.backoff(again.tries()));
    return Effect().none();
  }

  /** Marks the event finished; the journal learns it with the next flush. */
  private void finish(State s, String requestId) {
    s.toFinish.add(requestId);
    if (!timers.isTimerActive("flush")) {
      timers.startSingleTimer("flush", new Flush(), settings.finishDelay());
    }
    dispatch(s);
  }

  private Effect<Event, State> onFlush(State state, Flush cmd) {
    if (state.toFinish.isEmpty()) {
      return Effect().none();
    }
    List<String> done = List.copyOf(state.toFinish);
    state.toFinish.clear();
    return Effect().persist(new Finished(done)).thenRun(this::dispatch);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Queued.class, (state, e) -> apply(state, e))
        .onEvent(Rescheduled.class, (state, e) -> apply(state, e))
        .onEvent(Finished.class, (state, e) -> {
          for (String id : e.requestIds()) {
            state.pending.remove(id);
            state.busy.remove(id);
          }
          return state;
        })
        .build();
  }

  private static State apply(State state, Queued e) {
    state.pending.put(e.requestId(), new Pending(e.requestId(), e.qualifier(), e.payload(), e.acceptedAt()));
    state.ready.add(e.requestId());
    return state;
  }

  private static State apply(State state, Rescheduled e) {
    Pending p = state.pending.get(e.requestId());
    if (p != null) {
      p.invokeCount = e.invokeCount();
      p.functionErrors = e.functionErrors();
      p.throttles = e.throttles();
      p.notBefore = e.notBefore();
      state.delayed.add(new Timed(p.requestId, p.notBefore));
    }
    return state;
  }
}
