package dev.lamina.node.async;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.ExecutionCollector;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.NodeProcess;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.TestNode;
import java.io.IOException;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * Accepted asynchronous work survives a crash of the node: a node in its own JVM is killed with
 * SIGKILL while events (or queue messages feeding an event source mapping) are queued and
 * running, started again on the same data directory, and every request the client saw accepted
 * runs at least once. Duplicates are allowed only across the crash; they are counted and reported
 * on stdout (a line starting {@code DURABILITY}).
 *
 * <p>Functions report each id they run to an {@link ExecutionCollector} in this JVM. Only ids
 * whose acceptance the client received (202, or a successful SendMessageBatch entry) count as
 * accepted; requests cut off by the kill are counted apart (some of them may still run).
 */
class DurabilityTest {

  private static final int EVENTS = Integer.getInteger("lamina.durability.events", 2100);
  private static final int MESSAGES = Integer.getInteger("lamina.durability.messages", 2200);
  /** The node is killed once this share of the work has run. */
  private static final double KILL_AT = 0.4;
  private static final Duration KILL_WAIT = Duration.ofMinutes(3);
  private static final Duration DRAIN_LIMIT = Duration.ofMinutes(3);
  private static final int SENDERS = 8;
  /**
   * Senders keep at most this many accepted units waiting to run: the queue holds a backlog when
   * the node is killed, and acceptances are still arriving then (the last ones before a crash are
   * the ones a lax journal loses).
   */
  private static final int BACKLOG = Integer.getInteger("lamina.durability.backlog", 300);

  /**
   * Reports its request id, or each record's body (an SQS batch), to the collector at $COLLECTOR,
   * holding its sandbox for $HOLD_SECONDS around the report, so that work piles up in the queue and a
   * kill finds invocations before and after their report.
   */
  private static final String REPORTER = ""
      + "import os\n"
      + "import time\n"
      + "import urllib.request\n"
      + "OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
      + "\n"
      + "def handler(event, context):\n"
      + "    records = event.get('Records') if isinstance(event, dict) else None\n"
      + "    ids = [r['body'] for r in records] if records else [context.aws_request_id]\n"
      + "    hold = float(os.environ.get('HOLD_SECONDS', '0')) / 2\n"
      + "    time.sleep(hold)\n"
      + "    body = '\\n'.join(ids).encode()\n"
      + "    with OPENER.open(urllib.request.Request(os.environ['COLLECTOR'], data=body, method='POST'),\n"
      + "                     timeout=10) as response:\n"
      + "        response.read()\n"
      + "    time.sleep(hold)\n"
      + "    return {'reported': len(ids)}\n";

  private Path temp;
  private Path dataDir;
  private Path config;
  private int port;
  private ExecutionCollector collector;
  private NodeProcess node;
  private final List<NodeProcess> started = new ArrayList<>();
  private ExecutorService senders;
  /** Set by a test that passed: a failed run keeps its data directory and node logs to look at. */
  private boolean passed;

  @BeforeEach
  void startNode() throws Exception {
    temp = Files.createTempDirectory("lamina-durability-");
    dataDir = temp.resolve("data");
    config = temp.resolve("node.conf");
    // Retries come soon. Two attempts at once per partition (4): 8 running events of 0.3 s run
    // slower than the node accepts, so that a backlog builds up before the kill.
    collector = ExecutionCollector.start(temp.resolve("executed.txt"));
    Files.writeString(config, ""
        + "lamina.events { retry-delays = [1 s, 2 s], backoff-min = 200 ms, backoff-max = 2 s,\n"
        + "  partition-concurrency = 2 }\n" + collector.nodeConfig());
    port = NodeProcess.freePort();
    node = startLife(1);
    senders = Executors.newFixedThreadPool(SENDERS);
  }

  @AfterEach
  void stopEverything() throws Exception {
    if (senders != null) {
      senders.shutdownNow();
      senders.awaitTermination(30, TimeUnit.SECONDS);
    }
    started.forEach(NodeProcess::close);
    String sandboxMark = collector.url();
    collector.close();
    boolean clean = awaitTrue(() -> Processes.runningUnder(dataDir) == 0
        && Processes.withEnvironment(sandboxMark) == 0, Duration.ofSeconds(30));
    if (passed) {
      TestNode.deleteTree(temp);
    } else {
      System.out.println("DURABILITY kept for inspection: " + temp);
    }
    assertTrue(clean, "processes of the node or its sandboxes outlived the test");
  }

