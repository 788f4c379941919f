package dev.lamina.node.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.sandbox.RuntimeCommand;
import dev.lamina.actors.sandbox.RuntimeFiles;
import dev.lamina.actors.sandbox.SandboxCode;
import dev.lamina.actors.sandbox.SandboxLauncher;
import dev.lamina.actors.sandbox.SandboxSettings;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.TestNode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The physical floors that benchmark and load-test figures are reported beside, measured in the
 * same run on the same machine: a figure then reads as what Lamina adds over what no platform can
 * avoid, not as an absolute that moves with the machine and whatever else it runs. Not a test:
 * run it with {@code bench/floors}, which writes JSON and prints a Markdown table.
 *
 * <p>Per runtime family, three floors, each a list of samples in ms:
 * <ul>
 *   <li>{@code processStart}: exec to exit of the cheapest process of that runtime;
 *   <li>{@code bootstrapCold}: exec of the runtime with the family's no-op example to its first
 *       {@code /next};
 *   <li>{@code runtimeApiRoundTrip}: on a warm runtime, an event handed to a parked {@code /next}
 *       until its {@code /response} has arrived.
 * </ul>
 *
 * <p>Runtimes start exactly as Lamina starts them with isolation none — {@link RuntimeCommand}'s
 * argv and environment, the code directory as working directory, the function's MemorySize — but
 * against {@link StubRuntimeApi}, a JDK HttpServer that does nothing else: no node, no sandbox, no
 * platform in between. A change to how Lamina starts a runtime therefore moves its floor too.
 *
 * <p>Bounded: every process started is killed with its descendants and awaited, also on failure;
 * a runtime that exits, reports an error, or does not reach {@code /next} or answer within
 * {@link #PATIENCE_MS} fails the measurement with the tail of its output.
 */
public final class Floors implements AutoCloseable {

  private static final long PATIENCE_MS = 30_000;
  /** Lambda's default MemorySize. */
  public static final int DEFAULT_MEMORY_MB = 128;

  /** A runtime family, measured with its no-op example. */
  public enum Family {
    PYTHON("python3.12", "noop.handler", "examples/python/noop with Lamina's bootstrap.py"),
    NODE("nodejs20.x", "index.handler", "examples/node/noop (index.mjs) with Lamina's bootstrap.js"),
    JAVA("java17", "example.Noop::handleRequest", "example.Noop with the AWS Java runtime interface client"),
    PROVIDED("provided.al2023", "noop", "examples/provided/noop (a bash loop with curl)");

    final String lambdaRuntime;
    final String handler;
    final String subject;

    Family(String lambdaRuntime, String handler, String subject) {
      this.lambdaRuntime = lambdaRuntime;
      this.handler = handler;
      this.subject = subject;
    }

    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Family of(String key) {
      for (Family f : values()) {
        if (f.key().equals(key)) {
          return f;
        }
      }
      throw new IllegalArgumentException("unknown runtime family " + key + ", expected python, node, java or provided");
    }
  }

  /**
   * How many samples: process starts, cold bootstraps (one process each), untimed and timed warm
   * round trips. The untimed ones come first because one-off costs (lazy imports, the JIT of the
   * runtime and of the endpoint) are not a floor.
   */
  public record Counts(int starts, int colds, int warmUp, int warm) {

    public Counts {
      if (starts < 1 || colds < 1 || warmUp < 0 || warm < 1) {
        throw new IllegalArgumentException("counts must be at least 1 (warm-up at least 0): " + starts + ", "
            + colds + ", " + warmUp + ", " + warm);
      }
    }

    /** Counts that finish in a few seconds per family on a 2-core machine. */
    public static Counts defaults(Family family) {
      return switch (family) {
        case PYTHON, NODE -> new Counts(30, 10, 200, 2000);
        case JAVA -> new Counts(20, 5, 200, 500);        // ~0.3 s per cold start
        case PROVIDED -> new Counts(30, 10, 20, 200);    // ~15 ms per round trip: curl, twice; nothing to warm
      };
    }
  }

  /**
   * One floor.
   *
   * @param key {@code <family>.processStart|bootstrapCold|runtimeApiRoundTrip}
   * @param samples ms, in the order measured
   */
  public record Floor(String key, Family family, String what, List<Double> samples) {

    public Floor {
      samples = List.copyOf(samples);
    }

    public double p50() {
      return percentile(samples, 0.50);
    }

    public double p99() {
      return percentile(samples, 0.99);
    }

    public double min() {
      return percentile(samples, 0);
    }
  }

  /** The three floors of one family. */
  public record Measured(Floor processStart, Floor bootstrapCold, Floor runtimeApiRoundTrip) {

    public List<Floor> all() {
      return List.of(processStart, bootstrapCold, runtimeApiRoundTrip);
    }
  }

  private final Path scratch;
  private final Path runtimeDir;
  private final Path opt;
  private final Path tmp;
  private final SandboxSettings settings;
  private final int memoryMb;

  private Floors(Path scratch, int memoryMb) throws IOException {
    this.scratch = scratch;
    this.memoryMb = memoryMb;
    this.runtimeDir = RuntimeFiles.install(scratch.resolve("runtime")).root();
    this.opt = Files.createDirectories(scratch.resolve("opt"));
    this.tmp = Files.createDirectories(scratch.resolve("tmp"));
    // The node's own settings (reference.conf and -D overrides): which python, node and java it runs.
    this.settings = SandboxSettings.from(ConfigFactory.load(), scratch);
  }

  /**
   * Installs the runtimes into a scratch directory, deleted by {@link #close()}. {@code memoryMb}:
   * the MemorySize the runtimes are started for (Java's heap and CPU count, Node's heap follow it).
   */
  public static Floors prepare(int memoryMb) throws IOException {
    return new Floors(Files.createTempDirectory("lamina-floors"), memoryMb);
  }

  public Measured measure(Family family, Counts counts) throws IOException, InterruptedException {
    Floor start = processStart(family, counts.starts());
    Bootstraps boot = bootstrap(family, counts.colds(), counts.warmUp(), counts.warm());
    String how = "; Lamina's command line and environment (isolation none, " + memoryMb + " MB), minimal "
        + "Runtime API (JDK HttpServer), no node, no sandbox";
    return new Measured(start,
        new Floor(family.key() + ".bootstrapCold", family, subject(family) + ": exec to first `/next`" + how,
            boot.cold()),
        new Floor(family.key() + ".runtimeApiRoundTrip", family, subject(family) + ": warm Runtime API round trip, "
            + "event to a parked `/next` → `/response` received (after " + counts.warmUp() + " untimed)" + how,
            boot.roundTrips()));
  }

  /** {@code n} starts of the cheapest process of the family, exec to exit. */
  public Floor processStart(Family family, int n) throws IOException, InterruptedException {
    List<String> argv = startArgv(family);
    List<Double> samples = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ProcessBuilder pb = new ProcessBuilder(argv)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
      // The environment Lamina gives the runtime, not ours: e.g. NODE_EXTRA_CA_CERTS adds ~30 ms
      // to every node start. Nothing listens on its Runtime API address; these never call it.
      pb.environment().clear();
      pb.environment().putAll(RuntimeCommand.environment(config(family), layout(tmp), "127.0.0.1:9", settings, false));
      long t = System.nanoTime();
      Process p = pb.start();
      try {
        if (!p.waitFor(PATIENCE_MS, TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
          throw new IllegalStateException("`" + String.join(" ", argv) + "` did not exit with 0 within "
              + PATIENCE_MS + " ms");
        }
        samples.add(ms(t));
      } finally {
        stop(p);
      }
    }
    return new Floor(family.key() + ".processStart", family, startWhat(family, argv), samples);
  }

  /**
   * {@code colds} cold starts, each its own process against its own endpoint (a dead runtime's
   * parked {@code /next} must not swallow the next one's event); the last process then runs
   * {@code warmUp} + {@code warm} round trips.
   */
  private Bootstraps bootstrap(Family family, int colds, int warmUp, int warm)
      throws IOException, InterruptedException {
    Path task = taskRoot(family);
    try {
      List<Double> cold = new ArrayList<>();
      List<Double> roundTrips = new ArrayList<>();
      for (int i = 0; i < colds; i++) {
        Path log = tmp.resolve(family.key() + "-" + i + ".log");
        try (StubRuntimeApi stub = new StubRuntimeApi()) {
          ProcessBuilder pb = runtime(family, task, stub.address()).redirectErrorStream(true)
              .redirectOutput(log.toFile());
          long t = System.nanoTime();
          Process p = pb.start();
          try {
            Running running = new Running(family, p, log);
            cold.add((stub.awaitNext(running) - t) / 1e6);
            if (i == colds - 1) {
              roundTrips.addAll(stub.roundTrips(running, warmUp, warm));
            }
          } finally {
            stop(p);
          }
        }
      }
      return new Bootstraps(cold, roundTrips);
    } finally {
      TestNode.deleteTree(task);
    }
  }

  /** Samples in ms: exec to first {@code /next} per process; warm round trips of the last one. */
  private record Bootstraps(List<Double> cold, List<Double> roundTrips) {}

  /** The runtime's process as Lamina's plain launcher would start it: argv, environment, directory. */
  private ProcessBuilder runtime(Family family, Path task, String runtimeApi) {
    FunctionConfig config = config(family);
    SandboxLauncher.Layout layout = layout(task);
    ProcessBuilder pb = new ProcessBuilder(RuntimeCommand.argv(config, SandboxCode.of(task, opt), layout, settings));
    pb.environment().clear();
    pb.environment().putAll(RuntimeCommand.environment(config, layout, runtimeApi, settings, false));
    pb.environment().put("TMPDIR", tmp.toString());
    return pb.directory(task.toFile());
  }

  private FunctionConfig config(Family family) {
    return new FunctionConfig("floor", FunctionConfig.LATEST, family.lambdaRuntime,
        "arn:aws:iam::000000000000:role/floor", family.handler, "", 3, memoryMb, 512, Map.of(), "0".repeat(64),
        0, 0, "", "floor", "x86_64", "PassThrough", null, "Text", "/aws/lambda/floor", Map.of(), List.of());
  }

  private SandboxLauncher.Layout layout(Path task) {
    return new SandboxLauncher.Layout(task.toString(), opt.toString(), runtimeDir.toString(), tmp.toString());
  }

  /** A fresh copy of the family's no-op example (Java: compiled, as a user's build would). */
  private Path taskRoot(Family family) throws IOException {
    if (family == Family.JAVA) {
      return Examples.compileJava(null, 17);
    }
    Path source = Examples.dir().resolve(family.key() + "/noop");
    Path task = Files.createTempDirectory(scratch, "task");
    try (Stream<Path> files = Files.list(source)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Files.copy(f, task.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
    return task;
  }

  private String subject(Family family) {
    if (family != Family.JAVA) {
      return family.subject;
    }
    return family.subject + " (" + ricJar() + ", `" + settings.javaFor(family.lambdaRuntime) + "`)";
  }

  private String ricJar() {
    try (Stream<Path> jars = Files.list(runtimeDir.resolve("java"))) {
      return jars.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("aws-lambda-java-runtime-interface-client")).findFirst().orElse("?");
    } catch (IOException e) {
      return "?";
    }
  }

  /**
   * What "start the runtime's process" means per family. Java: Lamina's own java17 command line
   * with an empty main in place of the runtime client, so the gap to bootstrapCold is the client's
   * init. Provided: {@code /bin/true}, the exec of a minimal native executable — what any custom
   * bootstrap costs at least (the bash no-op's own start is part of its bootstrapCold).
   */
  private List<String> startArgv(Family family) {
    return switch (family) {
      case PYTHON -> List.of(settings.python(), "-S", "-c", "pass");
      case NODE -> List.of(settings.node(), "-e", "0");
      case PROVIDED -> List.of("/bin/true");
      case JAVA -> {
        List<String> argv = new ArrayList<>(RuntimeCommand.argv(config(family), SandboxCode.of(tmp, opt),
            layout(tmp), settings));
        int cp = argv.indexOf("-cp") + 1;
        if (cp == 0 || !argv.get(argv.size() - 1).equals(family.handler)) {
          throw new IllegalStateException("unexpected shape of Lamina's java command line: " + argv);
        }
        argv.subList(argv.size() - 2, argv.size()).clear();  // the runtime client's main class and the handler
        argv.set(cp, argv.get(cp) + ":" + classesOf(EmptyMain.class));
        argv.add(EmptyMain.class.getName());
        yield argv;
      }
    };
  }

  private String startWhat(Family family, List<String> argv) {
    if (family == Family.JAVA) {
      List<String> shown = new ArrayList<>(argv);
      shown.set(shown.indexOf("-cp") + 1, "<runtime client jars>:<test classes>");
      return "`" + String.join(" ", shown) + "` process start: Lamina's java17 command line (" + memoryMb
          + " MB) with an empty main instead of the runtime interface client";
    }
    if (family == Family.PROVIDED) {
      return "`/bin/true` process start: exec of a minimal native executable, the least any provided bootstrap "
          + "costs (the bash no-op's own start is inside provided.bootstrapCold)";
    }
    return "`" + String.join(" ", argv) + "` process start";
  }

  private static String classesOf(Class<?> c) {
    try {
      return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The JVM's start and exit with nothing in between: java.processStart runs this. */
  public static final class EmptyMain {
    public static void main(String[] args) {}
  }

  /**
   * Kills the process and the children it had (bash's curl), then waits, bounded. A child forked
   * after the snapshot ends when the stub endpoint closes its connection.
   */
  private static void stop(Process p) throws InterruptedException {
    List<ProcessHandle> children = p.descendants().toList();
    p.destroyForcibly();
    children.forEach(ProcessHandle::destroyForcibly);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      System.err.println("warning: process " + p.pid() + " did not exit within 10 s of SIGKILL");
    }
    for (ProcessHandle child : children) {
      while (!ended(child) && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      if (!ended(child)) {
        System.err.println("warning: process " + child.pid() + " did not exit within 10 s of SIGKILL");
      }
    }
  }

  /**
   * Gone or a zombie. Orphaned children are reaped by pid 1, here only every second or two, and
   * {@link ProcessHandle#isAlive()} counts a zombie as alive.
   */
  private static boolean ended(ProcessHandle process) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state == 'Z' || state == 'X';
    } catch (IOException | IndexOutOfBoundsException e) {
      return true;
    }
  }

  /** A runtime process being measured and where its output goes, for failure messages. */
  private record Running(Family family, Process process, Path log) {

    IllegalStateException failure(String what) {
      String out;
      try {
        out = Files.readString(log);
      } catch (IOException e) {
        out = "(no output: " + e.getMessage() + ")";
      }
      return new IllegalStateException(family.key() + " runtime " + what + "; its output ends:\n"
          + out.substring(Math.max(0, out.length() - 2000)));
    }
  }

  /** The machine the floors were measured on, for the JSON's {@code machine} object. */
  public Map<String, Object> machine() throws InterruptedException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("memoryGiB", memoryGiB());
    m.put("kernel", System.getProperty("os.version"));
    m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    m.put("python", versionOf(settings.python(), "--version"));
    m.put("node", versionOf(settings.node(), "--version"));
    return m;
  }

  /** Whole GiB of physical memory, as {@code free -g} shows it. */
  private static Long memoryGiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) / (1024 * 1024);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return null;
  }

  /** The first line a command prints, or null when it cannot run. */
  private static String versionOf(String... argv) throws InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    } catch (IOException e) {
      return null;
    }
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        return null;
      }
      return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().findFirst().orElse(null);
    } catch (IOException e) {
      return null;
    } finally {
      stop(p);
    }
  }

  @Override
  public void close() {
    TestNode.deleteTree(scratch);
  }

  // ------------------------------------------------------------------ samples

  /** Nearest rank: the smallest sample with at least {@code p} of all samples at or below it. */
  static double percentile(List<Double> samples, double p) {
    List<Double> sorted = new ArrayList<>(samples);
    Collections.sort(sorted);
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1)));
  }

  /** A Markdown table row: what, n, p50, p99, min (ms). */
  static String[] row(String what, List<Double> samples) {
    return new String[] {what, Integer.toString(samples.size()), fmt(percentile(samples, 0.50)),
        fmt(percentile(samples, 0.99)), fmt(percentile(samples, 0))};
  }

  static String fmt(double v) {
    return String.format(Locale.ROOT, v < 10 ? "%.3f" : "%.1f", v);
  }

  static double ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e6;
  }

  // ------------------------------------------------------------------ the endpoint

  /**
   * The smallest possible Runtime API, for one runtime process: hands each event to a parked
   * {@code /next} and stamps (System.nanoTime) when {@code /next} calls and answers arrive.
   * Loopback only.
   */
  private static final class StubRuntimeApi implements AutoCloseable {

    static {
      // The JDK server writes headers and body separately: without this, Nagle adds ~40 ms.
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    /** An answer of the runtime: {@code /response}, or an invocation or init error. */
    private record Answer(long nanos, String path, String body) {}

    private final HttpServer server;
    private final ExecutorService handlers;
    private final BlockingQueue<String> events = new ArrayBlockingQueue<>(1);
    private final BlockingQueue<Long> nextCalls = new LinkedBlockingQueue<>();
    private final BlockingQueue<Answer> answers = new LinkedBlockingQueue<>();

    StubRuntimeApi() throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      handlers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "stub-runtime-api");
        t.setDaemon(true);
        return t;
      });
      server.setExecutor(handlers);
      server.createContext("/2018-06-01/runtime/", this::handle);
      server.start();
    }

    String address() {
      return "127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
      String path = ex.getRequestURI().getPath();
      if (path.endsWith("/invocation/next")) {
        nextCalls.add(System.nanoTime());
        try {
          String id = events.take();
          byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
          var headers = ex.getResponseHeaders();
          headers.add("Content-Type", "application/json");
          headers.add("Lambda-Runtime-Aws-Request-Id", id);
          headers.add("Lambda-Runtime-Deadline-Ms", Long.toString(System.currentTimeMillis() + 60000));
          headers.add("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:0:function:floor");
          ex.sendResponseHeaders(200, body.length);
          try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
          }
        } catch (InterruptedException e) {
          ex.close();  // the endpoint is closing
        }
      } else {
        byte[] body = ex.getRequestBody().readAllBytes();
        answers.add(new Answer(System.nanoTime(), path, new String(body, StandardCharsets.UTF_8)));
        byte[] ok = "{\"status\":\"OK\"}".getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(202, ok.length);
        try (OutputStream os = ex.getResponseBody()) {
          os.write(ok);
        }
      }
    }

    /** The nanoTime of the runtime's next {@code /next} call. */
    long awaitNext(Running running) throws InterruptedException {
      long deadline = System.nanoTime() + PATIENCE_MS * 1_000_000;
      while (true) {
        Long at = nextCalls.poll(20, TimeUnit.MILLISECONDS);
        if (at != null) {
          return at;
        }
        Answer unexpected = answers.poll();
        if (unexpected != null) {
          throw running.failure("posted " + unexpected.path() + " instead of calling /next: " + unexpected.body());
        }
        check(running, deadline, "/next");
      }
    }

    /** Hands {@code warmUp} + {@code n} events one at a time; returns the last {@code n} round trips in ms. */
    List<Double> roundTrips(Running running, int warmUp, int n) throws InterruptedException {
      List<Double> samples = new ArrayList<>(n);
      for (int i = 0; i < warmUp + n; i++) {
        String id = UUID.randomUUID().toString();
        long sent = System.nanoTime();
        events.put(id);
        Answer answer = awaitAnswer(running);
        if (!answer.path().endsWith("/invocation/" + id + "/response")) {
          throw running.failure("answered " + answer.path() + ": " + answer.body());
        }
        if (i >= warmUp) {
          samples.add((answer.nanos() - sent) / 1e6);
        }
        awaitNext(running);
      }
      return samples;
    }

    private Answer awaitAnswer(Running running) throws InterruptedException {
      long deadline = System.nanoTime() + PATIENCE_MS * 1_000_000;
      while (true) {
        Answer answer = answers.poll(20, TimeUnit.MILLISECONDS);
        if (answer != null) {
          return answer;
        }
        check(running, deadline, "an answer");
      }
    }

    private static void check(Running running, long deadline, String awaited) {
      if (!running.process().isAlive()) {
        throw running.failure("exited with " + running.process().exitValue() + " while Lamina waited for " + awaited);
      }
      if (System.nanoTime() > deadline) {
        throw running.failure("sent no " + awaited + " within " + PATIENCE_MS + " ms");
      }
    }

    @Override
    public void close() {
      server.stop(0);
      handlers.shutdownNow();  // wakes handlers parked on /next
    }
  }

  // ------------------------------------------------------------------ command line

  /**
   * {@code Floors [--out file.json] [--starts N] [--cold N] [--warm N] [--memory MB]
   * [--runtimes python,node,java,provided]}: measures, writes JSON to {@code --out} if given, prints
   * a Markdown table. A count given here replaces every family's default ({@link Counts#defaults});
   * {@code --memory} is the MemorySize to start runtimes for (default 128, match the load test's).
   */
  public static void main(String[] args) throws Exception {
    Path out = null;
    Integer starts = null;
    Integer colds = null;
    Integer warm = null;
    int memoryMb = DEFAULT_MEMORY_MB;
    Set<Family> families = EnumSet.allOf(Family.class);
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--out" -> out = Path.of(required(args[i], value));
        case "--starts" -> starts = Integer.parseInt(required(args[i], value));
        case "--cold" -> colds = Integer.parseInt(required(args[i], value));
        case "--warm" -> warm = Integer.parseInt(required(args[i], value));
        case "--memory" -> memoryMb = Integer.parseInt(required(args[i], value));
        case "--runtimes" -> {
          families = EnumSet.noneOf(Family.class);
          for (String key : required(args[i], value).split(",")) {
            families.add(Family.of(key.trim()));
          }
        }
        default -> {
          System.err.println("usage: Floors [--out file.json] [--starts N] [--cold N] [--warm N] [--memory MB] "
              + "[--runtimes python,node,java,provided]");
          System.exit(2);
        }
      }
      i++;
    }

    List<Floor> floors = new ArrayList<>();
    Map<String, Object> machine;
    try (Floors measuring = prepare(memoryMb)) {
      machine = measuring.machine();
      for (Family family : families) {
        Counts d = Counts.defaults(family);
        Counts counts = new Counts(starts != null ? starts : d.starts(), colds != null ? colds : d.colds(),
            d.warmUp(), warm != null ? warm : d.warm());
        floors.addAll(measuring.measure(family, counts).all());
      }
    }

    if (out != null) {
      writeJson(out, machine, memoryMb, floors);
    }
    System.out.println("| key | what | n | p50 ms | p99 ms | min ms |");
    System.out.println("|---|---|---|---|---|---|");
    for (Floor f : floors) {
      System.out.println("| " + f.key() + " | " + String.join(" | ", row(f.what(), f.samples())) + " |");
    }
  }

  private static String required(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return value;
  }

  /**
   * {@code {"measuredAt", "unit": "ms", "memoryMb", "machine": {...}, "floors": [{"key", "runtime",
   * "what", "n", "p50", "p99", "min", "samples"}]}}; times rounded to µs.
   */
  static void writeJson(Path out, Map<String, Object> machine, int memoryMb, List<Floor> floors) throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    root.put("measuredAt", Instant.now().toString());
    root.put("unit", "ms");
    root.put("memoryMb", memoryMb);
    root.set("machine", json.valueToTree(machine));
    ArrayNode rows = root.putArray("floors");
    for (Floor f : floors) {
      ObjectNode row = rows.addObject();
      row.put("key", f.key());
      row.put("runtime", f.family().key());
      row.put("what", f.what());
      row.put("n", f.samples().size());
      row.put("p50", micros(f.p50()));
      row.put("p99", micros(f.p99()));
      row.put("min", micros(f.min()));
      ArrayNode samples = row.putArray("samples");
      f.samples().forEach(s -> samples.add(micros(s)));
    }
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    json.writeValue(out.toFile(), root);
  }

  private static double micros(double ms) {
    return Math.round(ms * 1000) / 1000.0;
  }
}
