package dev.lamina.actors.account;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.metrics.Metrics;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * The concurrency of one account (entity id = account id): the unreserved pool shared by every
 * function, the pools of functions with reserved concurrency, and the scaling-rate buckets.
 *
 * <p>Contract: function actors {@link Acquire} concurrency in leases of several units and
 * {@link Release} what they no longer need; an invocation in flight always holds a unit, so the
 * account's total in use never exceeds its limit. The account watches each holder: the units of a
 * function actor that stops (passivated, moved, its node gone) come back without a message. A function with reserved concurrency draws only
 * from its own pool (the reservation is both its guarantee and its cap); the others share what the
 * reservations leave. A grant may be short: the reply then carries the throttle reason for what
 * was not granted. Cold starts take {@link Scale} tokens (warm reuse takes none).
 *
 * <p>State: reserved concurrency per function is event-sourced (it must survive restarts and two
 * concurrent PutFunctionConcurrency calls must not together break the unreserved minimum). Units
 * held and scaling tokens are soft state: after a restart of the node, function actors start
 * without leases too.
 */
public final class AccountActor
    extends EventSourcedBehavior<AccountActor.Command, AccountActor.Event, AccountActor.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "AccountActor");

  public sealed interface Command extends CborSerializable
      permits Acquire, Release, Scale, PutReserved, DeleteReserved, GetReserved, GetSettings, HolderGone,
          CheckProvisioned, FunctionGone {}

  /**
   * Asks for {@code needed} units for invocations waiting now, and up to {@code extra} more to
   * hold for the next ones. Answered with {@link FunctionActor.LeaseGranted}.
   */
  public record Acquire(String function, int needed, int extra, ActorRef<FunctionActor.Command> replyTo)
      implements Command {}

  /** Gives back units the function actor {@code holder} holds. */
  public record Release(ActorRef<FunctionActor.Command> holder, int units) implements Command {}

  /** A function actor holding units stopped (passivated, moved, its node gone): its units return. */
  record HolderGone(ActorRef<FunctionActor.Command> holder) implements Command {}

  /**
   * Asks for tokens for {@code wanted} new execution environments; answered with
   * {@link FunctionActor.ScaleGranted} carrying the same {@code id}.
   */
  public record Scale(long id, String function, int wanted, ActorRef<FunctionActor.Command> replyTo)
      implements Command {}

  /** PutFunctionConcurrency (validated here: the unreserved minimum must hold). */
  public record PutReserved(String function, int reserved, ActorRef<Reply> replyTo) implements Command {}

  /** DeleteFunctionConcurrency, also sent when a function is deleted. */
  public record DeleteReserved(String function, ActorRef<Reply> replyTo) implements Command {}

  public record GetReserved(String function, ActorRef<Reply> replyTo) implements Command {}

  public record GetSettings(ActorRef<Reply> replyTo) implements Command {}

  /** The function was deleted: its reservation and its scaling bucket go. */
  public record FunctionGone(String function, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Whether {@code total} provisioned concurrency fits the function: within its reservation if it
   * has one, else within what the account leaves unreserved above its minimum.
   */
  public record CheckProvisioned(String function, int total, ActorRef<Reply> replyTo) implements Command {}

  /**
   * {@code reserved}: the function's reserved concurrency or null; {@code limit} and
   * {@code unreserved}: the account's (for GetAccountSettings); {@code inUse}: units held now.
   */
  public record Reply(Integer reserved, int limit, int unreserved, int inUse, String errorCode, String errorMessage)
      implements CborSerializable {

    /** This reply, or its error thrown as a {@link LambdaError}. */
    public Reply orThrow() {
      if (errorCode != null) {
        throw new LambdaError(LambdaError.Code.valueOf(errorCode), errorMessage);
      }
      return this;
    }
  }

  public sealed interface Event extends CborSerializable permits ReservedSet, ReservedRemoved {}

  public record ReservedSet(String function, int reserved) implements Event {}

  public record ReservedRemoved(String function) implements Event {}

  /** Reserved concurrency per function. */
  public record State(Map<String, Integer> reserved) {
    int totalReserved() {
      return reserved.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  /** Units one function actor holds, by the pool they came from. */
  private static final class Held {
    final String function;
    int reserved;
    int unreserved;

    Held(String function) {
      this.function = function;
    }

    int total() {
      return reserved + unreserved;
    }
  }

  private final ActorContext<Command> ctx;
  private final ConcurrencySettings settings;
  private final LongSupplier nanoClock;
  private final Metrics metrics;
  private final java.util.concurrent.atomic.AtomicInteger inUseGauge;
  private final Map<ActorRef<FunctionActor.Command>, Held> held = new HashMap<>();
  private final Map<String, Integer> heldByFunction = new HashMap<>();
  private final Map<String, TokenBucket> functionBuckets = new HashMap<>();
  private final TokenBucket burstBucket;
  private int unreservedInUse;
  private int totalInUse;

  private AccountActor(ActorContext<Command> ctx, String account, ConcurrencySettings settings,
      LongSupplier nanoClock, Metrics metrics) {
    super(PersistenceId.of(TYPE_KEY.name(), account));
    this.ctx = ctx;
    this.settings = settings;
    this.metrics = metrics;
    this.inUseGauge = metrics.accountConcurrency(account);
    this.nanoClock = nanoClock;
    this.burstBucket = new TokenBucket(settings.burst(), settings.burstRefillPerMinute() / 60.0, nanoClock.getAsLong());
  }

  /** {@code nanoClock} is {@link System#nanoTime} on a node, manual time in tests. */
  public static Behavior<Command> create(String account, ConcurrencySettings settings, LongSupplier nanoClock,
      Metrics metrics) {
    return Behaviors.setup(ctx -> new AccountActor(ctx, account, settings, nanoClock, metrics));
  }

  public static void initSharding(ActorSystem<?> system, ConcurrencySettings settings, Metrics metrics) {
    // Never passivated: the units it has leased out are in its memory only. Function actors that
    // lose their grantor (rebalance, node loss) drop their units and lease again.
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY,
        ctx -> create(ctx.getEntityId(), settings, System::nanoTime, metrics))
        .withSettings(org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings.create(system)
            .withNoPassivationStrategy()));
  }

  @Override
  public State emptyState() {
    return new State(Map.of());
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Acquire.class, this::onAcquire)
        .onCommand(Release.class, (state, cmd) -> {
          release(cmd.holder(), cmd.units());
          return Effect().noReply();
        })
        .onCommand(HolderGone.class, (state, cmd) -> {
          release(cmd.holder(), Integer.MAX_VALUE);
          return Effect().noReply();
        })
        .onCommand(Scale.class, this::onScale)
        .onCommand(PutReserved.class, this::onPutReserved)
        .onCommand(DeleteReserved.class, (state, cmd) -> state.reserved().containsKey(cmd.function())
            ? Effect().persist(new ReservedRemoved(cmd.function())).thenReply(cmd.replyTo(), s -> reply(s, cmd.function()))
            : Effect().reply(cmd.replyTo(), reply(state, cmd.function())))
        .onCommand(GetReserved.class, (state, cmd) -> Effect().reply(cmd.replyTo(), reply(state, cmd.function())))
        .onCommand(GetSettings.class, (state, cmd) -> Effect().reply(cmd.replyTo(), reply(state, null)))
        .onCommand(FunctionGone.class, (state, cmd) -> {
          functionBuckets.remove(cmd.function());
          return state.reserved().containsKey(cmd.function())
              ? Effect().persist(new ReservedRemoved(cmd.function())).thenReply(cmd.replyTo(), s -> reply(s, null))
              : Effect().reply(cmd.replyTo(), reply(state, null));
        })
        .onCommand(CheckProvisioned.class, (state, cmd) -> {
          Integer reserved = state.reserved().get(cmd.function());
          int spare = settings.accountLimit() - state.totalReserved() - settings.minUnreserved();
          if (reserved != null && cmd.total() > reserved) {
            return Effect().reply(cmd.replyTo(), error(LambdaError.Code.InvalidParameterValueException,
                "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for "
                    + "function"));
          }
          if (reserved == null && cmd.total() > spare) {
            return Effect().reply(cmd.replyTo(), error(LambdaError.Code.InvalidParameterValueException,
                "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency ["
                    + Math.max(0, spare) + "]."));
          }
          return Effect().reply(cmd.replyTo(), reply(state, cmd.function()));
        })
        .build();
  }

  private ReplyEffect<Event, State> onAcquire(State state, Acquire cmd) {
    Integer reserved = state.reserved().get(cmd.function());
    Held h = held.computeIfAbsent(cmd.replyTo(), holder -> {
      ctx.watchWith(holder, new HolderGone(holder));
      return new Held(cmd.function());
    });
    int free = settings.accountLimit() - totalInUse;
    int granted;
    String shortReason;
    if (reserved != null) {
      int available = Math.max(0, Math.min(reserved - heldByFunction.getOrDefault(cmd.function(), 0), free));
      granted = Math.min(available, cmd.needed() + extra(cmd, available, reserved));
      h.reserved += granted;
      shortReason = "ReservedFunctionConcurrentInvocationLimitExceeded";
    } else {
      int pool = settings.accountLimit() - state.totalReserved();
      int available = Math.max(0, Math.min(pool - unreservedInUse, free));
      granted = Math.min(available, cmd.needed() + extra(cmd, available, pool));
      h.unreserved += granted;
      unreservedInUse += granted;
      shortReason = "ConcurrentInvocationLimitExceeded";
    }
    totalInUse += granted;
    inUseGauge.set(totalInUse);
    heldByFunction.merge(cmd.function(), granted, Integer::sum);
    cmd.replyTo().tell(new FunctionActor.LeaseGranted(granted, granted < cmd.needed() ? shortReason : null,
        ctx.getSelf()));
    return Effect().noReply();
  }

  /** Extra units are lent only while the pool stays more than a tenth free after the grant. */
  private static int extra(Acquire cmd, int available, int pool) {
    return Math.max(0, Math.min(cmd.extra(), available - cmd.needed() - pool / 10));
  }

  private void release(ActorRef<FunctionActor.Command> holder, int wanted) {
    Held h = held.get(holder);
    if (h == null) {
      return;
    }
    int units = Math.min(wanted, h.total());
    int fromUnreserved = Math.min(units, h.unreserved);   // the contended pool first
    h.unreserved -= fromUnreserved;
    unreservedInUse -= fromUnreserved;
    h.reserved -= units - fromUnreserved;
    totalInUse -= units;
    inUseGauge.set(totalInUse);
    heldByFunction.computeIfPresent(h.function, (f, n) -> n - units > 0 ? n - units : null);
    if (h.total() == 0) {
      held.remove(holder);
      ctx.unwatch(holder);
    }
  }

  private ReplyEffect<Event, State> onScale(State state, Scale cmd) {
    long now = nanoClock.getAsLong();
    int granted;
    String reason;
    if (settings.scaling().equals(ConcurrencySettings.PER_FUNCTION)) {
      TokenBucket bucket = functionBuckets.computeIfAbsent(cmd.function(), f -> new TokenBucket(
          settings.perFunctionEnvironments(),
          settings.perFunctionEnvironments() / (settings.perFunctionPeriod().toNanos() / 1e9), now));
      granted = bucket.take(cmd.wanted(), now);
      metrics.scalingTokens(cmd.function()).set(bucket.available(now));
      reason = "FunctionInvocationRateLimitExceeded";
    } else {
      granted = burstBucket.take(cmd.wanted(), now);
      metrics.scalingTokens("*").set(burstBucket.available(now));
      reason = "ConcurrentInvocationLimitExceeded";
    }
    cmd.replyTo().tell(new FunctionActor.ScaleGranted(cmd.id(), granted, granted < cmd.wanted() ? reason : null));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onPutReserved(State state, PutReserved cmd) {
    int others = state.totalReserved() - state.reserved().getOrDefault(cmd.function(), 0);
    int unreservedAfter = settings.accountLimit() - others - cmd.reserved();
    if (unreservedAfter < 0) {
      return Effect().reply(cmd.replyTo(), error(LambdaError.Code.InvalidParameterValueException,
          "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency ["
              + (settings.accountLimit() - others) + "]."));
    }
    if (unreservedAfter < settings.minUnreserved()) {
      return Effect().reply(cmd.replyTo(), error(LambdaError.Code.InvalidParameterValueException,
          "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
              + "below its minimum value of [" + settings.minUnreserved() + "]."));
    }
    return Effect().persist(new ReservedSet(cmd.function(), cmd.reserved()))
        .thenReply(cmd.replyTo(), s -> reply(s, cmd.function()));
  }

  private Reply reply(State state, String function) {
    return new Reply(function == null ? null : state.reserved().get(function), settings.accountLimit(),
        settings.accountLimit() - state.totalReserved(), totalInUse, null, null);
  }

  private static Reply error(LambdaError.Code code, String message) {
    return new Reply(null, 0, 0, 0, code.name(), message);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(ReservedSet.class, (state, e) -> {
          Map<String, Integer> reserved = new HashMap<>(state.reserved());
          reserved.put(e.function(), e.reserved());
          return new State(Map.copyOf(reserved));
        })
        .onEvent(ReservedRemoved.class, (state, e) -> {
          Map<String, Integer> reserved = new HashMap<>(state.reserved());
          reserved.remove(e.function());
          return new State(Map.copyOf(reserved));
        })
        .build();
  }
}
