package dev.lamina.actors.registry;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.LambdaError;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * The control-plane state of one function (entity id = function name), event-sourced.
 *
 * <p>Contract: the HTTP layer validates requests and sends fully formed configurations; this
 * entity owns existence, {@code RevisionId} preconditions, {@code LastModified} and the revision
 * itself. Every persisted change is announced on the {@code function-changes} topic so that
 * caches on every node drop their copy. Nothing is lost on rebalance: the state is the journal.
 *
 * <p>States: absent (never created, or deleted) and present.
 */
public final class FunctionRegistry
    extends EventSourcedBehavior<FunctionRegistry.Command, FunctionRegistry.Event, FunctionRegistry.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "FunctionRegistry");

  public sealed interface Command extends CborSerializable permits Create, Get, Update, Delete {}

  /** Creates the function; {@code lastModified} and {@code revisionId} of {@code config} are replaced. */
  public record Create(FunctionConfig config, ActorRef<Reply> replyTo) implements Command {}

  public record Get(ActorRef<Reply> replyTo) implements Command {}

  /**
   * Replaces the configuration. {@code basedOnRevision} is the revision the caller derived
   * {@code config} from (a concurrent change makes this a conflict); {@code expectedRevision} is
   * the user's {@code RevisionId} precondition, or null.
   */
  public record Update(FunctionConfig config, String basedOnRevision, String expectedRevision, ActorRef<Reply> replyTo)
      implements Command {}

  public record Delete(ActorRef<Reply> replyTo) implements Command {}

  /** Either a configuration or an error (code = a {@link LambdaError.Code} name). */
  public record Reply(FunctionConfig config, String errorCode, String errorMessage) implements CborSerializable {
    public static Reply ok(FunctionConfig config) {
      return new Reply(config, null, null);
    }

    public static Reply error(LambdaError.Code code, String message) {
      return new Reply(null, code.name(), message);
    }

    /** The configuration, or the error thrown as a {@link LambdaError}. */
    public FunctionConfig orThrow() {
      if (errorCode != null) {
        throw new LambdaError(LambdaError.Code.valueOf(errorCode), errorMessage);
      }
      return config;
    }
  }

  public sealed interface Event extends CborSerializable permits Created, Updated, Deleted {}

  public record Created(FunctionConfig config) implements Event {}

  public record Updated(FunctionConfig config) implements Event {}

  public record Deleted(String name) implements Event {}

  /** {@code config} is null while the function does not exist. */
  public record State(FunctionConfig config) implements CborSerializable {}

  /** Published after every persisted change of a function. */
  public record FunctionChanged(String name) implements CborSerializable {}

  private static final DateTimeFormatter LAST_MODIFIED =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ").withZone(ZoneOffset.UTC);

  private final String name;
  private final String arnPrefix;
  private final Clock clock;
  private final ActorRef<Topic.Command<FunctionChanged>> changes;

  private FunctionRegistry(String name, String arnPrefix, Clock clock, ActorRef<Topic.Command<FunctionChanged>> changes) {
    super(PersistenceId.of(TYPE_KEY.name(), name));
    this.name = name;
    this.arnPrefix = arnPrefix;
    this.clock = clock;
    this.changes = changes;
  }

  public static Behavior<Command> create(
      String name, String arnPrefix, Clock clock, ActorRef<Topic.Command<FunctionChanged>> changes) {
    return Behaviors.setup(ctx -> new FunctionRegistry(name, arnPrefix, clock, changes));
  }

  /** Starts the sharded registry on this node. {@code arnPrefix} is {@code arn:aws:lambda:<region>:<account>:function:}. */
  public static void initSharding(
      ActorSystem<?> system, String arnPrefix, Clock clock, ActorRef<Topic.Command<FunctionChanged>> changes) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY,
        ctx -> create(ctx.getEntityId(), arnPrefix, clock, changes)));
  }

  /** Lambda's {@code LastModified} string for an instant. */
  public static String lastModified(Clock clock) {
    return LAST_MODIFIED.format(clock.instant());
  }

  @Override
  public State emptyState() {
    return new State(null);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), current(state)))
        .onCommand(Update.class, this::onUpdate)
        .onCommand(Delete.class, this::onDelete)
        .build();
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onCreate(State state, Create cmd) {
    if (state.config() != null) {
      return Effect().reply(cmd.replyTo(),
          Reply.error(LambdaError.Code.ResourceConflictException, "Function already exist: " + name));
    }
    FunctionConfig config = stamped(cmd.config());
    return Effect().persist(new Created(config))
        .thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ok(s.config()));
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onUpdate(State state, Update cmd) {
    if (state.config() == null) {
      return Effect().reply(cmd.replyTo(), notFoundReply());
    }
    String current = state.config().revisionId();
    if (cmd.expectedRevision() != null && !cmd.expectedRevision().equals(current)) {
      return Effect().reply(cmd.replyTo(), Reply.error(LambdaError.Code.PreconditionFailedException,
          "The Revision Id provided does not match the latest Revision Id. "
              + "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"));
    }
    if (!current.equals(cmd.basedOnRevision())) {
      return Effect().reply(cmd.replyTo(), Reply.error(LambdaError.Code.ResourceConflictException,
          "The operation cannot be performed at this time. An update is in progress for resource: "
              + arnPrefix + name));
    }
    FunctionConfig config = stamped(cmd.config());
    return Effect().persist(new Updated(config))
        .thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ok(s.config()));
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onDelete(State state, Delete cmd) {
    if (state.config() == null) {
      return Effect().reply(cmd.replyTo(), notFoundReply());
    }
    FunctionConfig last = state.config();
    return Effect().persist(new Deleted(name))
        .thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ok(last));
  }

  private Reply current(State state) {
    return state.config() == null ? notFoundReply() : Reply.ok(state.config());
  }

  private Reply notFoundReply() {
    return Reply.error(LambdaError.Code.ResourceNotFoundException, "Function not found: " + arnPrefix + name);
  }

  private FunctionConfig stamped(FunctionConfig c) {
    return new FunctionConfig(name, c.version(), c.runtime(), c.role(), c.handler(), c.description(),
        c.timeoutSeconds(), c.memorySizeMb(), c.ephemeralStorageMb(), c.environment(), c.codeSha256Hex(),
        c.codeSize(), lastModified(clock), UUID.randomUUID().toString(), c.architecture(), c.tracingMode(),
        c.deadLetterTargetArn(), c.logFormat(), c.logGroup(), c.tags());
  }

  private void announce() {
    changes.tell(Topic.publish(new FunctionChanged(name)));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Created.class, (state, e) -> new State(e.config()))
        .onEvent(Updated.class, (state, e) -> new State(e.config()))
        .onEvent(Deleted.class, (state, e) -> new State(null))
        .build();
  }
}
