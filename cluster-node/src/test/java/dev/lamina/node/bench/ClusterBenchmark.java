package dev.lamina.node.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Warm-invoke throughput and Event acceptance through one cluster-profile node and through three,
 * on the same machine in one run (not a test: {@code bench/cluster-benchmark}). The machine's cores
 * are the same in both cases, so the comparison shows what distribution costs, not scale-up.
 *
 * <p>Each phase starts from a wiped Cassandra ({@code tools/cassandra/cassandra.sh}) and a fresh
 * local cluster ({@code tools/cluster.sh up N}), both on the state directories and ports the
 * calling script sets in the environment, and stops them at its end. Rows per phase:
 *
 * <ul>
 *   <li>floor: one-row inserts through the Cassandra Java driver at the journal's consistency (QUORUM,
 *       replication factor 1) into a table shaped like the journal's {@code messages}: one client,
 *       and 32 in flight;
 *   <li>a python no-op ({@code examples/python/noop}) invoked warm by 32 clients for a fixed time,
 *       requests spread round-robin over the nodes: invocations/s and latency; the same function
 *       from one client; DryRun (the front end alone) from one client;
 *   <li>Event invocations of a function with reserved concurrency 0 (accepting only): one client's
 *       latency to the 202, and the 202s per second from 32 clients;
 *   <li>where things ran: sandboxes per node, the node of the function's actor, invocations run per
 *       node ({@code /metrics}), and the CPU time each kind of process used per invocation
 *       ({@code /proc}).
 * </ul>
 *
 * <p>Settings come from the environment the script exports: {@code LAMINA_CLUSTER_DIR},
 * {@code LAMINA_CLUSTER_API_PORT}, {@code LAMINA_CASSANDRA_DIR}, {@code LAMINA_CASSANDRA_PORT}.
 */
public final class ClusterBenchmark {

  private static final int CLIENTS = 32;
  private static final int SEQUENTIAL_WARM_UP = 3000;
  private static final int CONCURRENT_WARM_UP_SECONDS = 10;
  private static final int EVENT_SEQUENTIAL = 1000;
  private static final int FLOOR_WARM_UP = 500;
  private static final int FLOOR_ROWS = 2000;
  private static final int FLOOR_CONCURRENT_ROWS = 10000;
  /** Bytes of the floor's row payload: about what an accepted event's journal record holds. */
  private static final int FLOOR_PAYLOAD_BYTES = 256;
  private static final int FUNCTION_MEMORY_MB = 128;
  /** Seconds of no load over which the CPU the processes use at rest is measured. */
  private static final int REST_SECONDS = 5;

  private static final Path REPO = Path.of("").toAbsolutePath();
  private static final Path CLUSTER_DIR = Path.of(env("LAMINA_CLUSTER_DIR"));
  private static final Path CASSANDRA_DIR = Path.of(env("LAMINA_CASSANDRA_DIR"));
  private static final int API_BASE = Integer.parseInt(env("LAMINA_CLUSTER_API_PORT"));
  private static final int CASSANDRA_PORT = Integer.parseInt(env("LAMINA_CASSANDRA_PORT"));

  /** What one phase (N nodes) measured. Latencies in ms. */
  private static final class Phase {
    final int nodes;
    String loadBefore;
    String loadAfter;
    double upSeconds;
    List<Double> floorInsert;
    double floorInsertsPerSecond;
    Load warm;
    List<Double> warmOne = new ArrayList<>();
    Map<Integer, List<Double>> warmOneByEntry = new TreeMap<>();
    List<Double> dryRun;
    List<Double> acceptOne = new ArrayList<>();
    Load accept;
    int functionActorNode;
    Map<Integer, Double> sandboxes = new TreeMap<>();
    Map<Integer, Double> executed = new TreeMap<>();      // during the 32-client window
    Map<Integer, Double> executedOne = new TreeMap<>();   // during the one-client window
    Map<Integer, Double> eventsAccepted = new TreeMap<>();
    Cpu.Delta restCpu;
    Cpu.Delta warmCpu;
    Cpu.Delta acceptCpu;

