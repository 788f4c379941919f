package dev.lamina.actors.queue;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.events.EventDispatch;
import dev.lamina.actors.metrics.Metrics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.util.ByteString;

/**
 * One Lamina queue (entity id = queue name), SQS-like and durable: every send, receive, delete
 * and purge is in the journal before it is answered.
 *
 * <p>Contract: a received message is invisible for the visibility timeout and then visible again
 * unless deleted with the handle of its latest receive. With a redrive policy, a message received
 * {@code maxReceiveCount} times is moved to the dead-letter queue at its next receive (sent there
 * first, removed here after: a crash in between leaves a copy in both). A move task
 * (StartMessageMoveTask) sends every message present when it starts to a queue, a function (as an
 * {@code Event} invocation) or, without a destination, back where each came from.
 *
 * <p>Long polls wait in memory ({@code waiters}) and are answered as soon as a message is
 * visible or their wait is over.
 */
public final class QueueActor extends EventSourcedBehavior<QueueActor.Command, QueueActor.Event, QueueActor.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "Queue");

  public sealed interface Command extends CborSerializable
      permits Create, GetInfo, SetAttributes, DeleteQueue, Send, Receive, DeleteMessages, ChangeVisibility, Purge,
          StartMove, ListMoves, CancelMove, Tick, MovedOut, MoveOutFailed, MoveStep, SendNow, CancelWaits, Stop {}

  /** Creates the queue; an existing queue with other attributes is a QueueNameExists error. */
  public record Create(QueueAttributes attributes, ActorRef<Reply> replyTo) implements Command {}

  public record GetInfo(ActorRef<Reply> replyTo) implements Command {}

  public record SetAttributes(QueueAttributes attributes, ActorRef<Reply> replyTo) implements Command {}

  public record DeleteQueue(ActorRef<Reply> replyTo) implements Command {}

  /** A message to send; {@code delaySeconds} null takes the queue's. */
  public record NewMessage(String entryId, String body, List<QueueMessage.Attribute> attributes,
      Integer delaySeconds, String sourceArn, Kept kept) implements CborSerializable {

    public NewMessage(String entryId, String body, List<QueueMessage.Attribute> attributes, Integer delaySeconds,
        String sourceArn) {
      this(entryId, body, attributes, delaySeconds, sourceArn, null);
    }
  }

  /** What a message moved to its dead-letter queue keeps: its id and when it was first sent. */
  public record Kept(String messageId, long sentAt) implements CborSerializable {}

  public record Send(List<NewMessage> messages, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Up to {@code max} visible messages, waiting up to {@code waitMillis} for one. {@code owner}
   * (nullable) names the poller waiting, so that it can withdraw its waits when it stops.
   */
  public record Receive(int max, Integer visibilityTimeout, long waitMillis, ActorRef<?> owner,
      ActorRef<Reply> replyTo) implements Command {

    public Receive(int max, Integer visibilityTimeout, long waitMillis, ActorRef<Reply> replyTo) {
      this(max, visibilityTimeout, waitMillis, null, replyTo);
    }
  }

  /**
   * Sharding's stop message (rebalance, shutdown): sends waiting for the next group write are
   * written and answered, then the entity stops.
   */
  private record Stop() implements Command {}

  /** Answers the long polls of {@code owner} now, with nothing. */
  public record CancelWaits(ActorRef<?> owner) implements Command {}

  public record DeleteMessages(List<Entry> entries, ActorRef<Reply> replyTo) implements Command {}

  /** A batch entry: its id, a receipt handle and (ChangeMessageVisibility) a timeout. */
  public record Entry(String id, String receiptHandle, int visibilityTimeout) implements CborSerializable {}

  public record ChangeVisibility(List<Entry> entries, ActorRef<Reply> replyTo) implements Command {}

  public record Purge(ActorRef<Reply> replyTo) implements Command {}

  /**
   * Moves the messages present now to {@code destinationArn} (null: back to their sources).
   * {@code deadLetterQueue}: another queue names this one in its redrive policy (a function's DLQ
   * is recognised by its messages, which carry their source).
   */
  public record StartMove(String destinationArn, boolean deadLetterQueue, ActorRef<Reply> replyTo)
      implements Command {}

  public record ListMoves(ActorRef<Reply> replyTo) implements Command {}

  public record CancelMove(String taskHandle, ActorRef<Reply> replyTo) implements Command {}

  private record Tick() implements Command {}

  private record MovedOut(List<String> messageIds) implements Command {}

  private record MoveOutFailed(List<String> messageIds, String error) implements Command {}

  /** A batch of a move task ended: {@code moved} are gone from here, {@code released} were not moved. */
  private record MoveStep(String taskHandle, List<String> moved, List<String> released, String error)
      implements Command {}

  /** Writes the messages sent since the last write, in one journal write. */
  private record SendNow() implements Command {}

  /** A send waiting for the next group write: its reply is ready once the messages are stored. */
  private record PendingSend(List<QueueMessage> messages, ActorRef<Reply> replyTo, Reply reply) {}

  /** A failed batch entry: its id, the SQS error code and message. */
  public record Failure(String id, String code, String message) implements CborSerializable {}

  /** A move task as ListMessageMoveTasks shows it. */
  public record MoveTask(String taskHandle, String sourceArn, String destinationArn, String status,
      int moved, int toMove, long startedAt, String failureReason) implements CborSerializable {}

  /**
   * The answer: the queue's attributes and counts, messages (sent or received), failed entries,
   * move tasks, or an error ({@code errorCode} an SQS error name).
   */
  public record Reply(QueueAttributes attributes, long createdAt, long modifiedAt, int visible, int inFlight,
      int delayed, List<QueueMessage> messages, List<Failure> failures, List<MoveTask> moves, String errorCode,
      String errorMessage) implements CborSerializable {

    static Reply error(String code, String message) {
      return new Reply(null, 0, 0, 0, 0, 0, List.of(), List.of(), List.of(), code, message);
    }
  }

  public sealed interface Event extends CborSerializable
      permits Created, AttributesSet, QueueDeleted, Sent, Touched, Removed, Purged {}

  public record Created(QueueAttributes attributes, long at) implements Event {}

  public record AttributesSet(QueueAttributes attributes, long at) implements Event {}

  public record QueueDeleted() implements Event {}

  public record Sent(List<QueueMessage> messages) implements Event {}

  /** Messages received or with a changed visibility: their new receive state (never their bodies). */
  public record Touched(List<Touch> touches) implements Event {}

  public record Touch(String messageId, long visibleAt, int receiveCount, long firstReceivedAt, String receiptHandle)
      implements CborSerializable {

    static Touch of(QueueMessage m) {
      return new Touch(m.messageId(), m.visibleAt(), m.receiveCount(), m.firstReceivedAt(), m.receiptHandle());
    }
  }

  public record Removed(List<String> messageIds) implements Event {}

  public record Purged() implements Event {}

  /** Mutable; the snapshot adapter copies it. {@code moving}, {@code waiters} and {@code moves} are memory only. */
  public static final class State {
    QueueAttributes attributes;
    long createdAt;
    long modifiedAt;
    final LinkedHashMap<String, QueueMessage> messages = new LinkedHashMap<>();
    final Set<String> moving = new HashSet<>();
    final List<Waiter> waiters = new ArrayList<>();
    final List<MoveTask> moves = new ArrayList<>();
    final Map<String, java.util.ArrayDeque<String>> moveBacklog = new LinkedHashMap<>();
    final List<PendingSend> sending = new ArrayList<>();
    boolean sendQueued;

    boolean exists() {
      return attributes != null;
    }
  }

  private record Waiter(Receive receive, long deadline) {}

  public record Snapshot(QueueAttributes attributes, long createdAt, long modifiedAt, List<QueueMessage> messages)
      implements CborSerializable {}

  private static final int MOVE_BATCH = 10;

  private final String name;
  private final String arn;
  private final String arnPrefix;
  private final Clock clock;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final EventDispatch functions;
  private final AtomicInteger visibleGauge;
  private final AtomicInteger inFlightGauge;
  private final AtomicInteger delayedGauge;

  private QueueActor(String name, String arnPrefix, Clock clock, ActorContext<Command> ctx,
      TimerScheduler<Command> timers, EventDispatch functions, Metrics metrics) {
    super(PersistenceId.of(TYPE_KEY.name(), name),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.name = name;
    this.arnPrefix = arnPrefix;
    this.arn = arnPrefix + name;
    this.clock = clock;
    this.ctx = ctx;
    ctx.setLoggerName(QueueActor.class);   // else a Pekko class names the logger (filtered to WARN)
    this.timers = timers;
    this.functions = functions;
    this.visibleGauge = metrics.queueDepth(name, "visible");
    this.inFlightGauge = metrics.queueDepth(name, "in-flight");
    this.delayedGauge = metrics.queueDepth(name, "delayed");
  }

  /** A queue outside sharding (tests); {@code arnPrefix}: {@code arn:aws:sqs:<region>:<account>:}. */
  public static Behavior<Command> create(String name, String arnPrefix, Clock clock, EventDispatch functions,
      Metrics metrics) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new QueueActor(name, arnPrefix, clock, ctx, timers, functions, metrics)));
  }

  /** {@code arnPrefix}: {@code arn:aws:sqs:<region>:<account>:}. */
  public static void initSharding(ActorSystem<?> system, String arnPrefix, Clock clock, EventDispatch functions,
      Metrics metrics) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, entity -> Behaviors.supervise(Behaviors.<Command>setup(ctx ->
            Behaviors.withTimers(timers ->
                new QueueActor(entity.getEntityId(), arnPrefix, clock, ctx, timers, functions, metrics))))
            .onFailure(Exception.class,
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2)))
        .withStopMessage(new Stop())
        // Remembered: after a node is lost its queues start again wherever their shards land
        // (long polls, delays and visibility timeouts run on timers of a live entity).
        .withSettings(ClusterShardingSettings.create(system).withNoPassivationStrategy().withRememberEntities(true)));
  }

  @Override
  public State emptyState() {
    return new State();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(1000, 2).withDeleteEventsOnSnapshot();
  }

  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State s) {
        return new Snapshot(s.attributes, s.createdAt, s.modifiedAt, List.copyOf(s.messages.values()));
      }

      @Override
      public State fromJournal(Object from) {
        Snapshot snapshot = (Snapshot) from;
        State s = new State();
        s.attributes = snapshot.attributes();
        s.createdAt = snapshot.createdAt();
        s.modifiedAt = snapshot.modifiedAt();
        snapshot.messages().forEach(m -> s.messages.put(m.messageId(), m));
        return s;
      }
    };
  }

  /** Answers every long poll with {@code reply}. */
  private static void answerAll(State s, Reply reply) {
    s.waiters.forEach(w -> w.receive().replyTo().tell(reply));
    s.waiters.clear();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    // A restart loses what waits in memory: answer it now rather than leave callers to time out.
    return newSignalHandlerBuilder()
        .onSignal(PreRestart.instance(), s -> {
          answerAll(s, received(s, List.of()));
          s.sending.forEach(p -> p.replyTo().tell(Reply.error("InternalError",
              "The queue restarted before the message was stored; send it again.")));
          s.sending.clear();
        })
        .build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(GetInfo.class, (s, cmd) -> Effect().reply(cmd.replyTo(), s.exists() ? info(s) : missing()))
        .onCommand(SetAttributes.class, (s, cmd) -> !s.exists() ? Effect().reply(cmd.replyTo(), missing())
            : Effect().persist(new AttributesSet(cmd.attributes(), clock.millis()))
                .thenReply(cmd.replyTo(), this::info))
        .onCommand(DeleteQueue.class, (s, cmd) -> !s.exists() ? Effect().reply(cmd.replyTo(), missing())
            : Effect().persist(new QueueDeleted()).thenRun(this::answerWaiters)
                .thenReply(cmd.replyTo(), st -> done()))
        .onCommand(Send.class, this::onSend)
        .onCommand(SendNow.class, this::onSendNow)
        .onCommand(Receive.class, this::onReceive)
        .onCommand(DeleteMessages.class, this::onDelete)
        .onCommand(ChangeVisibility.class, this::onChangeVisibility)
        .onCommand(Purge.class, (s, cmd) -> !s.exists() ? Effect().reply(cmd.replyTo(), missing())
            : Effect().persist(new Purged()).thenReply(cmd.replyTo(), this::info))
        .onCommand(Tick.class, (s, cmd) -> onTick(s))
        .onCommand(Stop.class, (s, cmd) -> {
          // Long polls are left to their callers' timeouts: answered now, pollers would ask again at
          // once and keep the shard region's hand-over (or the node's shutdown) waiting.
          if (s.sending.isEmpty()) {
            return Effect().stop();
          }
          List<PendingSend> batch = List.copyOf(s.sending);
          s.sending.clear();
          List<QueueMessage> all = new ArrayList<>();
          batch.forEach(p -> all.addAll(p.messages()));
          return Effect().persist(new Sent(all)).thenRun(st -> batch.forEach(p -> p.replyTo().tell(p.reply())))
              .thenStop();
        })
        .onCommand(CancelWaits.class, (s, cmd) -> {
          s.waiters.removeIf(w -> {
            boolean mine = cmd.owner().equals(w.receive().owner());
            if (mine) {
              w.receive().replyTo().tell(received(s, List.of()));
            }
            return mine;
          });
          return Effect().none();
        })
        .onCommand(MovedOut.class, (s, cmd) -> {
          cmd.messageIds().forEach(s.moving::remove);
          return Effect().persist(new Removed(cmd.messageIds()));
        })
        .onCommand(MoveOutFailed.class, (s, cmd) -> {
          ctx.getLog().warn("queue {}: could not move {} message(s) to its dead-letter queue ({}); they stay here",
              name, cmd.messageIds().size(), cmd.error());
          cmd.messageIds().forEach(s.moving::remove);
          answerWaiters(s);
          return Effect().none();
        })
        .onCommand(StartMove.class, this::onStartMove)
        .onCommand(MoveStep.class, this::onMoveStep)
        .onCommand(ListMoves.class, (s, cmd) -> Effect().reply(cmd.replyTo(), !s.exists() ? missing()
            : new Reply(null, 0, 0, 0, 0, 0, List.of(), List.of(), List.copyOf(s.moves), null, null)))
        .onCommand(CancelMove.class, this::onCancelMove)
        .build();
  }

  private Effect<Event, State> onCreate(State s, Create cmd) {
    if (s.exists()) {
      return Effect().reply(cmd.replyTo(), info(s));  // the API compared the attributes given
    }
    return Effect().persist(new Created(cmd.attributes(), clock.millis())).thenReply(cmd.replyTo(), this::info);
  }

  /** The names of the attributes that differ. */
  public static List<String> differences(QueueAttributes a, QueueAttributes b) {
    List<String> names = new ArrayList<>();
    if (a.visibilityTimeoutSeconds() != b.visibilityTimeoutSeconds()) {
      names.add("VisibilityTimeout");
    }
    if (a.messageRetentionSeconds() != b.messageRetentionSeconds()) {
      names.add("MessageRetentionPeriod");
    }
    if (a.maximumMessageSize() != b.maximumMessageSize()) {
      names.add("MaximumMessageSize");
    }
    if (a.delaySeconds() != b.delaySeconds()) {
      names.add("DelaySeconds");
    }
    if (a.receiveWaitTimeSeconds() != b.receiveWaitTimeSeconds()) {
      names.add("ReceiveMessageWaitTimeSeconds");
    }
    if (!java.util.Objects.equals(a.redrivePolicy(), b.redrivePolicy())) {
      names.add("RedrivePolicy");
    }
    return names;
  }

  private Effect<Event, State> onSend(State s, Send cmd) {
    if (!s.exists()) {
      return Effect().reply(cmd.replyTo(), missing());
    }
    long now = clock.millis();
    List<QueueMessage> stored = new ArrayList<>();
    List<Failure> failures = new ArrayList<>();
    for (NewMessage m : cmd.messages()) {
      QueueMessage message = new QueueMessage(m.kept() != null ? m.kept().messageId() : UUID.randomUUID().toString(),
          m.body(), m.attributes(), QueueMessage.md5OfBody(m.body()), QueueMessage.md5OfAttributes(m.attributes()),
          m.kept() != null ? m.kept().sentAt() : now,
          now + 1000L * (m.delaySeconds() != null ? m.delaySeconds() : s.attributes.delaySeconds()), 0, 0, null,
          m.sourceArn());
      if (message.size() > s.attributes.maximumMessageSize()) {
        failures.add(new Failure(m.entryId(), "InvalidParameterValue", "One or more parameters are invalid. "
            + "Reason: Message must be shorter than " + s.attributes.maximumMessageSize() + " bytes."));
      } else {
        stored.add(message);
      }
    }
    Reply reply = new Reply(s.attributes, s.createdAt, s.modifiedAt, 0, 0, 0, stored, failures, List.of(), null,
        null);
    if (stored.isEmpty()) {
      return Effect().reply(cmd.replyTo(), reply);
    }
    // Group commit: sends arriving while a write runs go into the next write together.
    s.sending.add(new PendingSend(stored, cmd.replyTo(), reply));
    if (!s.sendQueued) {
      s.sendQueued = true;
      ctx.getSelf().tell(new SendNow());
    }
    return Effect().none();
  }

  private Effect<Event, State> onSendNow(State s, SendNow cmd) {
    s.sendQueued = false;
    if (s.sending.isEmpty()) {
      return Effect().none();
    }
    List<PendingSend> batch = List.copyOf(s.sending);
    s.sending.clear();
    if (!s.exists()) {
      batch.forEach(p -> p.replyTo().tell(missing()));
      return Effect().none();
    }
    List<QueueMessage> all = new ArrayList<>();
    batch.forEach(p -> all.addAll(p.messages()));
    return Effect().persist(new Sent(all)).thenRun(st -> {
      batch.forEach(p -> p.replyTo().tell(p.reply()));
      answerWaiters(st);
    });
  }

  private Effect<Event, State> onReceive(State s, Receive cmd) {
    if (!s.exists()) {
      return Effect().reply(cmd.replyTo(), missing());
    }
    Taken t = take(s, cmd);
    if (!t.messages().isEmpty()) {
      return Effect().persist(t.events()).thenRun(st -> cmd.replyTo().tell(received(st, t.messages())));
    }
    if (cmd.waitMillis() <= 0) {
      return t.events().isEmpty() ? Effect().reply(cmd.replyTo(), received(s, List.of()))
          : Effect().persist(t.events()).thenRun(st -> cmd.replyTo().tell(received(st, List.of())));
    }
    s.waiters.add(new Waiter(cmd, clock.millis() + cmd.waitMillis()));
    scheduleTick(s);
    return t.events().isEmpty() ? Effect().none() : Effect().persist(t.events());
  }

  /** What a receive takes ({@code messages}, as received) and the events that record it. */
  private record Taken(List<QueueMessage> messages, List<Event> events) {}

  /**
   * Takes up to {@code max} visible messages; on the way, moves those over the receive count to
   * the DLQ and drops those past retention (events, but nothing to give).
   */
  private Taken take(State s, Receive cmd) {
    long now = clock.millis();
    int timeout = cmd.visibilityTimeout() != null ? cmd.visibilityTimeout() : s.attributes.visibilityTimeoutSeconds();
    List<QueueMessage> taken = new ArrayList<>();
    List<QueueMessage> toDlq = new ArrayList<>();
    List<String> expired = new ArrayList<>();
    long retention = 1000L * s.attributes.messageRetentionSeconds();
    for (QueueMessage m : s.messages.values()) {
      if (taken.size() >= cmd.max()) {
        break;
      }
      if (m.visibleAt() > now || s.moving.contains(m.messageId())) {
        continue;
      }
      if (now - m.sentAt() > retention) {
        expired.add(m.messageId());
      } else if (s.attributes.deadLetterTargetArn() != null && m.receiveCount() >= s.attributes.maxReceiveCount()) {
        toDlq.add(m);
      } else {
        String handle = Base64.getUrlEncoder().withoutPadding().encodeToString(
            (m.messageId() + ":" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));
        taken.add(m.received(now + 1000L * timeout, handle, now));
      }
    }
    if (!toDlq.isEmpty()) {
      moveToDeadLetterQueue(s, toDlq);
    }
    List<Event> events = new ArrayList<>(2);
    if (!taken.isEmpty()) {
      events.add(new Touched(taken.stream().map(Touch::of).toList()));
    }
    if (!expired.isEmpty()) {
      events.add(new Removed(expired));
    }
    return new Taken(taken, events);
  }

  private void moveToDeadLetterQueue(State s, List<QueueMessage> messages) {
    List<String> ids = messages.stream().map(QueueMessage::messageId).toList();
    s.moving.addAll(ids);
    String dlq = s.attributes.deadLetterTargetArn();
    List<NewMessage> copies = messages.stream()
        .map(m -> new NewMessage(m.messageId(), m.body(), m.attributes(), 0, arn,
            new Kept(m.messageId(), m.sentAt()))).toList();
    ctx.pipeToSelf(sendTo(dlq, copies), (reply, failure) -> {
      if (failure != null || reply.errorCode() != null || !reply.failures().isEmpty()) {
        return new MoveOutFailed(ids, failure != null ? failure.toString()
            : reply.errorCode() != null ? reply.errorMessage() : reply.failures().toString());
      }
      return new MovedOut(ids);
    });
  }

  /** Sends to the queue named by {@code queueArn} (another entity of this type). */
  private CompletionStage<Reply> sendTo(String queueArn, List<NewMessage> messages) {
    if (!queueArn.startsWith(arnPrefix)) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("not a queue of this node: " + queueArn));
    }
    return ClusterSharding.get(ctx.getSystem()).entityRefFor(TYPE_KEY, queueArn.substring(arnPrefix.length()))
        .ask(replyTo -> new Send(messages, replyTo), Duration.ofSeconds(10));
  }

  /** Answers long polls: the first that can take messages, or housekeeping; expired waits get nothing. */
  private Effect<Event, State> onTick(State s) {
    long now = clock.millis();
    Iterator<Waiter> it = s.waiters.iterator();
    while (it.hasNext()) {
      Waiter w = it.next();
      if (!s.exists()) {
        w.receive().replyTo().tell(missing());
        it.remove();
        continue;
      }
      Taken t = take(s, w.receive());
      if (!t.messages().isEmpty()) {
        it.remove();
        // One write per tick; the next tick comes at once when others still wait.
        return Effect().persist(t.events()).thenRun(st -> {
          w.receive().replyTo().tell(received(st, t.messages()));
          answerWaiters(st);
        });
      }
      if (!t.events().isEmpty()) {
        return Effect().persist(t.events()).thenRun(this::answerWaiters);
      }
      if (w.deadline() <= now) {
        w.receive().replyTo().tell(received(s, List.of()));
        it.remove();
      }
    }
    scheduleTick(s);
    updateGauges(s);
    return Effect().none();
  }

  /**
   * While long polls wait, the next tick comes when one of them is due or a message becomes
   * visible again; sends, deletes and visibility changes tick at once ({@link #answerWaiters}).
   */
  private void scheduleTick(State s) {
    if (s.waiters.isEmpty()) {
      timers.cancel("tick");
      return;
    }
    long now = clock.millis();
    long next = Long.MAX_VALUE;
    for (Waiter w : s.waiters) {
      next = Math.min(next, w.deadline());
    }
    for (QueueMessage m : s.messages.values()) {
      if (m.visibleAt() > now && m.visibleAt() < next) {
        next = m.visibleAt();
      }
    }
    timers.startSingleTimer("tick", new Tick(), Duration.ofMillis(Math.max(1, next - now)));
  }

  private void answerWaiters(State s) {
    if (!s.waiters.isEmpty()) {
      ctx.getSelf().tell(new Tick());
    }
  }

  private Effect<Event, State> onDelete(State s, DeleteMessages cmd) {
    if (!s.exists()) {
      return Effect().reply(cmd.replyTo(), missing());
    }
    List<String> ids = new ArrayList<>();
    List<Failure> failures = new ArrayList<>();
    for (Entry e : cmd.entries()) {
      String id = messageId(e.receiptHandle());
      if (id == null) {
        failures.add(invalidHandle(e));
        continue;
      }
      QueueMessage m = s.messages.get(id);
      // A stale handle (the message was received again since) deletes nothing, and is no error.
      if (m != null && e.receiptHandle().equals(m.receiptHandle())) {
        ids.add(id);
      }
    }
    Reply reply = new Reply(s.attributes, s.createdAt, s.modifiedAt, 0, 0, 0, List.of(), failures, List.of(), null,
        null);
    if (ids.isEmpty()) {
      return Effect().reply(cmd.replyTo(), reply);
    }
    return Effect().persist(new Removed(ids)).thenReply(cmd.replyTo(), st -> reply);
  }

  private Effect<Event, State> onChangeVisibility(State s, ChangeVisibility cmd) {
    if (!s.exists()) {
      return Effect().reply(cmd.replyTo(), missing());
    }
    long now = clock.millis();
    List<QueueMessage> changed = new ArrayList<>();
    List<Failure> failures = new ArrayList<>();
    for (Entry e : cmd.entries()) {
      String id = messageId(e.receiptHandle());
      QueueMessage m = id == null ? null : s.messages.get(id);
      if (id == null) {
        failures.add(invalidHandle(e));
      } else if (m == null || !e.receiptHandle().equals(m.receiptHandle()) || m.visibleAt() <= now) {
        failures.add(new Failure(e.id(), "MessageNotInflight", "Message does not exist or is not available for "
            + "visibility timeout change."));
      } else {
        changed.add(m.visibleAt(now + 1000L * e.visibilityTimeout()));
      }
    }
    Reply reply = new Reply(s.attributes, s.createdAt, s.modifiedAt, 0, 0, 0, List.of(), failures, List.of(), null,
        null);
    if (changed.isEmpty()) {
      return Effect().reply(cmd.replyTo(), reply);
    }
    return Effect().persist(new Touched(changed.stream().map(Touch::of).toList())).thenRun(this::answerWaiters)
        .thenReply(cmd.replyTo(), st -> reply);
  }

  private static Failure invalidHandle(Entry e) {
    return new Failure(e.id(), "ReceiptHandleIsInvalid",
        "The input receipt handle \"" + e.receiptHandle() + "\" is not a valid receipt handle.");
  }

  /** The message id inside a receipt handle, or null when it is not one of ours. */
  static String messageId(String handle) {
    if (handle == null || handle.isEmpty()) {
      return null;
    }
    try {
      String decoded = new String(Base64.getUrlDecoder().decode(handle), StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      return colon <= 0 ? null : decoded.substring(0, colon);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  // ---- move tasks (redrive) ------------------------------------------------------------------

  private Effect<Event, State> onStartMove(State s, StartMove cmd) {
    if (!s.exists()) {
      return Effect().reply(cmd.replyTo(), missing());
    }
    if (!cmd.deadLetterQueue() && s.messages.values().stream().allMatch(m -> m.sourceArn() == null)) {
      return Effect().reply(cmd.replyTo(), Reply.error("InvalidParameterValue",
          "Source queue must be configured as a Dead Letter Queue."));
    }
    if (s.moves.stream().anyMatch(t -> t.status().equals("RUNNING"))) {
      return Effect().reply(cmd.replyTo(), Reply.error("UnsupportedOperation",
          "There is already a task running. Only one active task is allowed for a source queue arn at a given time."));
    }
    List<String> ids = new ArrayList<>(s.messages.keySet());
    String handle = Base64.getUrlEncoder().withoutPadding().encodeToString(
        (arn + "|" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));
    MoveTask task = new MoveTask(handle, arn, cmd.destinationArn(), "RUNNING", 0, ids.size(), clock.millis(), null);
    s.moves.add(0, task);
    while (s.moves.size() > 10) {
      s.moves.remove(s.moves.size() - 1);
    }
    s.moveBacklog.put(handle, new java.util.ArrayDeque<>(ids));
    ctx.getSelf().tell(new MoveStep(handle, List.of(), List.of(), null));
    return Effect().reply(cmd.replyTo(), new Reply(null, 0, 0, 0, 0, 0, List.of(), List.of(), List.of(task), null,
        null));
  }

  /** One batch of a move task is done ({@code moved} may go); starts the next. */
  private Effect<Event, State> onMoveStep(State s, MoveStep cmd) {
    cmd.moved().forEach(s.moving::remove);
    cmd.released().forEach(s.moving::remove);
    int index = indexOfMove(s, cmd.taskHandle());
    java.util.ArrayDeque<String> backlog = s.moveBacklog.get(cmd.taskHandle());
    if (index < 0 || backlog == null) {
      return cmd.moved().isEmpty() ? Effect().none() : Effect().persist(new Removed(cmd.moved()));
    }
    MoveTask task = s.moves.get(index);
    int moved = task.moved() + cmd.moved().size();
    if (cmd.error() != null || !task.status().equals("RUNNING")) {
      String status = cmd.error() != null ? "FAILED" : task.status();
      s.moves.set(index, new MoveTask(task.taskHandle(), task.sourceArn(), task.destinationArn(), status, moved,
          task.toMove(), task.startedAt(), cmd.error()));
      s.moveBacklog.remove(cmd.taskHandle());
      return cmd.moved().isEmpty() ? Effect().none() : Effect().persist(new Removed(cmd.moved()));
    }
    List<QueueMessage> batch = new ArrayList<>();
    while (!backlog.isEmpty() && batch.size() < MOVE_BATCH) {
      QueueMessage m = s.messages.get(backlog.poll());
      if (m != null && !s.moving.contains(m.messageId()) && !cmd.moved().contains(m.messageId())) {
        batch.add(m);
      }
    }
    if (batch.isEmpty()) {
      s.moves.set(index, new MoveTask(task.taskHandle(), task.sourceArn(), task.destinationArn(), "COMPLETED", moved,
          task.toMove(), task.startedAt(), null));
      s.moveBacklog.remove(cmd.taskHandle());
    } else {
      s.moves.set(index, new MoveTask(task.taskHandle(), task.sourceArn(), task.destinationArn(), "RUNNING", moved,
          task.toMove(), task.startedAt(), null));
      batch.forEach(m -> s.moving.add(m.messageId()));
      List<String> ids = batch.stream().map(QueueMessage::messageId).toList();
      ctx.pipeToSelf(moveBatch(task.destinationArn(), batch),
          (ok, failure) -> failure == null ? new MoveStep(cmd.taskHandle(), ids, List.of(), null)
              : new MoveStep(cmd.taskHandle(), List.of(), ids, failure.getCause() != null
                  ? failure.getCause().getMessage() : failure.getMessage()));
    }
    return cmd.moved().isEmpty() ? Effect().none() : Effect().persist(new Removed(cmd.moved()));
  }

  /** Sends each message to the destination, or to the queue or function it came from. */
  private CompletionStage<Void> moveBatch(String destination, List<QueueMessage> batch) {
    List<CompletableFuture<?>> sends = new ArrayList<>();
    Map<String, List<NewMessage>> toQueues = new LinkedHashMap<>();
    for (QueueMessage m : batch) {
      String target = destination != null ? destination : m.sourceArn();
      if (target == null) {
        return CompletableFuture.failedFuture(new IllegalStateException(
            "Message " + m.messageId() + " was not moved here from a source: give a DestinationArn"));
      }
      if (target.startsWith(arnPrefix)) {
        toQueues.computeIfAbsent(target, t -> new ArrayList<>())
            .add(new NewMessage(m.messageId(), m.body(), m.attributes(), 0, null));
      } else {
        sends.add(functions.deliver(target, ByteString.fromString(m.body()), List.of(), null).toCompletableFuture());
      }
    }
    toQueues.forEach((queue, messages) -> sends.add(sendTo(queue, messages).thenAccept(reply -> {
      if (reply.errorCode() != null) {
        throw new IllegalStateException(reply.errorMessage());
      }
    }).toCompletableFuture()));
    return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new));
  }

  private Effect<Event, State> onCancelMove(State s, CancelMove cmd) {
    int index = indexOfMove(s, cmd.taskHandle());
    if (index < 0 || !s.moves.get(index).status().equals("RUNNING")) {
      return Effect().reply(cmd.replyTo(), Reply.error("ResourceNotFoundException", "Task does not exist."));
    }
    MoveTask task = s.moves.get(index);
    MoveTask cancelled = new MoveTask(task.taskHandle(), task.sourceArn(), task.destinationArn(), "CANCELLED",
        task.moved(), task.toMove(), task.startedAt(), null);
    s.moves.set(index, cancelled);
    s.moveBacklog.remove(cmd.taskHandle());
    return Effect().reply(cmd.replyTo(), new Reply(null, 0, 0, 0, 0, 0, List.of(), List.of(), List.of(cancelled),
        null, null));
  }

  private static int indexOfMove(State s, String handle) {
    for (int i = 0; i < s.moves.size(); i++) {
      if (s.moves.get(i).taskHandle().equals(handle)) {
        return i;
      }
    }
    return -1;
  }

  // ---- replies -------------------------------------------------------------------------------

  private Reply info(State s) {
    if (!s.exists()) {
      return missing();
    }
    long now = clock.millis();
    int visible = 0;
    int inFlight = 0;
    int delayed = 0;
    for (QueueMessage m : s.messages.values()) {
      if (m.visibleAt() <= now) {
        visible++;
      } else if (m.receiveCount() > 0) {
        inFlight++;
      } else {
        delayed++;
      }
    }
    visibleGauge.set(visible);
    inFlightGauge.set(inFlight);
    delayedGauge.set(delayed);
    return new Reply(s.attributes, s.createdAt, s.modifiedAt, visible, inFlight, delayed, List.of(), List.of(),
        List.of(), null, null);
  }

  private void updateGauges(State s) {
    info(s);
  }

  private static Reply received(State s, List<QueueMessage> messages) {
    return new Reply(s.attributes, s.createdAt, s.modifiedAt, 0, 0, 0, messages, List.of(), List.of(), null, null);
  }

  private static Reply done() {
    return new Reply(null, 0, 0, 0, 0, 0, List.of(), List.of(), List.of(), null, null);
  }

  private static Reply missing() {
    return Reply.error("QueueDoesNotExist", "The specified queue does not exist.");
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Created.class, (s, e) -> {
          s.messages.clear();
          s.attributes = e.attributes();
          s.createdAt = e.at();
          s.modifiedAt = e.at();
          return s;
        })
        .onEvent(AttributesSet.class, (s, e) -> {
          s.attributes = e.attributes();
          s.modifiedAt = e.at();
          return s;
        })
        .onEvent(QueueDeleted.class, (s, e) -> {
          s.attributes = null;
          s.messages.clear();
          return s;
        })
        .onEvent(Sent.class, (s, e) -> {
          e.messages().forEach(m -> s.messages.put(m.messageId(), m));
          return s;
        })
        .onEvent(Touched.class, (s, e) -> {
          for (Touch t : e.touches()) {
            QueueMessage m = s.messages.get(t.messageId());
            if (m != null) {
              s.messages.put(t.messageId(), m.touched(t));
            }
          }
          return s;
        })
        .onEvent(Removed.class, (s, e) -> {
          e.messageIds().forEach(s.messages::remove);
          return s;
        })
        .onEvent(Purged.class, (s, e) -> {
          s.messages.clear();
          return s;
        })
        .build();
  }
}
