package dev.lamina.node.cluster;

import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.NodeProcess;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.TestNode;
import dev.lamina.persistence.cassandra.CassandraStorage;
import dev.lamina.persistence.cassandra.TestCassandra;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * A Lamina cluster of {@code size} nodes on loopback for a test class, each node its own JVM
 * ({@link NodeProcess}, {@code serve --profile=cluster}) sharing a real Cassandra server
 * ({@link TestCassandra}) through keyspaces of their own: storage {@code t_<class>_<id>}, journal
 * {@code …_j}, snapshots {@code …_s}.
 *
 * <p>Nodes are numbered from 1. Each keeps its data directory, API port and cluster port for the
 * fixture's life, so {@link #restart(int)} brings back the same node. Every node lists every
 * node's cluster port as seeds ({@code --seed}), node 1 first, so that a node that restarts while
 * others run joins them rather than forming a second cluster; only node 1 starting while no node
 * runs (the first start, a start after a full stop) gets itself alone as seed and forms the
 * cluster at once, as the first seed would after {@code seed-node-timeout} anyway.
 *
 * <p>Every wait is bounded. {@link #close()} kills every node process it ever started (SIGKILL;
 * tests stop nodes gracefully themselves where that is the point), a JVM shutdown hook kills them
 * if the test JVM ends first, and it fails when a node's or sandbox's process outlives the cluster. It drops the keyspaces; it deletes the
 * directory with the node logs unless {@link #keepForInspection()} was called (a test failed) or
 * the system property {@code lamina.cluster.keep} is true.
 */
public final class ClusterFixture implements AutoCloseable {

  /** How long a node may take from its start to a ready member of a full cluster. */
  public static final Duration READY_LIMIT = Duration.ofSeconds(120);
  /** Heap per node: three nodes, Cassandra and the test JVM share 2 cores and 24 GB. */
  private static final List<String> NODE_JVM = List.of("-Xmx768m", "-XX:+ExitOnOutOfMemoryError");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String name;
  private final Path root;
  private final Path config;
  private final String keyspace;
  private final List<Slot> slots;
  private final List<NodeProcess> started = new CopyOnWriteArrayList<>();
  private final Map<String, AutoCloseable> clients = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Thread killOnExit;
  private volatile boolean keep;

  /** One node's place in the cluster: what stays the same across its restarts. */
  private static final class Slot {
    final int index;
    final Path dataDir;
    final int apiPort;
    final int clusterPort;
    volatile NodeProcess process;
    int life;

    Slot(int index, Path dataDir, int apiPort, int clusterPort) {
      this.index = index;
      this.dataDir = dataDir;
      this.apiPort = apiPort;
      this.clusterPort = clusterPort;
    }
  }

  private ClusterFixture(String name, Path root, Path config, String keyspace, List<Slot> slots) {
    this.name = name;
    this.root = root;
    this.config = config;
    this.keyspace = keyspace;
    this.slots = slots;
    this.killOnExit = new Thread(() -> started.forEach(p -> {
      if (p.isAlive()) {
        ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
      }
    }), "kill-cluster-nodes");
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  /**
   * Starts {@code size} nodes for {@code owner}'s tests with {@code extraConfig} (HOCON, e.g.
   * {@code lamina.concurrency.account-limit = 10}) and waits until all are ready members.
   */
  public static ClusterFixture start(Class<?> owner, int size, String extraConfig) throws Exception {
    String keyspace = TestCassandra.uniqueKeyspace(owner);
    int cqlPort = TestCassandra.port();
    Path root = Files.createTempDirectory("lamina-cluster-" + owner.getSimpleName() + "-");
    List<Slot> slots = new ArrayList<>();
    for (int i = 1; i <= size; i++) {
      slots.add(new Slot(i, root.resolve("node-" + i), NodeProcess.freePort(), NodeProcess.freePort()));
    }
    Path config = root.resolve("cluster.conf");
    Files.writeString(config, ""
        + "lamina.cassandra.contact-points = [\"127.0.0.1:" + cqlPort + "\"]\n"
        + "lamina.cassandra.keyspace = " + keyspace + "\n"
        + "pekko.persistence.cassandra.journal.keyspace = " + keyspace + "_j\n"
        + "pekko.persistence.cassandra.snapshot.keyspace = " + keyspace + "_s\n"
        + extraConfig + "\n");
    ClusterFixture cluster = new ClusterFixture(owner.getSimpleName(), root, config, keyspace, slots);
    try {
      cluster.startAll();
    } catch (Exception | AssertionError e) {
      cluster.keepForInspection();
      try {
        cluster.close();
      } catch (Exception | AssertionError closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
    return cluster;
  }

  public int size() {
    return slots.size();
  }

  /** The Lambda (and SQS) API endpoint of node {@code i}. */
  public String endpoint(int i) {
    return "http://127.0.0.1:" + slot(i).apiPort;
  }

  /**
   * An SDK client of node {@code i} as a user builds one: the SDK's default retry policy (legacy
   * mode: up to 3 retries of 500/502/503/504, throttles and I/O errors, with backoff) and a socket
   * timeout of 120 s, well above an invocation plus a failover. Shared; closed with the fixture.
   */
  public LambdaClient lambda(int i) {
    return client("lambda-" + i, () -> newLambda(i, List.of()));
  }

  /**
   * A new client like {@link #lambda(int)} that also runs {@code interceptors} (e.g. to count
   * each attempt's status); the caller closes it.
   */
  public LambdaClient newLambda(int i, List<ExecutionInterceptor> interceptors) {
    return LambdaClient.builder()
        .endpointOverride(URI.create(endpoint(i)))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("lamina", "lamina")))
        .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(120)).build())
        .overrideConfiguration(o -> interceptors.forEach(o::addExecutionInterceptor))
        .build();
  }

  /** An SDK client of node {@code i} without retries: every throttle and error reaches the test. */
  public LambdaClient lambdaWithoutRetries(int i) {
    return client("lambda-no-retries-" + i, () -> TestNode.client(endpoint(i)));
  }

  /** An SQS client of node {@code i} (for Lamina queues), without retries. */
  public SqsClient sqs(int i) {
    return client("sqs-" + i, () -> TestNode.sqsClient(endpoint(i)));
  }

  @SuppressWarnings("unchecked")
  private <T extends AutoCloseable> T client(String key, java.util.function.Supplier<T> make) {
    return (T) clients.computeIfAbsent(key, k -> make.get());
  }

  /** Node {@code i}'s data directory (sandboxes, extracted code). */
  public Path dataDir(int i) {
    return slot(i).dataDir;
  }

  public boolean isRunning(int i) {
    NodeProcess p = slot(i).process;
    return p != null && p.isAlive();
  }

  /** SIGKILL of node {@code i}: a crash. Returns once the process is gone. */
  public void kill(int i) throws InterruptedException {
    slot(i).process.kill();
  }

  /** SIGTERM of node {@code i} (a graceful leave); fails unless it ends within 90 s. */
  public void stop(int i) throws InterruptedException {
    Slot s = slot(i);
    s.process.terminate();
    if (!s.process.awaitExit(Duration.ofSeconds(90))) {
      throw new AssertionError("node " + i + " did not end within 90 s of SIGTERM\n" + s.process.tail(40));
    }
  }

  /**
   * SIGTERM to every running node at once (as {@code ./lamina cluster down} does); fails unless all
   * end within 90 s.
   */
  public void stopAll() throws InterruptedException {
    List<Slot> running = slots.stream().filter(s -> s.process != null && s.process.isAlive()).toList();
    running.forEach(s -> s.process.terminate());
    for (Slot s : running) {
      if (!s.process.awaitExit(Duration.ofSeconds(90))) {
        throw new AssertionError("node " + s.index + " did not end within 90 s of SIGTERM\n" + s.process.tail(40));
      }
    }
  }

  /** Starts node {@code i} again on its data directory and ports; returns once its API answers. */
  public void restart(int i) throws IOException, InterruptedException {
    Slot s = slot(i);
    if (s.process != null && s.process.isAlive()) {
      throw new IllegalStateException("node " + i + " still runs");
    }
    launch(s);
  }

  /**
   * Starts every node that does not run (node 1 first when it is among them, the others together
   * once its API answers) and waits until all are ready members of one full cluster.
   */
  public void startAll() throws Exception {
    List<Slot> stopped = slots.stream().filter(s -> s.process == null || !s.process.isAlive()).toList();
    List<Slot> rest = new ArrayList<>(stopped);
    if (!stopped.isEmpty() && stopped.get(0).index == 1) {
      launch(rest.remove(0));
    }
    List<CompletableFuture<Void>> launches = rest.stream().map(s -> CompletableFuture.runAsync(() -> {
      try {
        launch(s);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    })).toList();
    for (CompletableFuture<Void> launch : launches) {
      try {
        launch.get();
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception c ? c : e;
      }
    }
    awaitMembers(size());
  }

  private void launch(Slot s) throws IOException, InterruptedException {
    boolean alone = slots.stream().noneMatch(o -> o != s && o.process != null && o.process.isAlive());
    String seeds = (s.index == 1 && alone ? List.of(s) : slots).stream()
        .map(o -> "127.0.0.1:" + o.clusterPort).collect(Collectors.joining(","));
    s.life++;
    s.process = NodeProcess.start(s.dataDir, s.apiPort, config, root.resolve("logs"),
        "node-" + s.index + "-life-" + s.life, NODE_JVM,
        List.of("--profile=cluster", "--cluster-port=" + s.clusterPort, "--seed=" + seeds), READY_LIMIT);
    started.add(s.process);
  }

  /**
   * Waits (bounded by {@link #READY_LIMIT}) until every running node answers {@code /ready} with
   * 200 and reports exactly {@code n} members, all Up and reachable: after a kill, {@code n} is
   * reached once the lost node was downed and removed.
   */
  public void awaitMembers(int n) throws InterruptedException {
    long deadline = System.nanoTime() + READY_LIMIT.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      List<Slot> running = slots.stream().filter(s -> s.process != null && s.process.isAlive()).toList();
      if (running.size() < n) {
        throw new AssertionError(name + ": only " + running.size() + " node processes run, " + n + " members wanted");
      }
      StringBuilder seen = new StringBuilder();
      boolean all = true;
      for (Slot s : running) {
        Readiness r = readiness(s.index);
        seen.append("node ").append(s.index).append(": ").append(r).append('\n');
        all &= r.ready() && r.upReachable() == n && r.members() == n;
      }
      if (all) {
        return;
      }
      last = seen.toString();
      Thread.sleep(200);
    }
    throw new AssertionError(name + ": the cluster did not reach " + n + " ready Up members within " + READY_LIMIT
        + "\n" + last + tails(40));
  }

  /** What node {@code i}'s {@code /ready} says: ready or not, members seen, those Up and reachable. */
  public record Readiness(boolean ready, int members, int upReachable, String body) {
    @Override
    public String toString() {
      return (ready ? "ready" : "not ready") + ", " + upReachable + " of " + members + " members up and reachable";
    }
  }

  public Readiness readiness(int i) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(endpoint(i) + "/ready"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      JsonNode members = JSON.readTree(r.body()).path("cluster").path("members");
      int up = 0;
      for (JsonNode m : members) {
        if (m.path("status").asText().equals("UP") && m.path("reachable").asBoolean()) {
          up++;
        }
      }
      return new Readiness(r.statusCode() == 200, members.size(), up, r.body());
    } catch (IOException e) {
      return new Readiness(false, 0, 0, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Readiness(false, 0, 0, e.toString());
    }
  }

  /** Node {@code i}'s {@code /metrics} (Prometheus text). */
  public String metrics(int i) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(endpoint(i) + "/metrics")).timeout(Duration.ofSeconds(10))
          .build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The sum of the Prometheus series {@code series} on node {@code i} over the lines whose labels
   * contain {@code labelFragment} (e.g. {@code function="hello"}; "" for all); 0 when none.
   */
  public double metric(int i, String series, String labelFragment) {
    return metrics(i).lines()
        .filter(l -> l.startsWith(series + "{") || l.startsWith(series + " "))
        .filter(l -> l.contains(labelFragment))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  /** The last {@code lines} lines of node {@code i}'s current (or last) life's output. */
  public String tail(int i, int lines) {
    NodeProcess p = slot(i).process;
    return p == null ? "(node " + i + " never started)\n" : p.tail(lines);
  }

  /** The tails of every node's current (or last) life. */
  public String tails(int lines) {
    return IntStream.rangeClosed(1, size()).mapToObj(i -> tail(i, lines)).collect(Collectors.joining());
  }

  /** Where the node logs are (kept after the tests when {@link #keepForInspection()} was called). */
  public Path root() {
    return root;
  }

  /** Keeps the directory with the data directories and node logs after {@link #close()}. */
  public void keepForInspection() {
    keep = true;
  }

  /** Waits (bounded) until {@code condition} holds; false when {@code limit} passed first. */
  public static boolean awaitTrue(BooleanSupplier condition, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  private Slot slot(int i) {
    if (i < 1 || i > slots.size()) {
      throw new IllegalArgumentException("no node " + i + " in a cluster of " + slots.size());
    }
    return slots.get(i - 1);
  }

  @Override
  public void close() throws Exception {
    clients.values().forEach(c -> {
      try {
        c.close();
      } catch (Exception e) {
        // closing a client does not fail the tests
      }
    });
    // SIGKILL: the tests are over, and a graceful leave of every node at once waits out Pekko's
    // cluster-exiting phase (10 s) for nothing. Sandboxes die with their node (checked below).
    for (NodeProcess p : started) {
      if (p.isAlive()) {
        p.kill();
      }
    }
    Runtime.getRuntime().removeShutdownHook(killOnExit);
    boolean clean = awaitTrue(() -> Processes.runningUnder(root) == 0, Duration.ofSeconds(30));
    long left = Processes.runningUnder(root);
    dropKeyspaces();
    if (keep || !clean || Boolean.getBoolean("lamina.cluster.keep")) {
      System.out.println("CLUSTER " + name + " kept for inspection: " + root);
    } else {
      TestNode.deleteTree(root);
    }
    if (!clean) {
      throw new AssertionError(name + ": " + left + " processes of the nodes or their sandboxes outlived the cluster"
          + " (see " + root + ")");
    }
  }

  private void dropKeyspaces() {
    try {
      CassandraStorage storage = CassandraStorage.open(TestCassandra.settings(keyspace));
      for (String ks : List.of(keyspace + "_j", keyspace + "_s")) {
        storage.session().execute(SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + ks)
            .setTimeout(Duration.ofSeconds(60)));
      }
      TestCassandra.dropAndClose(storage);
    } catch (RuntimeException e) {
      System.out.println("CLUSTER " + name + ": could not drop keyspaces " + keyspace + "{,_j,_s}: " + e);
    }
  }
}
