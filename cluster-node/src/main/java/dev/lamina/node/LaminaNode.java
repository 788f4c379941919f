package dev.lamina.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.function.InvocationResult;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.account.AccountActor;
import dev.lamina.actors.account.ConcurrencySettings;
import dev.lamina.actors.layer.LayerRegistry;
import dev.lamina.actors.metrics.Metrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.lamina.actors.registry.FunctionRegistry;
import dev.lamina.actors.registry.RegistryClient;
import dev.lamina.actors.sandbox.RuntimeFiles;
import dev.lamina.actors.sandbox.SandboxActor;
import dev.lamina.actors.sandbox.SandboxLauncher;
import dev.lamina.actors.sandbox.SandboxSettings;
import dev.lamina.actors.sandbox.isolation.Isolation;
import dev.lamina.actors.worker.Placement;
import dev.lamina.actors.worker.WorkerActor;
import dev.lamina.actors.events.EventQueue;
import dev.lamina.actors.events.EventSettings;
import dev.lamina.actors.mapping.MappingRegistry;
import dev.lamina.actors.mapping.Pollers;
import dev.lamina.actors.queue.QueueActor;
import dev.lamina.node.api.AsyncInvoker;
import dev.lamina.node.api.EventConfigService;
import dev.lamina.node.api.FunctionService;
import dev.lamina.node.api.MappingService;
import dev.lamina.node.http.SqsApi;
import dev.lamina.node.api.InvokeService;
import dev.lamina.node.api.NodeSettings;
import dev.lamina.node.auth.AuthSettings;
import dev.lamina.node.auth.NodeKeys;
import dev.lamina.node.auth.SigV4Verifier;
import dev.lamina.node.http.ApiAuthentication;
import dev.lamina.node.http.HttpApi;
import dev.lamina.persistence.code.CodeStore;
import dev.lamina.persistence.logs.LogStore;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Lamina node, started inside the caller's JVM: the embedding API. {@code ./lamina serve}
 * and the integration tests start nodes through it too.
 *
 * <pre>{@code
 * try (LaminaNode node = LaminaNode.start(ConfigFactory.parseString("lamina.data-dir = /tmp/l"))) {
 *   node.functions().create(body);            // or HTTP on node.endpoint()
 *   node.invoke("hello", "{\"name\":\"x\"}");
 * }
 * }</pre>
 *
 * <p>Embedded profile: a one-node Pekko Cluster joined to itself (sharding works as in a
 * cluster), the journal in an H2 file under the data directory, code and logs as files there.
 * Cluster profile ({@code lamina.profile = cluster}): the node joins the nodes in
 * {@code lamina.cluster.seed-nodes} (or forms a cluster) and keeps everything shared in Cassandra:
 *
 * <pre>{@code
 * LaminaNode node = LaminaNode.start(ConfigFactory.parseString("""
 *     lamina.profile = cluster
 *     lamina.cluster.port = 25530
 *     lamina.cluster.seed-nodes = ["127.0.0.1:25520"]
 *     lamina.cassandra.contact-points = ["127.0.0.1:9142"]
 *     lamina.http.port = 9003
 *     """));
 * }</pre>
 */
