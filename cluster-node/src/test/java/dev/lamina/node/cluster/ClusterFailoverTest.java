package dev.lamina.node.cluster;

import static dev.lamina.node.cluster.ClusterFixture.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.ExecutionCollector;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.AliasConfiguration;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * What a user of a three-node cluster sees when nodes fail (issue 6, "Failover tests"): any node
 * serves what another created, a SIGKILLed node costs only the invocations it ran and rejoins,
 * accepted events survive a node's crash, and a full restart loses nothing.
 *
 * <p>One cluster for the class; the tests run in order and each leaves three ready nodes (a test
 * that finds fewer starts them first). Measured figures go to stdout in lines starting with
 * {@code FAILOVER} (surefire keeps them in {@code target/surefire-reports/*-output.txt}).
 * Functions report what they ran to an {@link ExecutionCollector} in this JVM, which no crash of
 * a node can lose.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFailoverTest {

  private static final int A = 1;
  private static final int B = 2;
  private static final int C = 3;
  private static final List<Integer> NODES = List.of(A, B, C);

  /**
   * Event retries come soon, so that work a lost node held runs again within seconds; two attempts
   * at once per queue partition (16 per function) keep sandboxes few on two cores.
   */
  private static final String CONFIG = ""
      + "lamina.events { retry-delays = [1 s, 2 s], backoff-min = 200 ms, backoff-max = 2 s,\n"
      + "  partition-concurrency = 2 }\n";

  /** Reports {@code event['seq']} to $COLLECTOR after holding its sandbox for $HOLD_SECONDS. */
  private static final String REPORTER = ""
      + "import os\n"
      + "import time\n"
      + "import urllib.request\n"
      + "OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
      + "\n"
      + "def handler(event, context):\n"
      + "    time.sleep(float(os.environ.get('HOLD_SECONDS', '0')))\n"
      + "    request = urllib.request.Request(os.environ['COLLECTOR'], data=str(event['seq']).encode(), method='POST')\n"
      + "    with OPENER.open(request, timeout=10) as response:\n"
      + "        response.read()\n"
      + "    return {'seq': event['seq']}\n";

  /** Like {@link #REPORTER}, but first waits until the collector's gate is open. */
  private static final String GATED_REPORTER = ""
      + "import os\n"
      + "import time\n"
      + "import urllib.request\n"
      + "OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
      + "\n"
      + "def handler(event, context):\n"
      + "    while True:\n"
      + "        with OPENER.open(os.environ['GATE'], timeout=10) as response:\n"
      + "            if response.read() == b'open':\n"
      + "                break\n"
      + "        time.sleep(0.2)\n"
      + "    request = urllib.request.Request(os.environ['COLLECTOR'], data=str(event['seq']).encode(), method='POST')\n"
      + "    with OPENER.open(request, timeout=10) as response:\n"
      + "        response.read()\n"
      + "    return {'seq': event['seq']}\n";

  /**
   * The load functions' timeout (s). A synchronous invoke whose request was lost with the killed
   * node is answered only when the front end's ask times out: this timeout + init timeout + 30 s.
   */
  private static final int LOAD_TIMEOUT_SECONDS = Integer.getInteger("lamina.failover.load-timeout", 3);

  /** Answers after 50 ms: an invocation is in flight for a while, so that a kill finds some running. */
  private static final String QUICK = ""
      + "import time\n"
      + "def handler(event, context):\n"
      + "    time.sleep(0.05)\n"
      + "    return {'n': event.get('n')}\n";

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
    temp = Files.createTempDirectory("lamina-failover-");
    collector = ExecutionCollector.start(temp.resolve("executed.txt"));
    long started = System.nanoTime();
    cluster = ClusterFixture.start(ClusterFailoverTest.class, 3, CONFIG + collector.nodeConfig());
    System.out.printf("FAILOVER cluster-of-3-ready-ms=%d%n", millisSince(started));
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

  /** A test after one that failed half way still finds three ready nodes. */
  @BeforeEach
  void threeReadyNodes() throws Exception {
    cluster.startAll();
  }

  @Test
  @Order(1)
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void aFunctionCreatedThroughOneNodeIsInvocableThroughTheOthersAtOnceAndRunsWhereItWasInvoked() {
    // Given node C looked the function up before it existed (a deploy script checking first).
    assertThrows(ResourceNotFoundException.class,
        () -> cluster.lambdaWithoutRetries(C).getFunction(b -> b.functionName("placed")));
    assertThrows(ResourceNotFoundException.class,
        () -> Functions.invoke(cluster.lambdaWithoutRetries(C), "placed", "{}"));

    // When node A creates it, and C and B invoke it at once (no retries: the first try must work).
    Functions.create(cluster.lambda(A), "placed", "python3.12", "app.handler", Examples.marked("placed-v1"));
    InvokeResponse viaC = Functions.invoke(cluster.lambdaWithoutRetries(C), "placed", "{}");
    InvokeResponse viaB = Functions.invoke(cluster.lambdaWithoutRetries(B), "placed", "{}");

    // Then both ran the code uploaded to A, and the first ran in a sandbox on C, the node it came through.
    assertEquals("placed-v1", Functions.json(viaC).path("code").asText(), Functions.body(viaC));
    assertEquals("placed-v1", Functions.json(viaB).path("code").asText(), Functions.body(viaB));
    String function = "function=\"placed\"";
    double coldStartsOnC = cluster.metric(C, "lamina_cold_starts_total", function);
    double coldStartsOnA = cluster.metric(A, "lamina_cold_starts_total", function);
    double memoryOnC = cluster.metric(C, "lamina_worker_memory_used_megabytes", "");
    double memoryOnA = cluster.metric(A, "lamina_worker_memory_used_megabytes", "");
    System.out.printf("FAILOVER placement: cold-starts A=%.0f B=%.0f C=%.0f, sandbox-memory-mb A=%.0f B=%.0f C=%.0f%n",
        coldStartsOnA, cluster.metric(B, "lamina_cold_starts_total", function), coldStartsOnC, memoryOnA,
        cluster.metric(B, "lamina_worker_memory_used_megabytes", ""), memoryOnC);
    assertEquals(1.0, coldStartsOnC, "cold starts of the function on C, the node the first invocation came through");
    assertEquals(0.0, coldStartsOnA, "cold starts of the function on A, where it was created but never invoked");
    assertTrue(memoryOnC >= 128, "sandbox memory held on C: " + memoryOnC + " MB");
    assertEquals(0.0, memoryOnA, "sandbox memory held on A");
  }

  @Test
  @Order(2)
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void underSynchronousLoadASigkilledNodeCostsOnlyWhatRanOnItAndRejoins() throws Exception {
    List<String> functions = IntStream.range(0, 6).mapToObj(k -> "load-" + k).toList();
    for (String f : functions) {
      Functions.create(cluster.lambda(A), f, "python3.12", "app.handler",
          SdkBytes.fromByteArray(Examples.zip(Map.of("app.py", QUICK))), LOAD_TIMEOUT_SECONDS, Map.of());
    }
    try (Load load = new Load(functions, 6)) {
      // Given a steady load through all three nodes (past its cold starts), without a single failure.
      assertTrue(load.awaitSteady(20, Duration.ofMinutes(2)), "the load did not become steady within 2 minutes: "
          + load.calls().size() + " calls\n" + cluster.tails(20));
      load.runFor(Duration.ofSeconds(3));
      assertEquals(List.of(), load.failures(0, Long.MAX_VALUE), "failures before the kill");

      // When B is killed (and the "load balancer" stops sending there).
      long killedAt = System.nanoTime();
      cluster.kill(B);
      load.rotation(List.of(A, C));
      CompletableFuture<Long> downed = CompletableFuture.supplyAsync(() -> {
        try {
          cluster.awaitMembers(2);
          return millisSince(killedAt);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return -1L;
        }
      });
      assertTrue(awaitTrue(() -> Processes.runningUnder(cluster.dataDir(B)) == 0, Duration.ofSeconds(10)),
          "processes of the killed node (its sandboxes) still run 10 s after SIGKILL");

      // Then invocations through A and C succeed again within a bound, and none of them failed.
      Load.Recovery recovery = load.awaitRecovery(killedAt, Duration.ofSeconds(5),
          Duration.ofSeconds(90 + LOAD_TIMEOUT_SECONDS));
      assertTrue(recovery.recovered(), "invocations through A and C did not settle within 90 s of the kill: "
          + recovery.disturbed() + "\n" + cluster.tails(40));
      long downedAfter = downed.get(2, TimeUnit.MINUTES);
      List<Load.Call> endedAfterKill = load.calls().stream().filter(c -> c.end() >= killedAt).toList();
      List<Load.Call> failedThroughB = endedAfterKill.stream().filter(c -> c.node() == B && !c.ok()).toList();
      List<Load.Call> failedThroughAC = endedAfterKill.stream().filter(c -> c.node() != B && !c.ok()).toList();

      // And B restarts on its data directory, rejoins, and serves invocations again.
      long restartAt = System.nanoTime();
      cluster.restart(B);
      cluster.awaitMembers(3);
      long rejoinedMs = millisSince(restartAt);
      long backAt = System.nanoTime();
      load.rotation(NODES);
      load.runFor(Duration.ofSeconds(3));
      load.stop();
      List<Load.Call> afterRejoin = load.callsStartedAfter(backAt);

      System.out.printf("FAILOVER sync-load: threads=6 functions=6 calls-before-kill=%d"
              + " | new-calls-all-good-after-ms=%d all-disturbed-calls-settled-after-ms=%d (good: succeeded in < %d ms)"
              + " disturbed-calls=%d max-latency-ms=%d | failed-through-A/C-after-sdk-retries=%d"
              + " 5xx-attempts-retried-by-sdk=%d | cut-at-B (in flight to B at the kill)=%d | B-downed-and-removed-after-ms=%d"
              + " | B-rejoined-after-restart-ms=%d calls-through-B-after-rejoin=%d failed-after-rejoin=%d%n",
          load.callsStartedBefore(killedAt).size(), recovery.newCallsGoodAfterMs(), recovery.settledAfterMs(),
          Load.NORMAL_MS, recovery.disturbed().size(),
          endedAfterKill.stream().filter(c -> c.node() != B).mapToLong(Load.Call::latencyMs).max().orElse(0),
          failedThroughAC.size(), load.serverErrorAttempts.get(), failedThroughB.size(), downedAfter, rejoinedMs,
          afterRejoin.stream().filter(c -> c.node() == B).count(), afterRejoin.stream().filter(c -> !c.ok()).count());
      recovery.disturbed().stream().limit(10).forEach(c -> System.out.printf(
          "FAILOVER sync-load disturbed call: started %d ms after the kill, %s%n",
          TimeUnit.NANOSECONDS.toMillis(c.start() - killedAt), c));
      // A call whose request was lost with B's function actor is answered (500, then retried) only
      // when the front end's ask times out: function timeout + init timeout + 30 s, 43 s here.
      assertTrue(recovery.settledAfterMs() <= 60_000, "the last disturbed call through A or C ended "
          + recovery.settledAfterMs() + " ms after the kill: " + recovery.disturbed());
      assertTrue(failedThroughAC.stream().allMatch(c -> c.status() >= 500), "failures through A and C that are not"
          + " 5xx: " + failedThroughAC);
      assertEquals(List.of(), failedThroughAC, "invocations through A and C that failed after the SDK's retries"
          + " (they did not run on B)\n" + cluster.tails(40));
      assertTrue(failedThroughB.size() <= 6, "more invocations through B failed than were in flight at the kill: "
          + failedThroughB);
      assertTrue(afterRejoin.stream().filter(c -> c.node() == B).count() > 0, "no calls through B after it rejoined");
      assertEquals(List.of(), afterRejoin.stream().filter(c -> !c.ok()).toList(), "failures after B rejoined");
      for (String f : functions) {
        Functions.json(Functions.invoke(cluster.lambdaWithoutRetries(B), f, "{\"n\":1}"));
      }
    }
  }

  @Test
  @Order(3)
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void everyAcceptedEventRunsAtLeastOnceWhenANodeIsKilledMidFlight() throws Exception {
    int events = Integer.getInteger("lamina.failover.events", 2100);
    int senders = 6;
    int backlog = 300;
    Functions.create(cluster.lambda(A), "events", "python3.12", "app.handler",
        SdkBytes.fromByteArray(Examples.zip(Map.of("app.py", REPORTER))), 5,
        Map.of("COLLECTOR", collector.url(), "HOLD_SECONDS", "0.1"));
    for (int node : NODES) {
      InvokeResponse r = Functions.invoke(cluster.lambda(node), "events", "{\"seq\":\"warm-" + node + "\"}");
      Functions.json(r);
      assertEquals(1, collector.executions("warm-" + node), "the warm-up through node " + node + " did not report");
    }

    Set<String> accepted = ConcurrentHashMap.newKeySet();
    AtomicInteger cutAtB = new AtomicInteger();
    List<String> failedThroughAC = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger next = new AtomicInteger();
    AtomicInteger turn = new AtomicInteger();
    List<Integer> rotation = Collections.synchronizedList(new ArrayList<>(NODES));
    CountDownLatch sent = new CountDownLatch(senders);
    ExecutorService pool = Executors.newFixedThreadPool(senders);
    long sendStart = System.nanoTime();
    AtomicLong sendEnd = new AtomicLong();
    try {
      for (int s = 0; s < senders; s++) {
        pool.execute(() -> {
          try {
            for (int i; (i = next.getAndIncrement()) < events; ) {
              while (accepted.size() - executedAmong(accepted) > backlog) {
                Thread.sleep(5);
              }
              int node;
              synchronized (rotation) {
                node = rotation.get(Math.floorMod(turn.getAndIncrement(), rotation.size()));
              }
              String seq = "ev-" + i;
              try {
                InvokeResponse r = cluster.lambda(node).invoke(b -> b.functionName("events")
                    .invocationType(InvocationType.EVENT).payload(SdkBytes.fromUtf8String("{\"seq\":\"" + seq + "\"}")));
                if (r.statusCode() == 202) {
                  accepted.add(seq);
                } else {
                  failedThroughAC.add(seq + " answered " + r.statusCode() + " through node " + node);
                }
              } catch (SdkException e) {
                if (node == B && !cluster.isRunning(B)) {
                  cutAtB.incrementAndGet();
                } else {
                  failedThroughAC.add(seq + " through node " + node + ": " + e);
                }
              }
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            sendEnd.set(System.nanoTime());
            sent.countDown();
          }
        });
      }

      // Given a third of the events ran, when B is killed (and taken out of the rotation)...
      assertTrue(awaitTrue(() -> executedAmong(accepted) >= events / 3, Duration.ofMinutes(3)),
          "only " + executedAmong(accepted) + " of " + events + " events ran within 3 minutes\n" + cluster.tails(30));
      int acceptedAtKill = accepted.size();
      long runAtKill = executedAmong(accepted);
      long killedAt = System.nanoTime();
      cluster.kill(B);
      collector.nextLife();
      synchronized (rotation) {
        rotation.remove(Integer.valueOf(B));
      }
      boolean sending = sent.getCount() > 0;

      // ...then every accepted event runs, on A and C, within a bound.
      assertTrue(sent.await(4, TimeUnit.MINUTES), "the senders did not finish within 4 minutes");
      boolean allRan = awaitTrue(() -> executedAmong(accepted) == accepted.size(), Duration.ofMinutes(3));
      long drainedAfterMs = millisSince(killedAt);
      if (allRan) {
        // What the lost node ran but had not marked done runs again: wait for the queues to empty, to count it.
        awaitTrue(() -> NODES.stream().filter(cluster::isRunning)
            .mapToDouble(n -> cluster.metric(n, "lamina_events_queued", "function=\"events\"")).sum() == 0,
            Duration.ofSeconds(60));
      }
      List<String> missing = accepted.stream().filter(id -> collector.executions(id) == 0).sorted().toList();
      long duplicates = accepted.stream().filter(id -> collector.executions(id) > 1).count();
      long extraRuns = accepted.stream().mapToLong(id -> Math.max(0, collector.executions(id) - 1)).sum();
      long ranUnacknowledged = collector.ids().stream().filter(id -> id.startsWith("ev-") && !accepted.contains(id))
          .count();
      System.out.printf("FAILOVER events: sent=%d accepted=%d cut-at-B=%d failed-through-A/C-after-sdk-retries=%d"
              + " | sending took %.1f s | at the kill (%.1f s after the first send): accepted=%d run=%d queued=%d"
              + " | executed=%d missing=%d duplicates=%d (extra runs %d) ran-without-202=%d"
              + " | all-accepted-ran-after-kill-ms=%d%n",
          events, accepted.size(), cutAtB.get(), failedThroughAC.size(), (sendEnd.get() - sendStart) / 1e9,
          (killedAt - sendStart) / 1e9, acceptedAtKill, runAtKill, acceptedAtKill - runAtKill,
          executedAmong(accepted), missing.size(), duplicates, extraRuns, ranUnacknowledged, drainedAfterMs);
      assertTrue(sending && acceptedAtKill > runAtKill, "the kill found the senders done or nothing queued");
      assertEquals(List.of(), missing.stream().limit(20).toList(), missing.size() + " accepted events never ran\n"
          + cluster.tails(60));
      assertEquals(List.of(), failedThroughAC.stream().limit(10).toList(),
          "Event invocations through A and C that failed after the SDK's retries");
      assertTrue(accepted.size() >= 2000 || events < 2000, "only " + accepted.size() + " events accepted");
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(30, TimeUnit.SECONDS);
    }

    long restartAt = System.nanoTime();
    cluster.restart(B);
    cluster.awaitMembers(3);
    System.out.printf("FAILOVER events: B-rejoined-after-restart-ms=%d%n", millisSince(restartAt));
  }

  @Test
  @Order(4)
  @Timeout(value = 6, unit = TimeUnit.MINUTES)
  void aFullClusterRestartKeepsFunctionsVersionsAliasesQueuesAndPendingEvents() throws Exception {
    LambdaClient lambda = cluster.lambda(A);
    // Given a function with two published versions and an alias on each.
    Functions.create(lambda, "keeper", "python3.12", "app.handler", Examples.marked("keeper-v1"));
    lambda.publishVersion(b -> b.functionName("keeper"));
    lambda.updateFunctionCode(b -> b.functionName("keeper").zipFile(Examples.marked("keeper-v2")));
    lambda.publishVersion(b -> b.functionName("keeper"));
    lambda.createAlias(b -> b.functionName("keeper").name("live").functionVersion("1"));
    lambda.createAlias(b -> b.functionName("keeper").name("next").functionVersion("2"));
    // And a queue holding messages.
    SqsClient sqs = cluster.sqs(B);
    String queueUrl = sqs.createQueue(b -> b.queueName("kept-queue")
        .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "7"))).queueUrl();
    Set<String> bodies = IntStream.range(0, 20).mapToObj(i -> "kept-" + i).collect(Collectors.toSet());
    bodies.forEach(body -> sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody(body)));
    // And pending events: accepted (202) but unable to finish before the restart. The function
    // waits for the collector's gate, which stays closed until after the restart, so no event can
    // run to its end before; reserved concurrency 1 keeps one attempt at a time, so the others
    // wait in the queues' journals as throttled events (a stop kills the attempt in flight,
    // which then counts as a system error and is tried again). Its timeout outlasts the restart.
    collector.closeGate();
    Functions.create(lambda, "gated", "python3.12", "app.handler",
        SdkBytes.fromByteArray(Examples.zip(Map.of("app.py", GATED_REPORTER))), 300,
        Map.of("COLLECTOR", collector.url(), "GATE", collector.gateUrl()));
    lambda.putFunctionConcurrency(b -> b.functionName("gated").reservedConcurrentExecutions(1));
    List<String> pending = IntStream.range(0, 30).mapToObj(i -> "pending-" + i).toList();
    for (int i = 0; i < pending.size(); i++) {
      String seq = pending.get(i);
      InvokeResponse r = cluster.lambda(NODES.get(i % 3)).invoke(b -> b.functionName("gated")
          .invocationType(InvocationType.EVENT).payload(SdkBytes.fromUtf8String("{\"seq\":\"" + seq + "\"}")));
      assertEquals(202, r.statusCode());
    }
    Map<String, String> functionsBefore = functionsAndCode(lambda);
    List<String> versionsBefore = versions(lambda, "keeper");

    // When every node is stopped (SIGTERM) and started again, Cassandra kept.
    long stopAt = System.nanoTime();
    cluster.stopAll();
    long stoppedMs = millisSince(stopAt);
    assertEquals(0, pending.stream().filter(id -> collector.executions(id) > 0).count(),
        "pending events ran before the restart");
    long startAt = System.nanoTime();
    cluster.startAll();
    long startedMs = millisSince(startAt);

    // Then functions, versions and aliases are all there, through another node than the one that made them.
    LambdaClient viaC = cluster.lambda(C);
    assertEquals(functionsBefore, functionsAndCode(viaC), "functions (name → CodeSha256) after the restart");
    assertEquals(versionsBefore, versions(viaC, "keeper"));
    Map<String, String> aliases = viaC.listAliases(b -> b.functionName("keeper")).aliases().stream()
        .collect(Collectors.toMap(AliasConfiguration::name, AliasConfiguration::functionVersion));
    assertEquals(Map.of("live", "1", "next", "2"), aliases);
    assertEquals("keeper-v1", Functions.json(Functions.invoke(viaC, "keeper:live", "{}")).path("code").asText());
    assertEquals("keeper-v2", Functions.json(Functions.invoke(viaC, "keeper:next", "{}")).path("code").asText());
    assertEquals("keeper-v2", Functions.json(Functions.invoke(viaC, "keeper", "{}")).path("code").asText());
    assertEquals(1, viaC.getFunctionConcurrency(b -> b.functionName("gated")).reservedConcurrentExecutions());
    // And the queue with its attributes and every message.
    SqsClient sqsViaA = cluster.sqs(A);
    String url = sqsViaA.getQueueUrl(b -> b.queueName("kept-queue")).queueUrl();
    assertEquals("7", sqsViaA.getQueueAttributes(b -> b.queueUrl(url).attributeNames(
        QueueAttributeName.VISIBILITY_TIMEOUT)).attributes().get(QueueAttributeName.VISIBILITY_TIMEOUT));
    Set<String> received = new TreeSet<>();
    long receiveDeadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (received.size() < bodies.size() && System.nanoTime() < receiveDeadline) {
      for (Message m : sqsViaA.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(1))
          .messages()) {
        received.add(m.body());
        sqsViaA.deleteMessage(b -> b.queueUrl(url).receiptHandle(m.receiptHandle()));
      }
    }
    assertEquals(new TreeSet<>(bodies), received, "messages received after the restart");
    // And every pending event runs once the gate opens.
    long openAt = System.nanoTime();
    collector.openGate();
    boolean allRan = awaitTrue(() -> pending.stream().allMatch(id -> collector.executions(id) > 0),
        Duration.ofSeconds(90));
    long drainMs = millisSince(openAt);
    List<String> notRun = pending.stream().filter(id -> collector.executions(id) == 0).toList();
    System.out.printf("FAILOVER full-restart: stop-all-ms=%d start-all-ready-ms=%d | functions=%d queue-messages=%d/%d"
            + " pending-events=%d ran-after-gate-open=%d within-ms=%d duplicates=%d%n",
        stoppedMs, startedMs, functionsBefore.size(), received.size(), bodies.size(), pending.size(),
        pending.size() - notRun.size(), drainMs, pending.stream().filter(id -> collector.executions(id) > 1).count());
    assertTrue(allRan, "pending events that never ran after the restart: " + notRun + "\n" + cluster.tails(40));
  }

  /** Every function's name and CodeSha256, as ListFunctions shows them. */
  private static Map<String, String> functionsAndCode(LambdaClient lambda) {
    return lambda.listFunctionsPaginator(b -> b.maxItems(50)).functions().stream()
        .collect(Collectors.toMap(FunctionConfiguration::functionName, FunctionConfiguration::codeSha256));
  }

  /** A function's versions as "version codeSha256". */
  private static List<String> versions(LambdaClient lambda, String function) {
    return lambda.listVersionsByFunctionPaginator(b -> b.functionName(function)).versions().stream()
        .map(v -> v.version() + " " + v.codeSha256()).sorted().toList();
  }

  private static long executedAmong(Set<String> ids) {
    return collector.executedAmong(ids);
  }

  private static long millisSince(long nanoTime) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoTime);
  }

  /**
   * Synchronous invocations from {@code threads} client threads, each taking the next node of the
   * rotation and the next function, through SDK clients with the default retries; every call's
   * node, start, end and outcome (after the SDK's retries) is kept. The SDK's own attempts that
   * got a 5xx are counted apart.
   */
  private static final class Load implements AutoCloseable {
    /** A call slower than this (ms) counts as disturbed by the failover. */
    static final long NORMAL_MS = 3_000;

    /** One call as its caller saw it; {@code retried5xx}: attempts the SDK retried after a 5xx. */
    record Call(int node, long start, long end, int status, String error, int retried5xx) {
      boolean ok() {
        return error == null;
      }

      long latencyMs() {
        return TimeUnit.NANOSECONDS.toMillis(end - start);
      }

      @Override
      public String toString() {
        return "node " + node + " after " + latencyMs() + " ms: " + (ok() ? "ok" : status + " " + error)
            + (retried5xx > 0 ? " (after " + retried5xx + " attempts answered 5xx)" : "");
      }
    }

    record Recovery(boolean recovered, long newCallsGoodAfterMs, long settledAfterMs, List<Call> disturbed) {}

    private final List<String> functions;
    private final ExecutorService pool;
    private final Map<Integer, LambdaClient> clients = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    /** Each call in flight (its end and outcome not known yet), by thread. */
    private final Map<Long, Call> inFlight = new ConcurrentHashMap<>();
    final AtomicInteger serverErrorAttempts = new AtomicInteger();
    /** 5xx attempts of the call the current thread makes (the SDK runs interceptors on the caller's thread). */
    private final ThreadLocal<int[]> callServerErrors = ThreadLocal.withInitial(() -> new int[1]);
    private volatile List<Integer> rotation = NODES;
    private volatile boolean running = true;

    Load(List<String> functions, int threads) {
      this.functions = functions;
      ExecutionInterceptor countServerErrors = new ExecutionInterceptor() {
        @Override
        public void afterTransmission(Context.AfterTransmission context, ExecutionAttributes attributes) {
          if (context.httpResponse().statusCode() >= 500) {
            serverErrorAttempts.incrementAndGet();
            callServerErrors.get()[0]++;
          }
        }
      };
      NODES.forEach(n -> clients.put(n, cluster.newLambda(n, List.of(countServerErrors))));
      pool = Executors.newFixedThreadPool(threads);
      AtomicInteger turn = new AtomicInteger();
      for (int t = 0; t < threads; t++) {
        pool.execute(() -> {
          while (running) {
            int k = turn.getAndIncrement();
            List<Integer> nodes = rotation;
            int node = nodes.get(Math.floorMod(k, nodes.size()));
            String function = functions.get(Math.floorMod(k / nodes.size(), functions.size()));
            call(node, function, k);
          }
        });
      }
    }

    private void call(int node, String function, int k) {
      long start = System.nanoTime();
      inFlight.put(Thread.currentThread().getId(), new Call(node, start, 0, 0, null, 0));
      callServerErrors.get()[0] = 0;
      int status = 0;
      String error = null;
      try {
        InvokeResponse r = clients.get(node).invoke(b -> b.functionName(function)
            .payload(SdkBytes.fromUtf8String("{\"n\":" + k + "}")));
        status = r.statusCode();
        if (r.functionError() != null) {
          error = "function error " + r.functionError() + ": " + r.payload().asUtf8String();
        }
      } catch (AwsServiceException e) {
        status = e.statusCode();
        error = e.awsErrorDetails().errorCode() + ": " + e.getMessage();
      } catch (SdkException e) {
        error = e.toString();  // no answer: connection refused or reset
      } finally {
        inFlight.remove(Thread.currentThread().getId());
      }
      calls.add(new Call(node, start, System.nanoTime(), status, error, callServerErrors.get()[0]));
    }

    void rotation(List<Integer> nodes) {
      rotation = List.copyOf(nodes);
    }

    /**
     * Waits (bounded) until the last {@code calls} calls through each node in rotation all
     * succeeded within {@link #NORMAL_MS}: sandboxes are warm everywhere.
     */
    boolean awaitSteady(int calls, Duration limit) throws InterruptedException {
      return awaitTrue(() -> rotation.stream().allMatch(node -> {
        List<Call> through = this.calls.stream().filter(c -> c.node == node).toList();
        return through.size() >= calls && through.subList(through.size() - calls, through.size()).stream()
            .allMatch(c -> c.ok() && c.latencyMs() <= NORMAL_MS);
      }), limit);
    }

    void runFor(Duration d) throws InterruptedException {
      Thread.sleep(d.toMillis());
    }

    List<Call> calls() {
      return List.copyOf(calls);
    }

    List<Call> callsStartedAfter(long t) {
      return calls.stream().filter(c -> c.start >= t).toList();
    }

    List<Call> callsStartedBefore(long t) {
      return calls.stream().filter(c -> c.start < t).toList();
    }

    List<Call> failures(long from, long to) {
      return calls.stream().filter(c -> c.start >= from && c.start < to && !c.ok()).toList();
    }

    /**
     * Waits until the calls through the nodes in rotation have settled: none in flight for longer
     * than {@link #NORMAL_MS}, and only good calls (succeeded within it) ended for {@code stable};
     * at most {@code limit} after the kill. A call is disturbed when it ended after the kill and
     * failed or took longer. Recovered: every call started after the last disturbed one was good
     * ({@code newCallsGoodAfterMs} from the kill); settled: the last disturbed call ended
     * ({@code settledAfterMs}). Both 0 when nothing was disturbed.
     */
    Recovery awaitRecovery(long killedAt, Duration stable, Duration limit) throws InterruptedException {
      long deadline = killedAt + limit.toNanos();
      while (true) {
        long now = System.nanoTime();
        List<Call> disturbed = disturbed(killedAt);
        long lastEnd = disturbed.stream().mapToLong(Call::end).max().orElse(killedAt);
        boolean hanging = inFlight.values().stream()
            .anyMatch(c -> rotation.contains(c.node) && now - c.start > TimeUnit.MILLISECONDS.toNanos(NORMAL_MS));
        if (!hanging && now - lastEnd >= stable.toNanos()) {
          long lastStart = disturbed.stream().mapToLong(Call::start).max().orElse(killedAt);
          return new Recovery(true, Math.max(0, TimeUnit.NANOSECONDS.toMillis(lastStart - killedAt)),
              TimeUnit.NANOSECONDS.toMillis(lastEnd - killedAt), disturbed);
        }
        if (now > deadline) {
          return new Recovery(false, -1, -1, disturbed);
        }
        Thread.sleep(250);
      }
    }

    /** Calls through the nodes in rotation that ended after the kill and failed or were slow. */
    List<Call> disturbed(long killedAt) {
      return calls.stream().filter(c -> c.end >= killedAt && rotation.contains(c.node)
          && (!c.ok() || c.latencyMs() > NORMAL_MS)).toList();
    }

    void stop() throws InterruptedException {
      running = false;
      pool.shutdown();
      if (!pool.awaitTermination(150, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop();
      clients.values().forEach(LambdaClient::close);
    }
  }
}
