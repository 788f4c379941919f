package dev.lamina.node.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.lambda.model.DestinationConfig;
import software.amazon.awssdk.services.lambda.model.OnSuccess;

/**
 * Asynchronous invocation on one embedded node (not a test: {@code bench/async-benchmark}): how many
 * {@code Event} invocations per second the node accepts (each durable in the journal before its 202),
 * and the delay from the client sending an event to the function starting on it, both for a burst
 * (the queue builds up) and at a fixed rate below the accept rate. Each event carries its send time;
 * the python no-op returns its start time; the on-success records in a Lamina queue give the delays.
 */
public final class AsyncBenchmark {

  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    int burst = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 300;
    int clients = 32;
    Path dir = Files.createTempDirectory("lamina-async-bench-");
    try (TestNode node = TestNode.start(dir, true, ConfigFactory.empty())) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .executor(Executors.newFixedThreadPool(4)).build();
      String endpoint = node.endpoint();
      sqs(http, endpoint, "CreateQueue", "{\"QueueName\":\"records\"}");
      Functions.create(node.lambda(), "stamp", "python3.12", "app.handler", software.amazon.awssdk.core.SdkBytes.fromByteArray(Examples.zip(Map.of("app.py",
          "import time\ndef handler(event, context):\n    return {\"started\": time.time() * 1000}\n"))));
      node.lambda().putFunctionEventInvokeConfig(b -> b.functionName("stamp").destinationConfig(
          DestinationConfig.builder().onSuccess(OnSuccess.builder()
              .destination("arn:aws:sqs:us-east-1:000000000000:records").build()).build()));
      // Warm up: sandboxes, the queue partitions, the JIT.
      send(http, endpoint, 500, clients, 0);
      drain(http, endpoint, 500);

      List<Double> dryRun = sequential(http, endpoint, "DryRun", 1000);
      List<Double> accept = sequential(http, endpoint, "Event", 1000);
      drain(http, endpoint, 1000);
      List<Double> commit = h2Commits(dir.resolve("floor"), 1000);

      long t = System.nanoTime();
      int accepted = send(http, endpoint, burst, clients, 0);
      double seconds = (System.nanoTime() - t) / 1e9;
      List<Double> burstDelays = drain(http, endpoint, accepted);

      // Accepting alone: a function with reserved concurrency 0 never runs; its events are
      // dropped right after acceptance (no destination), so nothing but the queue uses the CPU.
      Functions.create(node.lambda(), "sink", "python3.12", "app.handler", software.amazon.awssdk.core.SdkBytes
          .fromByteArray(Examples.zip(Map.of("app.py", "def handler(event, context):\n    return 1\n"))));
      node.lambda().putFunctionConcurrency(b -> b.functionName("sink").reservedConcurrentExecutions(0));
      send(http, endpoint, "sink", 1000, clients, 0);
      long s = System.nanoTime();
      int sunk = send(http, endpoint, "sink", burst, clients, 0);
      double sinkSeconds = (System.nanoTime() - s) / 1e9;

      int fixed = rate * 10;
      int acceptedFixed = send(http, endpoint, fixed, 8, rate);
      List<Double> fixedDelays = drain(http, endpoint, acceptedFixed);