  @Test
  void everyAcceptedEventRunsAtLeastOnceAcrossASigkill() throws Exception {
    try (LambdaClient lambda = lambda()) {
      eventsAcrossASigkill(lambda);
    }
    passed = true;
  }

  private void eventsAcrossASigkill(LambdaClient lambda) throws Exception {
    Functions.create(lambda, "durable-events", "python3.12", "app.handler",
        SdkBytes.fromByteArray(Examples.zip(Map.of("app.py", REPORTER))), 5,
        Map.of("COLLECTOR", collector.url(), "HOLD_SECONDS", "0.3"));
    warmUp(lambda, "durable-events");

    Crash crash = new Crash("events", EVENTS);
    crash.send(i -> {
      InvokeResponse response = lambda.invoke(b -> b.functionName("durable-events")
          .invocationType(InvocationType.EVENT).payload(SdkBytes.fromUtf8String("{\"seq\":" + i + "}")));
      if (response.statusCode() != 202) {
        throw new IllegalStateException("Event invoke answered " + response.statusCode());
      }
      return List.of(response.responseMetadata().requestId());
    }, EVENTS);
    crash.killWhenRun(KILL_AT);
    crash.awaitDrained(() -> seriesSum("lamina_events_queued", "durable-events") == 0);
    crash.report(metric("lamina_events_discarded_total", "durable-events")
        + metric("lamina_events_failed_total", "durable-events"));
  }

  @Test
  void everyAcceptedQueueMessageRunsAtLeastOnceThroughAMappingAcrossASigkill() throws Exception {
    try (LambdaClient lambda = lambda(); SqsClient sqs = sqs()) {
      queueAcrossASigkill(lambda, sqs);
    }
    passed = true;
  }

