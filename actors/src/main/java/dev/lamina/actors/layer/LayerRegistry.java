package dev.lamina.actors.layer;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.registry.FunctionRegistry;
import java.time.Clock;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
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
 * The versions of one layer (entity id = layer name), event-sourced.
 *
 * <p>Contract: the API layer validates and stores the content first; this entity numbers
 * versions (1, 2, … never reused, even after deletions) and forgets deleted ones. Functions keep
 * the digest of the layer versions they use, so deleting a version never breaks them. Nothing is
 * lost on rebalance: the state is the journal.
 */
public final class LayerRegistry
    extends EventSourcedBehavior<LayerRegistry.Command, LayerRegistry.Event, LayerRegistry.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "LayerRegistry");

  public sealed interface Command extends CborSerializable
      permits Publish, Get, ListVersions, Delete, AddPermission, GetPolicy, RemovePermission {}

  /** Publishes {@code version} (its number and creation date are assigned here). */
  public record Publish(LayerVersion version, ActorRef<Reply> replyTo) implements Command {}

  public record Get(int version, ActorRef<Reply> replyTo) implements Command {}

  /** Every existing version, newest first. */
  public record ListVersions(ActorRef<Reply> replyTo) implements Command {}

  /** Deletes a version; deleting one that does not exist is not an error. */
  public record Delete(int version, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Adds a statement to a version's policy; {@code expectedRevision} is the user's precondition on
   * the policy's revision, or null.
   */
  public record AddPermission(int version, LayerPolicy.Statement statement, String expectedRevision,
      ActorRef<Reply> replyTo) implements Command {}

  public record GetPolicy(int version, ActorRef<Reply> replyTo) implements Command {}

  public record RemovePermission(int version, String sid, String expectedRevision, ActorRef<Reply> replyTo)
      implements Command {}

  /**
   * Versions (one for Publish and Get, newest first for List), a version's policy, or an error.
   */
  public record Reply(List<LayerVersion> versions, LayerPolicy policy, String errorCode, String errorMessage)
      implements CborSerializable {

    public Reply {
      versions = versions == null ? List.of() : versions;
    }

    /** The only version of the reply, or the error thrown as a {@link LambdaError}. */
    public LayerVersion versionOrThrow() {
      throwIfError();
      return versions.isEmpty() ? null : versions.get(0);
    }

    /** The policy of the reply, or the error thrown as a {@link LambdaError}. */
    public LayerPolicy policyOrThrow() {
      throwIfError();
      return policy;
    }

    private void throwIfError() {
      if (errorCode != null) {
        throw new LambdaError(LambdaError.Code.valueOf(errorCode), errorMessage);
      }
    }
  }

  public sealed interface Event extends CborSerializable permits Published, Deleted, PolicyChanged {}

  public record Published(LayerVersion version) implements Event {}

  public record Deleted(int version) implements Event {}

  /** A version's policy after a statement was added or removed (null: no statement left). */
  public record PolicyChanged(int version, LayerPolicy policy) implements Event {}

  /**
   * {@code lastVersion}: the highest number ever published. {@code policies}: per existing
   * version that has any statement.
   */
  public record State(NavigableMap<Integer, LayerVersion> versions, int lastVersion, Map<Integer, LayerPolicy> policies) {}

  private final String name;
  private final String arn;
  private final Clock clock;

  private LayerRegistry(String name, String arnPrefix, Clock clock) {
    super(PersistenceId.of(TYPE_KEY.name(), name));
    this.name = name;
    this.arn = arnPrefix + name;
    this.clock = clock;
  }

  /** {@code arnPrefix} is {@code arn:aws:lambda:<region>:<account>:layer:}. */
  public static void initSharding(ActorSystem<?> system, String arnPrefix, Clock clock) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY,
        ctx -> Behaviors.setup(c -> new LayerRegistry(ctx.getEntityId(), arnPrefix, clock))));
  }

  @Override
  public State emptyState() {
    return new State(Collections.emptyNavigableMap(), 0, Map.of());
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Publish.class, this::onPublish)
        .onCommand(Get.class, (state, cmd) -> {
          LayerVersion v = state.versions().get(cmd.version());
          return Effect().reply(cmd.replyTo(), v != null ? ok(List.of(v))
              : error(LambdaError.Code.ResourceNotFoundException, "The resource you requested does not exist."));
        })
        .onCommand(ListVersions.class, (state, cmd) -> Effect().reply(cmd.replyTo(),
            ok(List.copyOf(state.versions().descendingMap().values()))))
        .onCommand(Delete.class, (state, cmd) -> state.versions().containsKey(cmd.version())
            ? Effect().persist(new Deleted(cmd.version())).thenReply(cmd.replyTo(), s -> ok(List.of()))
            : Effect().reply(cmd.replyTo(), ok(List.of())))
        .onCommand(AddPermission.class, this::onAddPermission)
        .onCommand(GetPolicy.class, (state, cmd) -> {
          LayerPolicy policy = state.policies().get(cmd.version());
          return Effect().reply(cmd.replyTo(), !state.versions().containsKey(cmd.version()) ? versionMissing(cmd.version())
              : policy == null ? error(LambdaError.Code.ResourceNotFoundException,
                  "No policy is associated with the given resource.")
              : new Reply(null, policy, null, null));
        })
        .onCommand(RemovePermission.class, this::onRemovePermission)
        .build();
  }

  private ReplyEffect<Event, State> onAddPermission(State state, AddPermission cmd) {
    if (!state.versions().containsKey(cmd.version())) {
      return Effect().reply(cmd.replyTo(), versionMissing(cmd.version()));
    }
    LayerPolicy current = state.policies().getOrDefault(cmd.version(), new LayerPolicy(List.of(), null));
    if (cmd.expectedRevision() != null && !cmd.expectedRevision().equals(current.revisionId())) {
      return Effect().reply(cmd.replyTo(), revisionMismatch());
    }
    if (current.statement(cmd.statement().sid()) != null) {
      return Effect().reply(cmd.replyTo(), error(LambdaError.Code.ResourceConflictException, "The statement id ("
          + cmd.statement().sid() + ") provided already exists. Please provide a new statement id, or remove the "
          + "existing statement."));
    }
    LayerPolicy changed = current.with(cmd.statement(), UUID.randomUUID().toString());
    return Effect().persist(new PolicyChanged(cmd.version(), changed))
        .thenReply(cmd.replyTo(), s -> new Reply(null, changed, null, null));
  }

  private ReplyEffect<Event, State> onRemovePermission(State state, RemovePermission cmd) {
    if (!state.versions().containsKey(cmd.version())) {
      return Effect().reply(cmd.replyTo(), versionMissing(cmd.version()));
    }
    LayerPolicy current = state.policies().get(cmd.version());
    if (current != null && cmd.expectedRevision() != null && !cmd.expectedRevision().equals(current.revisionId())) {
      return Effect().reply(cmd.replyTo(), revisionMismatch());
    }
    if (current == null || current.statement(cmd.sid()) == null) {
      return Effect().reply(cmd.replyTo(), error(LambdaError.Code.ResourceNotFoundException,
          "Statement " + cmd.sid() + " is not found in resource policy."));
    }
    LayerPolicy changed = current.without(cmd.sid(), UUID.randomUUID().toString());
    return Effect().persist(new PolicyChanged(cmd.version(), changed.statements().isEmpty() ? null : changed))
        .thenReply(cmd.replyTo(), s -> ok(List.of()));
  }

  private Reply versionMissing(int version) {
    return error(LambdaError.Code.ResourceNotFoundException, "Layer version " + arn + ":" + version + " does not exist.");
  }

  private static Reply revisionMismatch() {
    return error(LambdaError.Code.PreconditionFailedException, "The Revision Id provided does not match the latest "
        + "Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id");
  }

  private static Reply error(LambdaError.Code code, String message) {
    return new Reply(null, null, code.name(), message);
  }

  private ReplyEffect<Event, State> onPublish(State state, Publish cmd) {
    LayerVersion version = cmd.version().numbered(state.lastVersion() + 1, FunctionRegistry.lastModified(clock));
    return Effect().persist(new Published(version)).thenReply(cmd.replyTo(), s -> ok(List.of(version)));
  }

  private static Reply ok(List<LayerVersion> versions) {
    return new Reply(versions, null, null, null);
  }

  private static Map<Integer, LayerPolicy> withPolicy(Map<Integer, LayerPolicy> policies, int version,
      LayerPolicy policy) {
    Map<Integer, LayerPolicy> changed = new HashMap<>(policies);
    if (policy == null) {
      changed.remove(version);
    } else {
      changed.put(version, policy);
    }
    return Map.copyOf(changed);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Published.class, (state, e) -> {
          TreeMap<Integer, LayerVersion> v = new TreeMap<>(state.versions());
          v.put(e.version().version(), e.version());
          return new State(Collections.unmodifiableNavigableMap(v), Math.max(state.lastVersion(), e.version().version()),
              state.policies());
        })
        .onEvent(Deleted.class, (state, e) -> {
          TreeMap<Integer, LayerVersion> v = new TreeMap<>(state.versions());
          v.remove(e.version());
          return new State(Collections.unmodifiableNavigableMap(v), state.lastVersion(),
              withPolicy(state.policies(), e.version(), null));
        })
        .onEvent(PolicyChanged.class, (state, e) -> new State(state.versions(), state.lastVersion(),
            withPolicy(state.policies(), e.version(), e.policy())))
        .build();
  }
}
