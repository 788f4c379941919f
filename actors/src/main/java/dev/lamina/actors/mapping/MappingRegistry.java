package dev.lamina.actors.mapping;

import dev.lamina.actors.CborSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * Every event source mapping of the account (one entity, id {@link #ALL}), event-sourced.
 *
 * <p>Contract: the API layer validates requests and checks that functions and queues exist; this
 * entity owns UUIDs' existence and the rule that one queue feeds one function through one mapping
 * (ResourceConflictException otherwise). Pollers are started from its list.
 */
public final class MappingRegistry
    extends EventSourcedBehavior<MappingRegistry.Command, MappingRegistry.Event, MappingRegistry.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "MappingRegistry");
  public static final String ALL = "all";

  public sealed interface Command extends CborSerializable permits Put, Remove, GetAll {}

  /** Creates ({@code create}) or replaces a mapping. */
  public record Put(MappingConfig config, boolean create, ActorRef<Reply> replyTo) implements Command {}

  public record Remove(String uuid, ActorRef<Reply> replyTo) implements Command {}

  public record GetAll(ActorRef<Reply> replyTo) implements Command {}

  /** The mappings (sorted by UUID) or an error: {@code conflict} names the existing mapping. */
  public record Reply(List<MappingConfig> mappings, String conflict, boolean missing) implements CborSerializable {}

  public sealed interface Event extends CborSerializable permits MappingPut, MappingRemoved {}

  public record MappingPut(MappingConfig config) implements Event {}

  public record MappingRemoved(String uuid) implements Event {}

  public record State(Map<String, MappingConfig> mappings) implements CborSerializable {}

  private MappingRegistry(String id) {
    super(PersistenceId.of(TYPE_KEY.name(), id));
  }

  public static void initSharding(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, ctx -> new MappingRegistry(ctx.getEntityId())));
  }

  @Override
  public State emptyState() {
    return new State(Map.of());
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Put.class, (state, cmd) -> {
          MappingConfig c = cmd.config();
          if (!cmd.create() && !state.mappings().containsKey(c.uuid())) {
            return Effect().reply(cmd.replyTo(), new Reply(List.of(), null, true));
          }
          for (MappingConfig other : state.mappings().values()) {
            if (!other.uuid().equals(c.uuid()) && other.eventSourceArn().equals(c.eventSourceArn())
                && other.functionName().equals(c.functionName())
                && java.util.Objects.equals(other.qualifier(), c.qualifier())) {
              return Effect().reply(cmd.replyTo(), new Reply(List.of(), other.uuid(), false));
            }
          }
          return Effect().persist(new MappingPut(c)).thenReply(cmd.replyTo(), s -> new Reply(List.of(c), null, false));
        })
        .onCommand(Remove.class, (state, cmd) -> {
          MappingConfig c = state.mappings().get(cmd.uuid());
          if (c == null) {
            return Effect().reply(cmd.replyTo(), new Reply(List.of(), null, true));
          }
          return Effect().persist(new MappingRemoved(cmd.uuid()))
              .thenReply(cmd.replyTo(), s -> new Reply(List.of(c), null, false));
        })
        .onCommand(GetAll.class, (state, cmd) -> Effect().reply(cmd.replyTo(),
            new Reply(new ArrayList<>(state.mappings().values()), null, false)))
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(MappingPut.class, (state, e) -> {
          TreeMap<String, MappingConfig> m = new TreeMap<>(state.mappings());
          m.put(e.config().uuid(), e.config());
          return new State(m);
        })
        .onEvent(MappingRemoved.class, (state, e) -> {
          TreeMap<String, MappingConfig> m = new TreeMap<>(state.mappings());
          m.remove(e.uuid());
          return new State(m);
        })
        .build();
  }
}
