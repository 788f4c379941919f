package dev.lamina.actors.registry;

import dev.lamina.actors.layer.LayerRegistry;
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
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The node's way to the function and layer registries: asks entities, lists them, and caches
 * what each {@code name:qualifier} resolves to so that a warm invocation costs no registry round
 * trip.
 *
 * <p>The cache drops every qualifier of a function whenever the registry announces a change of
 * it on the {@code function-changes} topic (cluster-wide). A generation counter per function keeps
 * an answer that raced with a change from being cached. Entries also expire after {@code cacheTtl},
 * a safety net for an announcement lost with a node that left the cluster.
 */
public final class RegistryClient {

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Duration timeout;
  private final long cacheTtlNanos;
  private final String readJournal;
  private final Map<String, Map<String, Cached>> cache = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> generations = new ConcurrentHashMap<>();

  private record Cached(Resolved resolved, long atNanos) {}

  /**
   * @param readJournal the plugin id of the read journal that lists persistence ids (the profile's)
   */
  public RegistryClient(ActorSystem<?> system, ActorRef<Topic.Command<FunctionRegistry.FunctionChanged>> changes,
      Duration timeout, Duration cacheTtl, String readJournal) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
    this.cacheTtlNanos = cacheTtl.toNanos();
    this.readJournal = readJournal;
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

  /** Sends a command to a layer's registry entity. */
  public CompletionStage<LayerRegistry.Reply> askLayer(String layerName,
      Function<ActorRef<LayerRegistry.Reply>, LayerRegistry.Command> command) {
    return sharding.entityRefFor(LayerRegistry.TYPE_KEY, layerName).ask(command::apply, timeout);
  }

  /**
   * What invoking {@code name} with {@code qualifier} (null: {@code $LATEST}) runs, from the
   * cache when possible. Fails with the registry's ResourceNotFoundException.
   */
  public CompletionStage<Resolved> resolve(String name, String qualifier) {
    String key = qualifier == null ? FunctionConfig.LATEST : qualifier;
    Map<String, Cached> byQualifier = cache.get(name);
    Cached cached = byQualifier == null ? null : byQualifier.get(key);
    long now = System.nanoTime();
    if (cached != null && now - cached.atNanos() < cacheTtlNanos) {
      return CompletableFuture.completedFuture(cached.resolved());
    }
    long generation = generation(name).get();
    return ask(name, reply -> new FunctionRegistry.Get(key, reply)).thenApply(reply -> {
      Resolved resolved = Resolved.of(reply.orThrow());
      Cached entry = new Cached(resolved, now);
      Map<String, Cached> entries = cache.computeIfAbsent(name, n -> new ConcurrentHashMap<>());
      entries.put(key, entry);
      if (generation(name).get() != generation) {
        entries.remove(key, entry);  // a change raced with this answer: it may be stale
      }
      return resolved;
    });
  }

  /** Forgets everything cached about {@code name}. */
  public void invalidate(String name) {
    generation(name).incrementAndGet();
    cache.remove(name);
  }

  /** The names of every function ever created (deleted ones included), sorted. */
  public CompletionStage<List<String>> allNames() {
    return entityIds(FunctionRegistry.TYPE_KEY.name());
  }

  /** The names of every layer ever published (deleted ones included), sorted. */
  public CompletionStage<List<String>> allLayerNames() {
    return entityIds(LayerRegistry.TYPE_KEY.name());
  }

  /** The ids of every entity of a persistent type that ever wrote an event, sorted. */
  public CompletionStage<List<String>> entityIds(String typeName) {
    CurrentPersistenceIdsQuery journal = PersistenceQuery.get(system)
        .getReadJournalFor(CurrentPersistenceIdsQuery.class, readJournal);
    String prefix = typeName + "|";
    return journal.currentPersistenceIds()
        .filter(id -> id.startsWith(prefix))
        .map(id -> id.substring(prefix.length()))
        .runWith(Sink.seq(), system)
        .thenApply(names -> names.stream().sorted().distinct().toList());
  }

  /** The {@code $LATEST} configurations of {@code names} that exist, in the same order. */
  public CompletionStage<List<FunctionConfig>> existing(List<String> names) {
    return each(names, n -> ask(n, r -> new FunctionRegistry.Get(null, r)).thenApply(r -> r.config()));
  }

  /**
   * Every version ({@code $LATEST} first) of each of {@code names} that exists, function by
   * function in the order of {@code names}.
   */
  public CompletionStage<List<List<FunctionConfig>>> versionsOf(List<String> names) {
    return each(names, n -> ask(n, FunctionRegistry.ListVersions::new)
        .thenApply(r -> r.errorCode() == null ? r.versions() : null));
  }

  private static <T> CompletionStage<List<T>> each(List<String> names, Function<String, CompletionStage<T>> ask) {
    List<CompletableFuture<T>> asks = names.stream().map(n -> ask.apply(n).toCompletableFuture()).toList();
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .thenApply(v -> asks.stream().map(f -> f.getNow(null)).filter(x -> x != null).toList());
  }

  private AtomicLong generation(String name) {
    return generations.computeIfAbsent(name, n -> new AtomicLong());
  }
}
