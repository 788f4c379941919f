package dev.lamina.actors.registry;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The node's way to the function registry: asks entities, lists functions, and caches
 * configurations for the invoke path so that a warm invocation costs no registry round trip.
 *
 * <p>The cache drops a function whenever the registry announces a change on the
 * {@code function-changes} topic. A generation counter per function keeps an answer that raced
 * with a change from being cached.
 */
public final class RegistryClient {

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Duration timeout;
  private final Map<String, FunctionConfig> cache = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> generations = new ConcurrentHashMap<>();

  public RegistryClient(ActorSystem<?> system, ActorRef<Topic.Command<FunctionRegistry.FunctionChanged>> changes,
      Duration timeout) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
    ActorRef<FunctionRegistry.FunctionChanged> subscriber = system.systemActorOf(
        Behaviors.receiveMessage(changed -> {
          invalidate(changed.name());
          return Behaviors.same();
        }), "registry-cache-invalidator", Props.empty());
    changes.tell(Topic.subscribe(subscriber));
  }

  /** Sends a command to the function's registry entity and waits (asynchronously) for its reply. */
  public CompletionStage<FunctionRegistry.Reply> ask(String name,
      Function<ActorRef<FunctionRegistry.Reply>, FunctionRegistry.Command> command) {
    return sharding.entityRefFor(FunctionRegistry.TYPE_KEY, name).ask(command::apply, timeout);
  }

  /** The current configuration of {@code name}, from the cache when possible. */
  public CompletionStage<FunctionConfig> get(String name) {
    FunctionConfig cached = cache.get(name);
    if (cached != null) {
      return CompletableFuture.completedFuture(cached);
    }
    long generation = generation(name).get();
    return ask(name, FunctionRegistry.Get::new).thenApply(reply -> {
      FunctionConfig config = reply.orThrow();
      cache.put(name, config);
      if (generation(name).get() != generation) {
        cache.remove(name, config);  // a change raced with this answer: it may be stale
      }
      return config;
    });
  }

  /** Forgets the cached configuration of {@code name}. */
  public void invalidate(String name) {
    generation(name).incrementAndGet();
    cache.remove(name);
  }

  /** The names of every function ever created (deleted ones included), sorted. */
  public CompletionStage<List<String>> allNames() {
    JdbcReadJournal journal = PersistenceQuery.get(system)
        .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    String prefix = FunctionRegistry.TYPE_KEY.name() + "|";
    return journal.currentPersistenceIds()
        .filter(id -> id.startsWith(prefix))
        .map(id -> id.substring(prefix.length()))
        .runWith(Sink.seq(), system)
        .thenApply(names -> names.stream().sorted().distinct().toList());
  }

  /** The configurations of {@code names} that exist, in the same order. */
  public CompletionStage<List<FunctionConfig>> existing(List<String> names) {
    List<CompletableFuture<FunctionConfig>> asks = names.stream()
        .map(n -> ask(n, FunctionRegistry.Get::new).thenApply(r -> r.config()).toCompletableFuture())
        .toList();
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .thenApply(v -> asks.stream().map(f -> f.getNow(null)).filter(c -> c != null).toList());
  }

  private AtomicLong generation(String name) {
    return generations.computeIfAbsent(name, n -> new AtomicLong());
  }
}