    Phase(int nodes) {
      this.nodes = nodes;
    }
  }

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int sequential = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
    int burst = args.length > 2 ? Integer.parseInt(args[2]) : 5000;
    long began = System.nanoTime();
    // The cluster accepts the key the benchmark's clients sign with (TestNode.client, SignedHttp).
    java.nio.file.Files.createDirectories(CLUSTER_DIR);
    java.nio.file.Files.deleteIfExists(CLUSTER_DIR.resolve("credentials"));
    TestNode.writeTestKey(CLUSTER_DIR);
    List<Phase> phases = new ArrayList<>();
    try {
      for (int n : new int[] {1, 3}) {
        phases.add(phase(n, seconds, sequential, burst));
      }
    } catch (Exception | AssertionError e) {
      e.printStackTrace();
      sh("tools/cluster.sh", "down");
      System.exit(1);   // the HTTP client's and the pools' threads would keep the JVM alive
    }
    sh("tools/cluster.sh", "down");
    print(phases, seconds, burst);
    System.out.printf(Locale.ROOT, "%nbenchmark run time: %.0f s%n", (System.nanoTime() - began) / 1e9);
    System.exit(0);  // the HTTP client's threads would keep the JVM alive
  }

  private static Phase phase(int n, int seconds, int sequential, int burst) throws Exception {
    Phase p = new Phase(n);
    progress("phase: %d node(s): wiping Cassandra, starting the cluster", n);
    sh("tools/cluster.sh", "down");
    sh("tools/cassandra/cassandra.sh", "wipe");
    long t = System.nanoTime();
    sh("tools/cluster.sh", "up", Integer.toString(n));
    p.upSeconds = (System.nanoTime() - t) / 1e9;
    p.loadBefore = loadAverage();
    List<String> endpoints = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      endpoints.add("http://127.0.0.1:" + (API_BASE + i));
    }
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .executor(Executors.newFixedThreadPool(4)).build();

    progress("floor: Cassandra inserts");
    cassandraFloor(p);

    LambdaClient lambda = TestNode.client(endpoints.get(0));
    Functions.create(lambda, "warm", "python3.12", "noop.handler", Examples.zipOf("python/noop"));
    Functions.create(lambda, "sink", "python3.12", "noop.handler", Examples.zipOf("python/noop"));
    lambda.putFunctionConcurrency(b -> b.functionName("sink").reservedConcurrentExecutions(0));

    // Every node's front end sees the same number of warm-up calls in both phases: each JVM compiles
    // its own invoke path.
    progress("warm invoke: %d sequential warm-up calls per node, %d s with %d clients", SEQUENTIAL_WARM_UP,
        CONCURRENT_WARM_UP_SECONDS, CLIENTS);
    for (int i = 0; i < SEQUENTIAL_WARM_UP * n; i++) {
      expect(call(http, endpoints.get(i % n), "warm", null), 200);
    }
    load(http, endpoints, "warm", null, CLIENTS, CONCURRENT_WARM_UP_SECONDS, 0);

    progress("at rest: %d s", REST_SECONDS);
    Cpu rest = Cpu.sample(n);
    Thread.sleep(TimeUnit.SECONDS.toMillis(REST_SECONDS));
    p.restCpu = Cpu.sample(n).minus(rest);

    progress("warm invoke: measuring %d s with %d clients", seconds, CLIENTS);
    Map<Integer, String> before = metrics(n);
    Cpu cpuBefore = Cpu.sample(n);
    p.warm = load(http, endpoints, "warm", null, CLIENTS, seconds, 0);
    p.warmCpu = Cpu.sample(n).minus(cpuBefore);
    Map<Integer, String> after = metrics(n);
    for (int i = 1; i <= n; i++) {
      p.executed.put(i, sum(after.get(i), "lamina_invocations_total", "function=\"warm\"", "outcome=\"success\"")
          - sum(before.get(i), "lamina_invocations_total", "function=\"warm\"", "outcome=\"success\""));
      p.sandboxes.put(i, sum(after.get(i), "lamina_worker_memory_used_megabytes") / FUNCTION_MEMORY_MB);
      if (after.get(i).contains("lamina_sandboxes{function=\"warm\"")) {
        p.functionActorNode = i;
      }
    }

    progress("one client: %d DryRun, %d warm invocations", sequential, sequential);
    p.dryRun = new ArrayList<>();
    for (int i = 0; i < sequential; i++) {
      long s = System.nanoTime();
      expect(call(http, endpoints.get(i % n), "warm", "DryRun"), 204);
      p.dryRun.add(ms(s));
    }
    before = metrics(n);
    for (int i = 0; i < sequential; i++) {
      long s = System.nanoTime();
      expect(call(http, endpoints.get(i % n), "warm", null), 200);
      double ms = ms(s);
      p.warmOne.add(ms);
      p.warmOneByEntry.computeIfAbsent(i % n + 1, k -> new ArrayList<>()).add(ms);
    }
    after = metrics(n);
    for (int i = 1; i <= n; i++) {
      p.executedOne.put(i, sum(after.get(i), "lamina_invocations_total", "function=\"warm\"", "outcome=\"success\"")
          - sum(before.get(i), "lamina_invocations_total", "function=\"warm\"", "outcome=\"success\""));
    }

    progress("events: warm-up, %d accepts from one client, a burst of %d from %d clients", EVENT_SEQUENTIAL, burst,
        CLIENTS);
    load(http, endpoints, "sink", "Event", CLIENTS, 0, 1000);
    for (int i = 0; i < EVENT_SEQUENTIAL; i++) {
      long s = System.nanoTime();
      expect(call(http, endpoints.get(i % n), "sink", "Event"), 202);
      p.acceptOne.add(ms(s));
    }
    before = metrics(n);
    cpuBefore = Cpu.sample(n);
    p.accept = load(http, endpoints, "sink", "Event", CLIENTS, 0, burst);
    p.acceptCpu = Cpu.sample(n).minus(cpuBefore);
    after = metrics(n);
    for (int i = 1; i <= n; i++) {
      p.eventsAccepted.put(i, sum(after.get(i), "lamina_events_accepted_total", "function=\"sink\"")
          - sum(before.get(i), "lamina_events_accepted_total", "function=\"sink\""));
    }
    p.loadAfter = loadAverage();
    progress("phase: %d node(s) done: stopping", n);
    sh("tools/cluster.sh", "down");
    return p;
  }

  // ---- the Cassandra floor -------------------------------------------------------------------

  /**
   * One-row inserts at QUORUM into a table with the journal's primary key and columns, in a keyspace
   * of its own with replication factor 1 (as the journal's): one at a time, then 32 in flight.
   */
  private static void cassandraFloor(Phase p) throws Exception {
    // Schema changes on a busy 2-core machine take longer than the driver's default 2 s.
    DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(30))
        .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, Duration.ofSeconds(30))
        .build();
    try (CqlSession session = CqlSession.builder().withConfigLoader(config)
        .addContactPoint(new InetSocketAddress("127.0.0.1", CASSANDRA_PORT))
        .withLocalDatacenter("datacenter1").build()) {
      session.execute("CREATE KEYSPACE IF NOT EXISTS lamina_bench_floor WITH replication = "
          + "{'class': 'SimpleStrategy', 'replication_factor': 1}");
      session.execute("CREATE TABLE IF NOT EXISTS lamina_bench_floor.messages (persistence_id text, "
          + "partition_nr bigint, sequence_nr bigint, timestamp timeuuid, writer_uuid text, ser_id int, "
          + "ser_manifest text, event_manifest text, event blob, "
          + "PRIMARY KEY ((persistence_id, partition_nr), sequence_nr, timestamp))");
      PreparedStatement insert = session.prepare("INSERT INTO lamina_bench_floor.messages (persistence_id, "
          + "partition_nr, sequence_nr, timestamp, writer_uuid, ser_id, ser_manifest, event_manifest, event) "
          + "VALUES (?, 0, ?, now(), ?, 1, 'E', '', ?)");
      String writer = UUID.randomUUID().toString();
      byte[] payload = new byte[FLOOR_PAYLOAD_BYTES];
      ThreadLocalRandom.current().nextBytes(payload);
      p.floorInsert = new ArrayList<>();
      for (int i = 0; i < FLOOR_WARM_UP + FLOOR_ROWS; i++) {
        long t = System.nanoTime();
        session.execute(insert.bind("floor-one", (long) i, writer, ByteBuffer.wrap(payload))
            .setConsistencyLevel(DefaultConsistencyLevel.QUORUM));
        if (i >= FLOOR_WARM_UP) {
          p.floorInsert.add(ms(t));
        }
      }
      AtomicLong next = new AtomicLong();
      ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
      List<Future<?>> all = new ArrayList<>();
      long t = System.nanoTime();
      for (int c = 0; c < CLIENTS; c++) {
        String id = "floor-" + c;
        all.add(pool.submit(() -> {
          long i;
          long seq = 0;
          while ((i = next.getAndIncrement()) < FLOOR_CONCURRENT_ROWS) {
            session.execute(insert.bind(id, seq++, writer, ByteBuffer.wrap(payload))
                .setConsistencyLevel(DefaultConsistencyLevel.QUORUM));
          }
          return null;
        }));
      }
      for (Future<?> f : all) {
        f.get(5, TimeUnit.MINUTES);
      }
      p.floorInsertsPerSecond = FLOOR_CONCURRENT_ROWS / ((System.nanoTime() - t) / 1e9);
      pool.shutdown();
    }
  }

  // ---- the client ----------------------------------------------------------------------------

  /** What a concurrent load measured: latencies in ms, answers by status, requests per entry node. */
  private record Load(List<Double> latencies, double seconds, Map<Integer, Long> statuses, long[] perEntry) {
    long ok(int status) {
      return statuses.getOrDefault(status, 0L);
    }

    long failed(int status) {
      return latencies.size() - ok(status);
    }
  }

  /**
   * {@code clients} threads calling {@code function} ({@code type} null: RequestResponse), request
   * {@code i} going to node {@code i mod N}, for {@code seconds} (when > 0) or {@code count} requests.
   */
  private static Load load(HttpClient http, List<String> endpoints, String function, String type, int clients,
      int seconds, int count) throws Exception {
    AtomicLong next = new AtomicLong();
    Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    long[] perEntry = new long[endpoints.size()];
    List<List<Double>> latencies = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<long[]>> all = new ArrayList<>();
    long start = System.nanoTime();
    long deadline = seconds > 0 ? start + TimeUnit.SECONDS.toNanos(seconds) : Long.MAX_VALUE;
    for (int c = 0; c < clients; c++) {
      List<Double> mine = new ArrayList<>();
      latencies.add(mine);
      all.add(pool.submit(() -> {
        long[] entries = new long[endpoints.size()];
        long i;
        while (System.nanoTime() < deadline && ((i = next.getAndIncrement()) < count || count == 0)) {
          int node = (int) (i % endpoints.size());
          long t = System.nanoTime();
          int status;
          try {
            status = call(http, endpoints.get(node), function, type);
          } catch (IOException e) {
            status = -1;
          }
          mine.add(ms(t));
          entries[node]++;
          statuses.computeIfAbsent(status, k -> new LongAdder()).increment();
        }
        return entries;
      }));
    }
    for (Future<long[]> f : all) {
      long[] entries = f.get(10, TimeUnit.MINUTES);
      for (int i = 0; i < entries.length; i++) {
        perEntry[i] += entries[i];
      }
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    List<Double> merged = new ArrayList<>();
    latencies.forEach(merged::addAll);
    Map<Integer, Long> byStatus = new TreeMap<>();
    statuses.forEach((k, v) -> byStatus.put(k, v.sum()));
    return new Load(merged, elapsed, byStatus, perEntry);
  }

  /** One invocation ({@code type} null, DryRun or Event); returns the HTTP status. */
  private static int call(HttpClient http, String endpoint, String function, String type)
      throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(SignedHttp.request("POST", endpoint + "/2015-03-31/functions/" + function
        + "/invocations", type == null ? Map.of() : Map.of("X-Amz-Invocation-Type", type), "{}"),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 200 && r.headers().firstValue("X-Amz-Function-Error").isPresent()) {
      return 599;   // not Lambda's: a function error, which the no-op never has
    }
    return r.statusCode();
  }

  private static void expect(int status, int wanted) {
    if (status != wanted) {
      throw new IllegalStateException("expected " + wanted + ", got " + status);
    }
  }

  // ---- what the nodes report -----------------------------------------------------------------

  private static Map<Integer, String> metrics(int n) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    Map<Integer, String> texts = new TreeMap<>();
    for (int i = 1; i <= n; i++) {
      texts.put(i, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + (API_BASE + i - 1) + "/metrics"))
          .build(), HttpResponse.BodyHandlers.ofString()).body());
    }
    return texts;
  }

  /** The sum of the Prometheus samples of {@code name} whose labels contain all of {@code labels}. */
  private static double sum(String text, String name, String... labels) {
    double total = 0;
    for (String line : text.split("\n")) {
      if (!(line.startsWith(name + "{") || line.startsWith(name + " "))) {
        continue;
      }
      boolean match = true;
      for (String l : labels) {
        match &= line.contains(l);
      }
      if (match) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }

  /**
   * CPU time from {@code /proc}, in clock ticks: the node JVMs, their sandboxes (the nodes'
   * descendant processes: bubblewrap and python), Cassandra, this client JVM, and the whole machine
   * (busy time of all CPUs, which also counts other users' processes).
   */
  private record Cpu(long nodes, long sandboxes, long cassandra, long client, long machine) {

    record Delta(double nodes, double sandboxes, double cassandra, double client, double machine) {
      double other() {
        return machine - nodes - sandboxes - cassandra - client;
      }
    }

    static Cpu sample(int n) throws IOException {
      long nodes = 0;
      long sandboxes = 0;
      for (int i = 1; i <= n; i++) {
        long pid = Long.parseLong(Files.readString(CLUSTER_DIR.resolve("node-" + i + "/pid")).trim());
        nodes += ticks(pid);
        sandboxes += ProcessHandle.of(pid).map(h -> h.descendants().mapToLong(d -> ticks(d.pid())).sum()).orElse(0L);
      }
      long cassandra = ticks(Long.parseLong(Files.readString(CASSANDRA_DIR.resolve("cassandra.pid")).trim()));
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long machine = 0;
      for (int f : new int[] {1, 2, 3, 6, 7, 8}) {   // user nice system irq softirq steal
        machine += Long.parseLong(cpu[f]);
      }
      return new Cpu(nodes, sandboxes, cassandra, ticks(ProcessHandle.current().pid()), machine);
    }

    /** utime + stime of one process, 0 if it is gone. */
    static long ticks(long pid) {
      try {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
      } catch (IOException | RuntimeException e) {
        return 0;
      }
    }

    /** The CPU ms used between {@code earlier} and this sample. */
    Delta minus(Cpu earlier) {
      double tick = 1000.0 / CLOCK_TICKS;
      return new Delta((nodes - earlier.nodes) * tick, (sandboxes - earlier.sandboxes) * tick,
          (cassandra - earlier.cassandra) * tick, (client - earlier.client) * tick, (machine - earlier.machine) * tick);
    }
  }

  private static final long CLOCK_TICKS = clockTicks();

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
      return Long.parseLong(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    } catch (IOException | RuntimeException e) {
      return 100;
    }
  }

  // ---- the report ----------------------------------------------------------------------------

  private static void print(List<Phase> phases, int seconds, int burst) {
    Phase one = phases.get(0);
    Phase three = phases.get(1);
    System.out.println();
    System.out.println("| measure | 1 node | 3 nodes |");
    System.out.println("|---|---|---|");
    row("floor: Cassandra insert of one row, QUORUM (RF 1), one client, p50 / p99 (ms)",
        pair(one.floorInsert), pair(three.floorInsert));
    row("floor: Cassandra inserts/s, one row each, QUORUM, " + CLIENTS + " in flight",
        String.format(Locale.ROOT, "%.0f", one.floorInsertsPerSecond),
        String.format(Locale.ROOT, "%.0f", three.floorInsertsPerSecond));
    row("DryRun (front end only), one client, p50 / p99 (ms)", pair(one.dryRun), pair(three.dryRun));
    row("warm invoke, python no-op, one client, p50 / p99 (ms)", pair(one.warmOne), pair(three.warmOne));
    row("warm invocations/s, " + CLIENTS + " clients, " + seconds + " s", rate(one.warm, 200), rate(three.warm, 200));
    row("warm invoke latency at " + CLIENTS + " clients, p50 / p99 (ms)", pair(one.warm.latencies()),
        pair(three.warm.latencies()));
    row("CPU at rest, no requests (ms per s): node JVMs / sandboxes / Cassandra / everything else on the machine",
        rest(one.restCpu), rest(three.restCpu));
    row("sandboxes after the " + CLIENTS + "-client run, per node", perNode(one.sandboxes), perNode(three.sandboxes));
    row("CPU per warm invocation (ms): node JVMs / sandboxes / Cassandra / client / other processes",
        cpu(one.warmCpu, one.warm.ok(200)), cpu(three.warmCpu, three.warm.ok(200)));
    row("Event accepted (202), one client, accepting only, p50 / p99 (ms)", pair(one.acceptOne),
        pair(three.acceptOne));
    row("accepted Event invocations/s, accepting only, " + CLIENTS + " clients, burst of " + burst,
        rate(one.accept, 202), rate(three.accept, 202));
    row("Event accept latency at " + CLIENTS + " clients, p50 / p99 (ms)", pair(one.accept.latencies()),
        pair(three.accept.latencies()));
    row("CPU per accepted event (ms): node JVMs / sandboxes / Cassandra / client / other processes",
        cpu(one.acceptCpu, one.accept.ok(202)), cpu(three.acceptCpu, three.accept.ok(202)));

    System.out.println();
    System.out.println("Where the 3-node invocations ran (node " + three.functionActorNode
        + " held the function's actor):");
    System.out.println();
    System.out.println("| | " + String.join(" | ", nodeHeaders(three.nodes)) + " |");
    System.out.println("|---" + "|---".repeat(three.nodes) + "|");
    long total = three.warm.latencies().size();
    double executedTotal = three.executed.values().stream().mapToDouble(Double::doubleValue).sum();
    List<String> entered = new ArrayList<>();
    List<String> ran = new ArrayList<>();
    List<String> oneClient = new ArrayList<>();
    List<String> ranOne = new ArrayList<>();
    List<String> accepted = new ArrayList<>();
    double acceptedTotal = three.eventsAccepted.values().stream().mapToDouble(Double::doubleValue).sum();
    double executedOneTotal = three.executedOne.values().stream().mapToDouble(Double::doubleValue).sum();
    for (int i = 1; i <= three.nodes; i++) {
      entered.add(percent(three.warm.perEntry()[i - 1], total));
      ran.add(percent(three.executed.get(i), executedTotal));
      oneClient.add(pair(three.warmOneByEntry.get(i)));
      ranOne.add(percent(three.executedOne.get(i), executedOneTotal));
      accepted.add(percent(three.eventsAccepted.get(i), acceptedTotal));
    }
    System.out.println("| " + CLIENTS + " clients: requests received | " + String.join(" | ", entered) + " |");
    System.out.println("| " + CLIENTS + " clients: invocations run on its sandboxes | " + String.join(" | ", ran) + " |");
    System.out.println("| one client: warm invoke through this node, p50 / p99 (ms) | " + String.join(" | ", oneClient)
        + " |");
    System.out.println("| one client: invocations run on its sandboxes | " + String.join(" | ", ranOne) + " |");
    System.out.println("| events: accepted by its queue partitions (burst) | " + String.join(" | ", accepted) + " |");

    // The warm pick (most recently used idle sandbox) ignores where the request came in, so the
    // entry node and the sandbox's node are independent: the shares below follow from the table.
    int y = three.functionActorNode;
    double entryY = three.warm.perEntry()[y - 1] / (double) total;
    double ranY = three.executed.get(y) / executedTotal;
    double sameEntryAndSandbox = 0;
    for (int i = 1; i <= three.nodes; i++) {
      sameEntryAndSandbox += three.warm.perEntry()[i - 1] / (double) total * three.executed.get(i) / executedTotal;
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "Derived for the %d-client run: front end → function actor crossed nodes for %.0f%% "
        + "of invocations, function actor → sandbox for %.0f%%, the result back to the front end for %.0f%%; "
        + "all three on one node: %.0f%%.%n", CLIENTS, 100 * (1 - entryY), 100 * (1 - ranY),
        100 * (1 - sameEntryAndSandbox), 100 * entryY * ranY);
    System.out.println();
    for (Phase p : phases) {
      System.out.printf(Locale.ROOT, "%d node(s): cluster up in %.0f s; load average before %s, after %s; "
          + "failed warm invocations %d %s, failed accepts %d %s%n", p.nodes, p.upSeconds, p.loadBefore, p.loadAfter,
          p.warm.failed(200), p.warm.statuses(), p.accept.failed(202), p.accept.statuses());
    }
  }

  private static List<String> nodeHeaders(int n) {
    List<String> h = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      h.add("node " + i);
    }
    return h;
  }

  private static void row(String what, String one, String three) {
    System.out.println("| " + what + " | " + one + " | " + three + " |");
  }

  private static String rate(Load load, int status) {
    return String.format(Locale.ROOT, "%.0f", load.ok(status) / load.seconds());
  }

  private static String pair(List<Double> values) {
    return String.format(Locale.ROOT, "%s / %s", fmt(pct(values, 50)), fmt(pct(values, 99)));
  }

  private static String perNode(Map<Integer, Double> values) {
    List<String> s = new ArrayList<>();
    values.values().forEach(v -> s.add(String.format(Locale.ROOT, "%.0f", v)));
    return String.join(" / ", s);
  }

  private static String cpu(Cpu.Delta d, long invocations) {
    return String.format(Locale.ROOT, "%.2f / %.2f / %.2f / %.2f / %.2f", d.nodes() / invocations,
        d.sandboxes() / invocations, d.cassandra() / invocations, d.client() / invocations, d.other() / invocations);
  }

  private static String rest(Cpu.Delta d) {
    return String.format(Locale.ROOT, "%.0f / %.0f / %.0f / %.0f", d.nodes() / REST_SECONDS,
        d.sandboxes() / REST_SECONDS, d.cassandra() / REST_SECONDS, (d.other() + d.client()) / REST_SECONDS);
  }

  private static String percent(double part, double whole) {
    return String.format(Locale.ROOT, "%.0f%%", 100 * part / whole);
  }

  private static double pct(List<Double> values, double p) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, (int) Math.ceil(p / 100 * sorted.size()) - 1)));
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, v < 10 ? "%.2f" : "%.1f", v);
  }

  private static double ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e6;
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Runs a repository script with this JVM's environment; its output goes to stderr. */
  private static void sh(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(REPO.toFile()).redirectErrorStream(true).start();
    try (InputStream out = p.getInputStream()) {
      out.transferTo(System.err);
    }
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue());
    }
  }

  private static String loadAverage() throws IOException {
    String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
    return f[0] + " " + f[1] + " " + f[2];
  }

  private static void progress(String format, Object... args) {
    System.err.printf(Locale.ROOT, "[%s] " + format + "%n", prepend(
        java.time.LocalTime.now().format(java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss")), args));
  }

  private static Object[] prepend(Object first, Object[] rest) {
    Object[] all = new Object[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

  private static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) {
      throw new IllegalStateException(name + " is not set: run bench/cluster-benchmark");
    }
    return v;
  }

  private ClusterBenchmark() {}
}