  private void queueAcrossASigkill(LambdaClient lambda, SqsClient sqs) throws Exception {
    // Lambda's rule: the queue's visibility timeout is at least the function's timeout. Messages the
    // killed node had received come back after it: short, so that the test does not wait long.
    String queueUrl = sqs.createQueue(b -> b.queueName("durable-queue")
        .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "5"))).queueUrl();
    Functions.create(lambda, "durable-consumer", "python3.12", "app.handler",
        SdkBytes.fromByteArray(Examples.zip(Map.of("app.py", REPORTER))), 5,
        Map.of("COLLECTOR", collector.url(), "HOLD_SECONDS", "0.3"));
    warmUp(lambda, "durable-consumer");
    lambda.createEventSourceMapping(b -> b.eventSourceArn("arn:aws:sqs:us-east-1:000000000000:durable-queue")
        .functionName("durable-consumer").batchSize(10));

    Crash crash = new Crash("queue+mapping", MESSAGES);
    crash.send(batch -> {
      List<SendMessageBatchRequestEntry> entries = IntStream.range(0, 10)
          .mapToObj(k -> SendMessageBatchRequestEntry.builder().id("e" + k).messageBody("m-" + (batch * 10 + k))
              .build())
          .toList();
      SendMessageBatchResponse response = sqs.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(entries));
      if (!response.failed().isEmpty()) {
        throw new IllegalStateException("SendMessageBatch refused entries: " + response.failed());
      }
      Map<String, String> bodies = entries.stream().collect(Collectors.toMap(SendMessageBatchRequestEntry::id,
          SendMessageBatchRequestEntry::messageBody));
      return response.successful().stream().map(s -> bodies.get(s.id())).toList();
    }, MESSAGES / 10);
    crash.killWhenRun(KILL_AT);
    crash.awaitDrained(() -> {
      Map<String, String> a = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNamesWithStrings(
          "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")).attributesAsStrings();
      return "0".equals(a.get("ApproximateNumberOfMessages"))
          && "0".equals(a.get("ApproximateNumberOfMessagesNotVisible"));
    });
    crash.report("");
  }

  /**
   * One run: senders hand work to the node, the node is killed part way and started again, and
   * the senders go on against the new node (what they had in flight at the kill fails).
   */
  private final class Crash {
    private final String name;
    private final int units;
    private final Set<String> accepted = ConcurrentHashMap.newKeySet();
    /** When each id's acceptance reached the client (System.nanoTime). */
    private final Map<String, Long> acceptedAt = new ConcurrentHashMap<>();
    private final AtomicInteger cutByKill = new AtomicInteger();
    private final AtomicInteger failedWhileUp = new AtomicInteger();
    private final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    private final int baseline = collector.distinct();
    private volatile CountDownLatch up = new CountDownLatch(0);
    private volatile boolean down;
    private CountDownLatch sent;
    private long killedAt;
    private long sendStart;
    private volatile long sendEnd;
    private long acceptedAtKill;
    private long runAtKill;
    private long downMillis;
    private long restartedAt;
    private long allRunAt;

    Crash(String name, int units) {
      this.name = name;
      this.units = units;
    }

    /** Starts the senders: request {@code i} of {@code requests} returns the ids it got accepted. */
    void send(Request request, int requests) {
      AtomicInteger next = new AtomicInteger();
      sent = new CountDownLatch(SENDERS);
      sendStart = System.nanoTime();
      for (int s = 0; s < SENDERS; s++) {
        senders.execute(() -> {
          try {
            for (int i; (i = next.getAndIncrement()) < requests; ) {
              while (accepted.size() - (collector.distinct() - baseline) > BACKLOG) {
                Thread.sleep(5);
              }
              if (!up.await(DRAIN_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                return;
              }
              try {
                List<String> ids = request.send(i);
                long now = System.nanoTime();
                ids.forEach(id -> acceptedAt.put(id, now));
                accepted.addAll(ids);
              } catch (RuntimeException e) {  // SdkException: refused, or cut off by the kill
                if (down) {
                  cutByKill.incrementAndGet();
                } else {
                  failedWhileUp.incrementAndGet();
                  failures.add(String.valueOf(e));
                }
              }
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            sendEnd = System.nanoTime();
            sent.countDown();
          }
        });
      }
    }

    /** Kills the node once {@code share} of the work has run, checks nothing of it survives, restarts it. */
    void killWhenRun(double share) throws Exception {
      boolean reached = awaitTrue(() -> collector.distinct() - baseline >= share * units, KILL_WAIT);
      assertTrue(reached, name + ": only " + (collector.distinct() - baseline) + " of " + units + " ran within "
          + KILL_WAIT + "\n" + node.tail(40));
      down = true;
      up = new CountDownLatch(1);
      List<String> acceptedNow = List.copyOf(accepted);
      boolean sending = sent.getCount() > 0;
      acceptedAtKill = acceptedNow.size();
      runAtKill = collector.executedAmong(acceptedNow);
      killedAt = System.nanoTime();
      node.kill();
      boolean gone = awaitTrue(() -> Processes.runningUnder(dataDir) == 0
          && Processes.withEnvironment(collector.url()) == 0, Duration.ofSeconds(10));
      collector.nextLife();
      assertTrue(gone, name + ": processes of the killed node (sandboxes) are still running 10 s after SIGKILL: "
          + Processes.runningUnder(dataDir) + " under the data directory, "
          + Processes.withEnvironment(collector.url()) + " sandboxes");
      assertTrue(acceptedAtKill - runAtKill > 0 && sending, name + ": the kill found nothing queued ("
          + acceptedAtKill + " accepted, " + runAtKill + " run) or the senders done (" + !sending + ")");
      node = startLife(2);
      restartedAt = System.nanoTime();
      downMillis = TimeUnit.NANOSECONDS.toMillis(restartedAt - killedAt);
      down = false;
      up.countDown();
    }

    /** Waits (bounded) for the senders and until every accepted id ran, then until the node is idle. */
    void awaitDrained(BooleanSupplier idle) throws Exception {
      assertTrue(sent.await(DRAIN_LIMIT.toMillis(), TimeUnit.MILLISECONDS), name + ": senders did not finish");
      boolean allRun = awaitTrue(() -> missing().isEmpty(), DRAIN_LIMIT);
      allRunAt = System.nanoTime();
      if (allRun) {
        // Work the killed node ran but had not marked done runs again: wait for it, to count it.
        awaitTrue(() -> {
          try {
            return idle.getAsBoolean();
          } catch (RuntimeException e) {
            return false;
          }
        }, Duration.ofSeconds(60));
      }
    }

    List<String> missing() {
      return accepted.stream().filter(id -> collector.executions(id) == 0).sorted().toList();
    }

    void report(String nodeCounters) {
      List<String> missing = missing();
      long duplicates = accepted.stream().filter(id -> collector.executions(id) > 1).count();
      long extraRuns = accepted.stream().mapToLong(id -> Math.max(0, collector.executions(id) - 1)).sum();
      List<String> withinALife = accepted.stream().filter(collector::duplicatedWithinALife).sorted().toList();
      long unacknowledgedRan = collector.distinct() - baseline - collector.executedAmong(accepted);
      System.out.printf("DURABILITY %s: units=%d accepted=%d cut-by-kill=%d failed-while-up=%d | sending took %.1f s"
              + " | at kill (%.1f s after the first send): accepted=%d run=%d queued=%d | executed=%d missing=%d"
              + " duplicates=%d (extra runs %d, within one life %d) ran-without-ack=%d"
              + " | node down %.1f s, drain after restart %.1f s%n",
          name, units, accepted.size(), cutByKill.get(), failedWhileUp.get(), (sendEnd - sendStart) / 1e9,
          (killedAt - sendStart) / 1e9, acceptedAtKill, runAtKill,
          acceptedAtKill - runAtKill, collector.executedAmong(accepted), missing.size(), duplicates, extraRuns,
          withinALife.size(), unacknowledgedRan, downMillis / 1000.0,
          TimeUnit.NANOSECONDS.toMillis(allRunAt - restartedAt) / 1000.0);
      String context = nodeCounters + "\n" + node.tail(60);
      assertTrue(missing.isEmpty(), name + ": " + missing.size() + " accepted ids never ran, e.g. (id: ms its"
          + " acceptance reached the client before the kill) " + missing.stream().limit(20)
              .map(id -> id + ": " + TimeUnit.NANOSECONDS.toMillis(killedAt - acceptedAt.get(id))).toList()
          + context);
      assertEquals(0, failedWhileUp.get(), name + ": requests failed while the node was up: "
          + failures.subList(0, Math.min(5, failures.size())) + context);
      assertTrue(withinALife.isEmpty(), name + ": ids ran twice within one node life (not explained by the crash): "
          + withinALife.subList(0, Math.min(20, withinALife.size())) + context);
      assertTrue(accepted.size() >= Math.min(2000, units), name + ": only " + accepted.size() + " of "
          + units + " accepted (at least 2,000 must be, to make the point)" + context);
    }
  }

  @FunctionalInterface
  private interface Request {
    List<String> send(int i);
  }

  private NodeProcess startLife(int life) throws IOException, InterruptedException {
    NodeProcess n = NodeProcess.start(dataDir, port, config, temp.resolve("logs"), "node-" + life);
    started.add(n);
    return n;
  }

  /** A synchronous invoke that must reach the collector: the function and its way out work. */
  private void warmUp(LambdaClient lambda, String function) {
    InvokeResponse response = Functions.invoke(lambda, function, "{}");
    Functions.json(response);
    String id = response.responseMetadata().requestId();
    assertEquals(1, collector.executions(id), "the warm-up invoke did not reach the collector\n"
        + Functions.log(response));
  }

  private LambdaClient lambda() {
    return TestNode.client(node.endpoint());
  }

  private SqsClient sqs() {
    return TestNode.sqsClient(node.endpoint());
  }

  /** The sum of a Prometheus series of {@code function} on the running node. */
  private double seriesSum(String series, String function) {
    return metric(series, function).lines().filter(l -> !l.isBlank())
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** The lines of a Prometheus series of {@code function}, as the node's /metrics shows them. */
  private String metric(String series, String function) {
    try {
      String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(node.endpoint() + "/metrics"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
      return text.lines().filter(l -> l.startsWith(series + "{") && l.contains("function=\"" + function + "\""))
          .collect(Collectors.joining("\n", "", "\n"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean awaitTrue(BooleanSupplier condition, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }
}
