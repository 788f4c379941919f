package dev.lamina.actors.mapping;

import dev.lamina.actors.events.EventDispatch;
import dev.lamina.actors.metrics.Metrics;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The node's pollers: one {@link Poller} child per enabled event source mapping. {@link Sync} gives
 * the full list of mappings; pollers whose mapping changed are replaced, those of deleted or
 * disabled mappings stop (messages they had received but not yet handed to the function become
 * visible again at once).
 */
public final class Pollers {

  public sealed interface Command {}

  public record Sync(List<MappingConfig> mappings) implements Command {}

  private Pollers() {}

  /** {@code queueArnPrefix}: only mappings of Lamina queues are polled. */
  public static Behavior<Command> create(String queueArnPrefix, String region, int defaultConcurrency,
      EventDispatch dispatch, Metrics metrics, Clock clock) {
    return Behaviors.setup(ctx -> {
      Map<String, MappingConfig> running = new HashMap<>();
      Map<String, ActorRef<Poller.Command>> children = new HashMap<>();
      long[] generation = {0};
      return Behaviors.receive(Command.class)
          .onMessage(Sync.class, sync -> {
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
                children.put(uuid, ctx.spawn(Poller.create(m, queue, region, concurrency, dispatch, metrics, clock),
                    "poller-" + uuid + "-" + generation[0]++));
                running.put(uuid, m);
              }
            });
            return Behaviors.same();
          })
          .build();
    });
  }
}
