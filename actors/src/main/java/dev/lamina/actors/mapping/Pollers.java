package dev.lamina.actors.mapping;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.events.EventDispatch;
import dev.lamina.actors.metrics.Metrics;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The cluster's pollers (one instance, a cluster singleton, so that a mapping's concurrency is
 * not multiplied by the number of nodes): one {@link Poller} child per enabled event source
 * mapping. On start, on every {@link Refresh} and every {@code refreshEvery} it loads the mappings
 * from the {@link MappingRegistry}; pollers whose mapping changed are replaced, those of deleted or
 * disabled mappings stop (messages they had received but not yet handed to the function become
 * visible again at once). Loads are numbered when asked for, so one answered late cannot undo a
 * newer one.
 */
public final class Pollers {

  public sealed interface Command {}

  /** The mappings changed: load them again. */
  public record Refresh() implements Command, CborSerializable {}

  /** The mappings as of load {@code version} (increasing); null when the registry did not answer. */
  private record Loaded(long version, List<MappingConfig> mappings) implements Command {}

  private record PollerStopped(String uuid, ActorRef<Poller.Command> poller) implements Command {}

  private record Respawn(String uuid, MappingConfig config) implements Command {}

  private Pollers() {}

  /** {@code queueArnPrefix}: only mappings of Lamina queues are polled. */
  public static Behavior<Command> create(String queueArnPrefix, String region, int defaultConcurrency,
      EventDispatch dispatch, Metrics metrics, Clock clock, Duration refreshEvery) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.setLoggerName(Pollers.class);
      long[] loads = {0};
      Runnable load = () -> {
        long number = ++loads[0];
        ctx.pipeToSelf(ClusterSharding.get(ctx.getSystem()).entityRefFor(MappingRegistry.TYPE_KEY, MappingRegistry.ALL)
                .ask(MappingRegistry.GetAll::new, Duration.ofSeconds(10)),
            (reply, failure) -> new Loaded(number, failure == null ? reply.mappings() : null));
      };
      load.run();
      timers.startTimerWithFixedDelay(new Refresh(), refreshEvery);
      Map<String, MappingConfig> running = new HashMap<>();
      Map<String, ActorRef<Poller.Command>> children = new HashMap<>();
      long[] generation = {0};
      long[] version = {-1};
      // A poller that fails stops (its in-flight results die with it) and a fresh one, under a new
      // name, takes over a second later: a restarted poller would mix its old loops with new ones.
      java.util.function.Consumer<MappingConfig> spawn = m -> {
        int concurrency = m.maximumConcurrency() != null ? m.maximumConcurrency() : defaultConcurrency;
        String queue = m.eventSourceArn().substring(queueArnPrefix.length());
        ActorRef<Poller.Command> poller = ctx.spawn(Poller.create(m, queue, region, concurrency, dispatch, metrics,
            clock), "poller-" + m.uuid() + "-" + generation[0]++);
        ctx.watchWith(poller, new PollerStopped(m.uuid(), poller));
        children.put(m.uuid(), poller);
      };
      return Behaviors.receive(Command.class)
          .onMessage(PollerStopped.class, stopped -> {
            if (children.get(stopped.uuid()) == stopped.poller()) {  // it failed; one told to stop is gone already
              children.remove(stopped.uuid());
              MappingConfig m = running.get(stopped.uuid());
              ctx.getLog().warn("the poller of event source mapping {} failed; a new one starts", stopped.uuid());
              if (m != null) {
                ctx.scheduleOnce(java.time.Duration.ofSeconds(1), ctx.getSelf(), new Respawn(stopped.uuid(), m));
              }
            }
            return Behaviors.same();
          })
          .onMessage(Respawn.class, r -> {
            if (r.config().equals(running.get(r.uuid())) && !children.containsKey(r.uuid())) {
              spawn.accept(r.config());
            }
            return Behaviors.same();
          })
          .onMessage(Refresh.class, r -> {
            load.run();
            return Behaviors.same();
          })
          .onMessage(Loaded.class, sync -> {
            if (sync.version() < version[0]) {
              return Behaviors.same();
            }
            if (sync.mappings() == null) {
              ctx.getLog().warn("event source mappings could not be loaded; trying again");
              timers.startSingleTimer("retry-load", new Refresh(), Duration.ofSeconds(2));
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
                ActorRef<Poller.Command> poller = children.remove(uuid);
                if (poller != null) {
                  poller.tell(new Poller.Stop());  // it releases what it holds, then stops
                }
                running.remove(uuid);
              }
            }
            wanted.forEach((uuid, m) -> {
              if (!running.containsKey(uuid)) {
                running.put(uuid, m);
                spawn.accept(m);
              }
            });
            return Behaviors.same();
          })
          .build();
    }));
  }
}
