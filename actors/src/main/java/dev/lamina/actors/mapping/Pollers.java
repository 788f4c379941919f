package dev.lamina.actors.mapping;

import dev.lamina.actors.events.EventDispatch;
import dev.lamina.actors.metrics.Metrics;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The node's pollers: one {@link Poller} child per enabled event source mapping. {@link Sync} gives
 * the full list of mappings; pollers whose mapping changed are replaced, those of deleted or
 * disabled mappings stop (messages they had received but not yet handed to the function become
 * visible again at once).
 */
public final class Pollers {

  public sealed interface Command {}

  /** The mappings as of {@code version} (increasing): an older list that arrives late is ignored. */
  public record Sync(long version, List<MappingConfig> mappings) implements Command {}

  private record PollerStopped(String uuid, ActorRef<Poller.Command> poller) implements Command {}

  private Pollers() {}

  /** {@code queueArnPrefix}: only mappings of Lamina queues are polled. */
  public static Behavior<Command> create(String queueArnPrefix, String region, int defaultConcurrency,
      EventDispatch dispatch, Metrics metrics, Clock clock) {
    return Behaviors.setup(ctx -> {
      Map<String, MappingConfig> running = new HashMap<>();
      Map<String, ActorRef<Poller.Command>> children = new HashMap<>();
      long[] generation = {0};
      long[] version = {-1};
      return Behaviors.receive(Command.class)
          .onMessage(PollerStopped.class, stopped -> {
            // A poller that failed (not one told to stop) is started again by the next Sync.
            if (children.get(stopped.uuid()) == stopped.poller()) {
              children.remove(stopped.uuid());
              running.remove(stopped.uuid());
              ctx.getLog().warn("the poller of event source mapping {} stopped; it starts again with the next change",
                  stopped.uuid());
            }
            return Behaviors.same();
          })
          .onMessage(Sync.class, sync -> {
            if (sync.version() < version[0]) {
              return Behaviors.same();
            }
            version[0] = sync.version();
            Map<String, MappingConfig> wanted = new HashMap<>();
            sync.mappings().stream().filter(MappingConfig::enabled)
                .filter(m -> m.eventSourceArn().startsWith(queueArnPrefix))
                .forEach(m -> wanted.put(m.uuid(), m));
            for (String uuid : List.copyOf(running.keySet())) {
              MappingConfig now = wanted.get(uuid);
              if (now == null || !now.equals(running.get(uuid))) {
                children.remove(uuid).tell(new Poller.Stop());  // it releases what it holds, then stops
                running.remove(uuid);
              }
            }
            wanted.forEach((uuid, m) -> {
              if (!running.containsKey(uuid)) {
                int concurrency = m.maximumConcurrency() != null ? m.maximumConcurrency() : defaultConcurrency;
                String queue = m.eventSourceArn().substring(queueArnPrefix.length());
                ActorRef<Poller.Command> poller = ctx.spawn(Behaviors.supervise(
                        Poller.create(m, queue, region, concurrency, dispatch, metrics, clock))
                    .onFailure(Exception.class, SupervisorStrategy.restart()), "poller-" + uuid + "-" + generation[0]++);
                ctx.watchWith(poller, new PollerStopped(uuid, poller));
                children.put(uuid, poller);
                running.put(uuid, m);
              }
            });
            return Behaviors.same();
          })
          .build();
    });
  }
}
