package dev.lamina.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.ExecutionCollector;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * The account's concurrency limit is one limit for the whole cluster (issue 6, "Failover
 * tests"): three nodes whose account may run 10 invocations at once. The function reports when
 * its handler started and ended (epoch ms; every process runs on this one machine, so on one
 * clock) to an {@link ExecutionCollector}; the test computes from those how many ran at once.
 */
class ClusterConcurrencyTest {

  private static final int LIMIT = 10;
  /** min-unreserved may be 0..account-limit (ConcurrencySettings); 0 leaves all 10 to share. */
  private static final String CONFIG = "lamina.concurrency { account-limit = " + LIMIT + ", min-unreserved = 0 }\n";
  private static final double HOLD_SECONDS = 4;

  /** Holds its sandbox for $HOLD_SECONDS and reports {@code <request id>:<start ms>:<end ms>}. */
  private static final String SLOW = ""
      + "import os\n"
      + "import time\n"
      + "import urllib.request\n"
      + "OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
      + "\n"
      + "def handler(event, context):\n"
      + "    start = int(time.time() * 1000)\n"
      + "    time.sleep(float(os.environ['HOLD_SECONDS']))\n"
      + "    end = int(time.time() * 1000)\n"
      + "    line = '%s:%s:%d:%d' % (event['round'], context.aws_request_id, start, end)\n"
      + "    request = urllib.request.Request(os.environ['COLLECTOR'], data=line.encode(), method='POST')\n"
      + "    with OPENER.open(request, timeout=10) as response:\n"
      + "        response.read()\n"
      + "    return {'start': start, 'end': end}\n";

  private static ClusterFixture cluster;
  private static ExecutionCollector collector;
  private static Path temp;

  @RegisterExtension
  static final TestWatcher KEEP_LOGS_ON_FAILURE = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      if (cluster != null) {
        cluster.keepForInspection();
      }
    }
  };

  @BeforeAll
  static void startCluster() throws Exception {
    temp = Files.createTempDirectory("lamina-cluster-concurrency-");
    collector = ExecutionCollector.start(temp.resolve("executed.txt"));
    long started = System.nanoTime();
    cluster = ClusterFixture.start(ClusterConcurrencyTest.class, 3, CONFIG + collector.nodeConfig());
    System.out.printf("CONCURRENCY cluster-of-3-ready-ms=%d%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
  }

  @AfterAll
  static void stopCluster() throws Exception {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      if (collector != null) {
        collector.close();
      }
      TestNode.deleteTree(temp);
    }
  }

  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void thirtySimultaneousSlowInvocationsOverThreeNodesNeverRunMoreThanTheAccountLimitAtOnce() throws Exception {
    Functions.create(cluster.lambda(1), "slow", "python3.12", "app.handler",
        SdkBytes.fromByteArray(Examples.zip(Map.of("app.py", SLOW))), 30,
        Map.of("COLLECTOR", collector.url(), "HOLD_SECONDS", Double.toString(HOLD_SECONDS)));
    // Given LIMIT sandboxes already started (a round that fits the limit), so that the admitted
    // invocations of the next round start together rather than spread over cold starts.
    Outcomes warm = invokeAtOnce("warm", LIMIT);
    assertEquals(LIMIT, warm.succeeded, "the warm-up round within the limit: " + warm);

    // When 30 invocations arrive at once, 10 through each node, with no SDK retries.
    Outcomes outcomes = invokeAtOnce("burst", 30);

    // Then at most LIMIT ran at any moment, LIMIT did at some moment, and the rest were throttled.
    List<long[]> runs = collector.ids().stream().filter(id -> id.startsWith("burst:"))
        .map(id -> id.split(":")).map(p -> new long[] {Long.parseLong(p[2]), Long.parseLong(p[3])}).toList();
    int maxAtOnce = maxOverlap(runs);
    double throttlesCounted = 0;
    for (int node = 1; node <= 3; node++) {
      throttlesCounted += cluster.metric(node, "lamina_throttles_total", "function=\"slow\"");
    }
    System.out.printf("CONCURRENCY account-limit=%d invocations=30 (10 per node) succeeded=%d throttled-429=%d"
            + " other=%d max-running-at-once=%d (from the function's own start/end) node-throttle-counters=%.0f%n",
        LIMIT, outcomes.succeeded, outcomes.throttled, outcomes.other.size(), maxAtOnce, throttlesCounted);
    assertEquals(List.of(), outcomes.other, "outcomes other than success or a 429 TooManyRequestsException");
    assertEquals(outcomes.succeeded, runs.size(), "successful invocations that reported their run");
    assertTrue(maxAtOnce <= LIMIT, maxAtOnce + " invocations ran at once, over the account limit of " + LIMIT);
    assertTrue(maxAtOnce >= LIMIT, "only " + maxAtOnce + " ran at once: the test did not reach the limit");
    assertEquals(30, outcomes.succeeded + outcomes.throttled);
  }

  /** What {@code count} simultaneous invocations got: successes, 429s, anything else. */
  private record Outcomes(int succeeded, int throttled, List<String> other) {}

  /** {@code count} invocations released at once by a latch, round robin over the three nodes. */
  private static Outcomes invokeAtOnce(String round, int count) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(count);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<String>> calls = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        int node = 1 + i % 3;
        calls.add(pool.submit(() -> {
          go.await();
          try {
            InvokeResponse r = Functions.invoke(cluster.lambdaWithoutRetries(node), "slow",
                "{\"round\":\"" + round + "\"}");
            return r.functionError() == null ? "ok" : "function error through node " + node + ": "
                + Functions.body(r);
          } catch (TooManyRequestsException e) {
            return "429";
          } catch (RuntimeException e) {
            return "through node " + node + ": " + e;
          }
        }));
      }
      go.countDown();
      int ok = 0;
      int throttled = 0;
      List<String> other = new ArrayList<>();
      for (Future<String> call : calls) {
        String outcome = call.get(2, TimeUnit.MINUTES);
        switch (outcome) {
          case "ok" -> ok++;
          case "429" -> throttled++;
          default -> other.add(outcome);
        }
      }
      return new Outcomes(ok, throttled, other);
    } finally {
      pool.shutdownNow();
    }
  }

  /** The most intervals {@code [start, end)} (ms) that overlap at one instant. */
  private static int maxOverlap(List<long[]> runs) {
    List<long[]> edges = new ArrayList<>();
    runs.forEach(r -> {
      edges.add(new long[] {r[0], +1});
      edges.add(new long[] {r[1], -1});
    });
    // At the same ms an end comes before a start: a sandbox freed and reused is not two at once.
    edges.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
    int now = 0;
    int max = 0;
    for (long[] e : edges) {
      now += (int) e[1];
      max = Math.max(max, now);
    }
    return max;
  }
}
