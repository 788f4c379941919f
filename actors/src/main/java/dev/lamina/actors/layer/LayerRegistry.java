package dev.lamina.actors.layer;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.registry.FunctionRegistry;
import java.time.Clock;
import java.util.Collections;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
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

  public sealed interface Command extends CborSerializable permits Publish, Get, ListVersions, Delete {}

  /** Publishes {@code version} (its number and creation date are assigned here). */
  public record Publish(LayerVersion version, ActorRef<Reply> replyTo) implements Command {}

  public record Get(int version, ActorRef<Reply> replyTo) implements Command {}

  /** Every existing version, newest first. */
  public record ListVersions(ActorRef<Reply> replyTo) implements Command {}

  /** Deletes a version; deleting one that does not exist is not an error. */
  public record Delete(int version, ActorRef<Reply> replyTo) implements Command {}

  /** Versions (one for Publish and Get, newest first for List), or an error. */
  public record Reply(List<LayerVersion> versions, String errorCode, String errorMessage)
      implements CborSerializable {

    public Reply {
      versions = versions == null ? List.of() : versions;
    }

    /** The only version of the reply, or the error thrown as a {@link LambdaError}. */
    public LayerVersion versionOrThrow() {
      if (errorCode != null) {
        throw new LambdaError(LambdaError.Code.valueOf(errorCode), errorMessage);
      }
      return versions.isEmpty() ? null : versions.get(0);
    }
  }

  public sealed interface Event extends CborSerializable permits Published, Deleted {}

  public record Published(LayerVersion version) implements Event {}

  public record Deleted(int version) implements Event {}

  /** {@code lastVersion}: the highest number ever published. */
  public record State(NavigableMap<Integer, LayerVersion> versions, int lastVersion) {}

  private final String name;
  private final Clock clock;

  private LayerRegistry(String name, Clock clock) {
    super(PersistenceId.of(TYPE_KEY.name(), name));
    this.name = name;
    this.clock = clock;
  }

  public static void initSharding(ActorSystem<?> system, Clock clock) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY,
        ctx -> Behaviors.setup(c -> new LayerRegistry(ctx.getEntityId(), clock))));
  }

  @Override
  public State emptyState() {
    return new State(Collections.emptyNavigableMap(), 0);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Publish.class, this::onPublish)
        .onCommand(Get.class, (state, cmd) -> {
          LayerVersion v = state.versions().get(cmd.version());
          return Effect().reply(cmd.replyTo(), v != null ? ok(List.of(v))
              : new Reply(null, LambdaError.Code.ResourceNotFoundException.name(),
                  "The resource you requested does not exist."));
        })
        .onCommand(ListVersions.class, (state, cmd) -> Effect().reply(cmd.replyTo(),
            ok(List.copyOf(state.versions().descendingMap().values()))))
        .onCommand(Delete.class, (state, cmd) -> state.versions().containsKey(cmd.version())
            ? Effect().persist(new Deleted(cmd.version())).thenReply(cmd.replyTo(), s -> ok(List.of()))
            : Effect().reply(cmd.replyTo(), ok(List.of())))
        .build();
  }

  private ReplyEffect<Event, State> onPublish(State state, Publish cmd) {
    LayerVersion version = cmd.version().numbered(state.lastVersion() + 1, FunctionRegistry.lastModified(clock));
    return Effect().persist(new Published(version)).thenReply(cmd.replyTo(), s -> ok(List.of(version)));
  }

  private static Reply ok(List<LayerVersion> versions) {
    return new Reply(versions, null, null);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Published.class, (state, e) -> {
          TreeMap<Integer, LayerVersion> v = new TreeMap<>(state.versions());
          v.put(e.version().version(), e.version());
          return new State(Collections.unmodifiableNavigableMap(v), Math.max(state.lastVersion(), e.version().version()));
        })
        .onEvent(Deleted.class, (state, e) -> {
          TreeMap<Integer, LayerVersion> v = new TreeMap<>(state.versions());
          v.remove(e.version());
          return new State(Collections.unmodifiableNavigableMap(v), state.lastVersion());
        })
        .build();
  }
}