public final class LaminaNode implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LaminaNode.class);

  private final ActorSystem<Void> system;
  private final NodeSettings settings;
  private final SandboxLauncher launcher;
  private final Isolation isolation;
  private final FunctionService functions;
  private final InvokeService invoker;
  private final LogStore logs;
  private final NodeStorage storage;
  private final ExecutorService blocking;
  private final ExecutorService runtimeApiThreads;
  private final ServerBinding binding;
  private final NodeKeys accessKeys;

  private LaminaNode(ActorSystem<Void> system, NodeSettings settings, Isolation isolation,
      FunctionService functions, InvokeService invoker, LogStore logs, NodeStorage storage, ExecutorService blocking,
      ExecutorService runtimeApiThreads, ServerBinding binding, NodeKeys accessKeys) {
    this.accessKeys = accessKeys;
    this.storage = storage;
    this.system = system;
    this.settings = settings;
    this.launcher = isolation.launcher();
    this.isolation = isolation;
    this.functions = functions;
    this.invoker = invoker;
    this.logs = logs;
    this.blocking = blocking;
    this.runtimeApiThreads = runtimeApiThreads;
    this.binding = binding;
  }

  /**
   * Starts a node; {@code overrides} win over its profile. {@code lamina.profile = embedded} (the
   * default: one node, storage under the data directory) or {@code cluster} (joins
   * {@code lamina.cluster.seed-nodes}, or forms a cluster when there are none; storage in Cassandra
   * at {@code lamina.cassandra.contact-points}).
   */
  public static LaminaNode start(Config overrides) throws IOException {
    long started = System.nanoTime();
    if (java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() < 2) {
      log.warn("the JDK's common pool has {} thread(s): every stage chained on an actor's answer then starts a "
          + "thread of its own; start this JVM with -Djava.util.concurrent.ForkJoinPool.common.parallelism=8 (as ./lamina does)",
          java.util.concurrent.ForkJoinPool.getCommonPoolParallelism());
    }
    String profile = overrides.hasPath("lamina.profile") ? overrides.getString("lamina.profile") : "embedded";
    if (!profile.equals("embedded") && !profile.equals("cluster")) {
      throw new IllegalArgumentException("lamina.profile must be embedded or cluster, not " + profile);
    }
    Config base = overrides.withFallback(ConfigFactory.parseResources("lamina-" + profile + ".conf"))
        .withFallback(ConfigFactory.defaultReference());
    Path dataDir = Path.of(base.getString("lamina.data-dir")).toAbsolutePath().normalize();
    Files.createDirectories(dataDir);
    AuthSettings authSettings = AuthSettings.from(base, dataDir);
    NodeKeys accessKeys = authSettings.enabled() ? NodeKeys.resolve(authSettings, profile) : null;
    if (authSettings.enabled()) {
      // Signatures cover the path and query exactly as the client sent them, which Pekko's parsed
      // Uri no longer shows (it decodes %3A in a function ARN): keep the raw request target.
      base = ConfigFactory.parseString("pekko.http.server.raw-request-uri-header = on").withFallback(base);
    } else {
      log.warn("lamina.auth.enabled = false: the API serves unsigned requests from anyone who can reach it "
          + "(development only)");
    }
    Config config = (profile.equals("embedded") ? NodeStorage.embeddedJournal(base, dataDir) : base).resolve();

    NodeSettings settings = NodeSettings.from(config, dataDir);
    SandboxSettings sandboxSettings = SandboxSettings.from(config, dataDir);
    removeLeftoverSandboxes(dataDir.resolve("sandboxes"));
    RuntimeFiles runtimes = RuntimeFiles.install(dataDir.resolve("runtime"));
    Isolation isolation = Isolation.start(sandboxSettings.isolation(), dataDir);
    SandboxLauncher launcher = isolation.launcher();
    NodeStorage storage = profile.equals("embedded") ? NodeStorage.embedded(config, dataDir, settings)
        : NodeStorage.cassandra(config, dataDir, settings);
    CodeStore code = storage.code();
    LogStore logs = storage.logs();
    ExecutorService blocking = blockingPool();
    ExecutorService runtimeApiThreads = runtimeApiPool();

    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "lamina", config);
    try {
      joinCluster(system, config, profile);
      await(storage.prepareJournal(system, blocking), "journal schema");

      ActorRef<Topic.Command<FunctionRegistry.FunctionChanged>> changes = system.systemActorOf(
          Topic.create(FunctionRegistry.FunctionChanged.class, "function-changes"), "function-changes", Props.empty());
      FunctionRegistry.initSharding(system, settings.functionArnPrefix(), Clock.systemUTC(), changes);
      LayerRegistry.initSharding(system, settings.layerArnPrefix(), Clock.systemUTC());
      PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      Metrics metrics = new Metrics(prometheus);
      SandboxActor.Deps deps = new SandboxActor.Deps(launcher, runtimes, sandboxSettings, logs, blocking,
          runtimeApiThreads, metrics);
      boolean worker = config.getStringList("pekko.cluster.roles").contains("worker");
      long workerMemoryMb = worker ? workerMemoryMb(config) : 0;
      int cpus = config.getInt("lamina.worker.cpus") > 0 ? config.getInt("lamina.worker.cpus")
          : Runtime.getRuntime().availableProcessors();
      AtomicLong nodeUsedMb = metrics.workerCapacity(workerMemoryMb, cpus);
      Duration reclaimWait = config.getDuration("lamina.worker.reclaim-wait");
      ActorRef<WorkerActor.Command> placement = system.systemActorOf(Placement.create(
          () -> WorkerActor.create(code, deps, workerMemoryMb, reclaimWait, nodeUsedMb),
          config.getDuration("lamina.worker.lease"), metrics,
          new Placement.NodeCapacity(worker, workerMemoryMb, nodeUsedMb),
          config.getDuration("lamina.cluster.capacity-publish-interval")), "placement", Props.empty());
      ConcurrencySettings concurrency = ConcurrencySettings.from(config);
      AccountActor.initSharding(system, concurrency, metrics);
      EntityRef<AccountActor.Command> account =
          ClusterSharding.get(system).entityRefFor(AccountActor.TYPE_KEY, settings.accountId());
      FunctionActor.initSharding(system, placement, concurrency.accounting() ? account : null,
          concurrency.leaseWindow(), metrics);

      RegistryClient registry = new RegistryClient(system, changes, config.getDuration("lamina.registry-timeout"),
          config.getDuration("lamina.registry-cache-ttl"), config.getString("lamina.journal.read-journal"));
      EventSettings eventSettings = EventSettings.from(config);
      FunctionService functions = new FunctionService(settings, registry, code, blocking,
          ClusterSharding.get(system), metrics);
      InvokeService invoker = new InvokeService(system, settings, registry, sandboxSettings.initTimeout(),
          eventSettings.partitions());
      AsyncInvoker async = new AsyncInvoker(system, settings, registry, () -> invoker, functions::getConcurrency,
          Clock.systemUTC());
      EventQueue.initSharding(system, eventSettings, async, Clock.systemUTC(), metrics);
      QueueActor.initSharding(system, settings.queueArnPrefix(), Clock.systemUTC(), async, metrics);
      MappingRegistry.initSharding(system);
      // One set of pollers in the cluster: a mapping's concurrency is not multiplied by the nodes.
      ActorRef<Pollers.Command> pollers = ClusterSingleton.get(system).init(SingletonActor.of(
          Behaviors.supervise(Pollers.create(settings.queueArnPrefix(), settings.region(),
              config.getInt("lamina.mappings.default-concurrency"), async, metrics, Clock.systemUTC(),
              config.getDuration("lamina.mappings.refresh-interval"))).onFailure(SupervisorStrategy.restart()),
          "pollers"));
      EventConfigService eventConfigs = new EventConfigService(settings, registry, ClusterSharding.get(system),
          Clock.systemUTC());
      MappingService mappings = new MappingService(settings, registry, ClusterSharding.get(system), pollers,
          Clock.systemUTC());
      SqsApi sqs = new SqsApi(settings, ClusterSharding.get(system), registry);
      NodeHealth health = new NodeHealth(system, profile, storage, launcher.name(), isolation);
      ApiAuthentication auth = accessKeys == null ? null : new ApiAuthentication(
          new SigV4Verifier(accessKeys.keys(), authSettings.maxClockSkew(), Clock.systemUTC()), settings.region(),
          maxContentLength(config), Clock.systemUTC(), Materializer.matFromSystem(system));
      HttpApi api = new HttpApi(system, settings, functions, invoker, eventConfigs, mappings, sqs, logs, code,
          health, blocking, prometheus::scrape, auth);
      ServerBinding binding = await(api.bind(), "HTTP API bind on " + settings.host() + ":" + settings.port());
      LaminaNode node = new LaminaNode(system, settings, isolation, functions, invoker, logs, storage, blocking,
          runtimeApiThreads, binding, accessKeys);
      leaveGracefully(system, binding, placement, config.getDuration("lamina.shutdown.drain-timeout"));
      // Provisioned concurrency is kept by function actors, which start empty: tell them again.
      registry.allNames().thenAccept(names -> names.forEach(functions.provisioned()::reapply));
      // Queued events wait in their queues' journals: start those queues (remembered entities do
      // the same after a node is lost; this covers a journal written before they were remembered).
      wakeEventQueues(system, registry, 5);
      log.info("Lamina node up in {} ms ({} profile): API http://{}:{}, cluster {}, data {}, sandboxes: {}",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), profile, settings.host(), node.port(),
          system.address(), dataDir, launcher.name());
      return node;
    } catch (RuntimeException e) {
      system.terminate();
      blocking.shutdownNow();
      runtimeApiThreads.shutdownNow();
      storage.close();
      throw e;
    }
  }

  /**
   * What leaving does, whoever starts it (close(), SIGTERM through Pekko's JVM hook): the API stops
   * taking requests and lets those in flight finish, then this node's sandboxes finish what they run
   * (new ones are placed on other nodes), each bounded by {@code drainTimeout}; Pekko then hands the
   * shards over (queues write what they hold and stop) and leaves the cluster.
   */
  private static void leaveGracefully(ActorSystem<?> system, ServerBinding binding,
      ActorRef<WorkerActor.Command> placement, Duration drainTimeout) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "lamina-http-drain",
        () -> binding.terminate(drainTimeout).handle((t, failure) -> Done.getInstance()));
    shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "lamina-sandbox-drain",
        () -> AskPattern.<WorkerActor.Command, Done>ask(placement, Placement.Drain::new, drainTimeout,
            system.scheduler()).handle((done, failure) -> {
              if (failure != null) {
                log.warn("sandboxes still busy after {}: they are stopped", drainTimeout);
              }
              return Done.getInstance();
            }));
  }

  /**
   * Embedded: a cluster of this node alone. Cluster: joins the seed nodes (the first seed that
   * finds no other forms the cluster), or forms a new cluster when none are configured.
   */
  private static void joinCluster(ActorSystem<?> system, Config config, String profile) {
    Cluster cluster = Cluster.get(system);
    List<String> seeds = profile.equals("cluster") ? config.getStringList("lamina.cluster.seed-nodes") : List.of();
    if (seeds.isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
      return;
    }
    List<Address> addresses = seeds.stream().map(seed -> {
      int colon = seed.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("lamina.cluster.seed-nodes: \"" + seed + "\" is not host:port");
      }
      return new Address("pekko", system.name(), seed.substring(0, colon), Integer.parseInt(seed.substring(colon + 1)));
    }).toList();
    cluster.manager().tell(new JoinSeedNodes(addresses));
  }

  /** Starts every event queue partition that has a journal, so that what it holds runs; retried. */
  private static void wakeEventQueues(ActorSystem<?> system, RegistryClient registry, int triesLeft) {
    registry.entityIds(EventQueue.TYPE_KEY.name()).whenComplete((ids, failure) -> {
      if (failure == null) {
        ids.forEach(id -> ClusterSharding.get(system).entityRefFor(EventQueue.TYPE_KEY, id).tell(new EventQueue.Wake()));
        return;
      }
      log.warn("could not list the event queues to start them ({}){}", failure.toString(),
          triesLeft > 0 ? ": trying again" : "");
      if (triesLeft > 0) {
        java.util.concurrent.CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS)
            .execute(() -> wakeEventQueues(system, registry, triesLeft - 1));
      }
    });
  }

  /** The port the Lambda API listens on (useful when the configured port was 0). */
  public int port() {
    return binding.localAddress().getPort();
  }

  /** {@code http://127.0.0.1:<port>}: the endpoint to give AWS SDKs and the CLI. */
  public String endpoint() {
    return "http://" + settings.host() + ":" + port();
  }

  public String launcher() {
    return launcher.name();
  }

  /** The isolation mode and the layers in force (also in /health). */
  public Isolation isolation() {
    return isolation;
  }

  /**
   * The access keys the API accepts (requests must be signed with one, AWS Signature Version 4)
   * and where they came from; empty when {@code lamina.auth.enabled = false}.
   */
  public java.util.Optional<NodeKeys> accessKeys() {
    return java.util.Optional.ofNullable(accessKeys);
  }

  public FunctionService functions() {
    return functions;
  }

  /** Creates a function from a CreateFunction body, without HTTP. */
  public FunctionConfig deploy(JsonNode createFunctionBody) {
    return await(functions.create(createFunctionBody), "CreateFunction");
  }

  /** Invokes {@code $LATEST} synchronously, without HTTP, and returns the function's response payload. */
  public InvocationResult invoke(String function, String payloadJson) {
    return invoke(function, null, payloadJson);
  }

  /** Invokes a version or alias ({@code qualifier}; null for {@code $LATEST}) synchronously, without HTTP. */
  public InvocationResult invoke(String function, String qualifier, String payloadJson) {
    return await(invoker.invoke(function, qualifier, ByteString.fromString(payloadJson),
        InvokeService.Options.requestResponse()), "Invoke");
  }

  /**
   * Queues an {@code Event} invocation of {@code function} ({@code qualifier} null for
   * {@code $LATEST}) without HTTP; returns its request id once it is durable. It runs, is retried and
   * reaches its destinations as over the API.
   */
  public String invokeAsync(String function, String qualifier, String payloadJson) {
    return await(invoker.invoke(function, qualifier, ByteString.fromString(payloadJson),
        new InvokeService.Options("Event", false, null, null)), "Invoke").requestId();
  }

  public LogStore logs() {
    return logs;
  }

  /** This node's address in the cluster ({@code pekko://lamina@host:port}). */
  public String clusterAddress() {
    return system.address().toString();
  }

  /**
   * Leaves gracefully (see {@code leaveGracefully}: requests in flight and busy sandboxes finish,
   * shards hand over, the node leaves the cluster), stops every sandbox (processes killed and
   * awaited) and ends the actor system. SIGTERM on {@code ./lamina serve} does the same.
   */
  @Override
  public void close() {
    Http.get(system).shutdownAllConnectionPools();
    try {
      CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason())
          .toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("the node did not leave in time: {}", e.toString());
      system.terminate();
    }
    try {
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("actor system did not terminate in time: {}", e.toString());
    }
    // Sandboxes release their endpoints and directories on the blocking pool once their
    // processes are gone: let that finish before the pools stop.
    blocking.shutdown();
    try {
      blocking.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    runtimeApiThreads.shutdownNow();
    storage.close();
  }

  /**
   * Threads for blocking work (disk, fork/exec). Fixed and never recycled: bubblewrap's
   * --die-with-parent watches the thread that started it, so that thread must outlive the sandbox.
   */
  private static ExecutorService blockingPool() {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(16, r -> {
      Thread t = new Thread(r, "lamina-blocking-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** Runtime API request threads: each parked {@code /next} holds one, so the pool grows on demand. */
  private static ExecutorService runtimeApiPool() {
    AtomicInteger n = new AtomicInteger();
    return Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "lamina-runtime-api-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** The largest request body the HTTP server takes (bytes). */
  private static long maxContentLength(Config config) {
    try {
      return config.getBytes("pekko.http.server.parsing.max-content-length");
    } catch (com.typesafe.config.ConfigException e) {
      return Long.MAX_VALUE;   // "infinite"
    }
  }

  private static long workerMemoryMb(Config config) {
    long configured = config.getLong("lamina.worker.memory-mb");
    if (configured > 0) {
      return configured;
    }
    long physical = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getTotalMemorySize() / (1024 * 1024);
    return physical * 3 / 4;
  }

  /** Sandboxes of a previous run died with it; their directories are garbage. */
  private static void removeLeftoverSandboxes(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(dir)).forEach(p -> p.toFile().delete());
    }
  }

  private static <T> T await(CompletionStage<T> stage, String what) {
    try {
      return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(what + " failed", e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(what + " failed", e);
    }
  }
}