      System.out.println("| measure | value |");
      System.out.println("|---|---|");
      System.out.printf("| floor: H2 insert + commit of one row, WRITE_DELAY=0, p50 / p99 (ms) | %.2f / %.2f |%n",
          pct(commit, 50), pct(commit, 99));
      System.out.printf("| floor: DryRun through the HTTP API, one client, p50 / p99 (ms) | %.2f / %.2f |%n",
          pct(dryRun, 50), pct(dryRun, 99));
      System.out.printf("| Event accepted (202, in the journal), one client, p50 / p99 (ms) | %.2f / %.2f |%n",
          pct(accept, 50), pct(accept, 99));
      System.out.printf("| accepted Event invocations/s, accepting only (%d clients, burst of %d, the function "
          + "never runs) | %.0f |%n", clients, burst, sunk / sinkSeconds);
      System.out.printf("| accepted Event invocations/s while running them (%d clients, burst of %d; each runs a "
          + "python no-op and sends its record to a queue) | %.0f |%n", clients, burst, accepted / seconds);
      System.out.printf("| burst: send → function start p50 / p99 / max (ms) | %.1f / %.1f / %.1f |%n",
          pct(burstDelays, 50), pct(burstDelays, 99), pct(burstDelays, 100));
      System.out.printf("| at %d events/s: send → function start p50 / p99 / max (ms) | %.1f / %.1f / %.1f |%n",
          rate, pct(fixedDelays, 50), pct(fixedDelays, 99), pct(fixedDelays, 100));
    }
    System.exit(0);  // the HTTP client's threads would keep the JVM alive
  }

  /** {@code n} invocations of the given type, one after the other: each one's latency in ms. */
  private static List<Double> sequential(HttpClient http, String endpoint, String type, int n) throws Exception {
    List<Double> latencies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long t = System.nanoTime();
      HttpResponse<Void> r = http.send(SignedHttp.request("POST", endpoint + "/2015-03-31/functions/stamp/invocations",
          Map.of("X-Amz-Invocation-Type", type), "{\"sent\":" + System.currentTimeMillis() + "}"),
          HttpResponse.BodyHandlers.discarding());
      latencies.add((System.nanoTime() - t) / 1e6);
      if (r.statusCode() != (type.equals("Event") ? 202 : 204)) {
        throw new IllegalStateException(type + " answered " + r.statusCode());
      }
    }
    return latencies;
  }

  /** The durable write's floor: one-row inserts, each committed, into a fresh H2 file as the journal's. */
  private static List<Double> h2Commits(Path dir, int n) throws Exception {
    List<Double> latencies = new ArrayList<>();
    Files.createDirectories(dir);
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(
        "jdbc:h2:file:" + dir.resolve("floor") + ";WRITE_DELAY=0", "sa", "")) {
      c.createStatement().execute("create table t(id bigint auto_increment primary key, payload varbinary(1024))");
      java.sql.PreparedStatement insert = c.prepareStatement("insert into t(payload) values (?)");
      byte[] payload = new byte[200];
      for (int i = 0; i < n + 200; i++) {
        long t = System.nanoTime();
        insert.setBytes(1, payload);
        insert.executeUpdate();
        if (i >= 200) {
          latencies.add((System.nanoTime() - t) / 1e6);
        }
      }
    }
    return latencies;
  }

  /** Sends {@code n} events from {@code clients} threads ({@code rate} > 0: paced); returns the 202s. */
  private static int send(HttpClient http, String endpoint, int n, int clients, int rate) throws Exception {
    return send(http, endpoint, "stamp", n, clients, rate);
  }

  private static int send(HttpClient http, String endpoint, String function, int n, int clients, int rate)
      throws Exception {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger ok = new AtomicInteger();
    long start = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<?>> all = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      all.add(pool.submit(() -> {
        int i;
        while ((i = next.getAndIncrement()) < n) {
          if (rate > 0) {
            long due = start + (long) (i * 1e9 / rate);
            long wait = due - System.nanoTime();
            if (wait > 0) {
              TimeUnit.NANOSECONDS.sleep(wait);
            }
          }
          HttpResponse<Void> r = http.send(SignedHttp.request("POST", endpoint + "/2015-03-31/functions/" + function
                  + "/invocations", Map.of("X-Amz-Invocation-Type", "Event"),
                  "{\"sent\":" + System.currentTimeMillis() + "}"),
              HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() == 202) {
            ok.incrementAndGet();
          }
        }
        return null;
      }));
    }
    for (Future<?> f : all) {
      f.get(10, TimeUnit.MINUTES);
    }
    pool.shutdown();
    return ok.get();
  }

  /** Reads {@code n} on-success records (bounded: 10 minutes); the send → start delays in ms. */
  private static List<Double> drain(HttpClient http, String endpoint, int n) throws Exception {
    List<Double> delays = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (delays.size() < n && System.nanoTime() < deadline) {
      JsonNode r = sqs(http, endpoint, "ReceiveMessage", "{\"QueueUrl\":\"" + endpoint
          + "/000000000000/records\",\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":5}");
      for (JsonNode m : r.path("Messages")) {
        JsonNode record = JSON.readTree(m.path("Body").asText());
        delays.add(record.path("responsePayload").path("started").asDouble()
            - record.path("requestPayload").path("sent").asDouble());
        sqs(http, endpoint, "DeleteMessage", "{\"QueueUrl\":\"" + endpoint + "/000000000000/records\","
            + "\"ReceiptHandle\":\"" + m.path("ReceiptHandle").asText() + "\"}");
      }
    }
    return delays;
  }

  private static JsonNode sqs(HttpClient http, String endpoint, String op, String body) throws Exception {
    HttpResponse<String> r = http.send(SignedHttp.sqs(endpoint, op, body), HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(r.body());
  }

  private static double pct(List<Double> values, double p) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100 * sorted.size()) - 1 < 0 ? 0
        : (int) Math.ceil(p / 100 * sorted.size()) - 1));
  }
}
