package dev.lamina.node.isolation;

import static dev.lamina.node.isolation.Hostile.attempt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.TestNode;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import dev.lamina.node.testing.NodeConfig;
import dev.lamina.node.testing.NodePerClass;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * Issue 7: a function cannot take more than its configuration gives it, on a node with
 * {@code lamina.sandbox.isolation = strict}: processes (pids limit), memory (MemorySize, an OOM
 * kill reported as such), /tmp (EphemeralStorage) and CPU (1 vCPU per 1769 MB). Each limit is hit
 * for real, and the node and the other functions carry on.
 */
@ExtendWith(NodePerClass.class)
@NodeConfig("lamina.sandbox.isolation = strict")
@Timeout(180)
class SandboxLimitsTest {

  private static final Pattern MAX_MEMORY = Pattern.compile("Max Memory Used: (\\d+) MB");

  static TestNode node;
  static LambdaClient lambda;

  @Test
  void forkBombStopsAtThePidsLimitAndTheSandboxLeavesNothingBehind() throws Exception {
    String mark = "forkbomb-" + UUID.randomUUID();
    Hostile.create(lambda, "forkbomb", 1024, 512, 60, "forkbomb", mark);
    Hostile.create(lambda, "bystander", 128, 512, 10, "bystander", "bystander-" + UUID.randomUUID());

    // 5000 children that stay alive for 2 minutes: only the pids limit (1024 tasks) stops it
    JsonNode bomb = attempt(lambda, "forkbomb", Map.of("do", "fork", "max", 5000, "linger", 120));

    int spawned = bomb.get("spawned").asInt();
    System.out.println("fork bomb: " + bomb + ", processes carrying its mark on the host: "
        + Processes.withEnvironment(mark));
    assertEquals("EAGAIN", bomb.get("error").asText(), bomb.toString());
    assertTrue(spawned > 1000 && spawned < 1024, "stopped at the sandbox's 1024 tasks: " + bomb);
    assertTrue(Processes.withEnvironment(mark) > spawned, "its children are alive (and so were counted)");
    // The node, another function and the bombed sandbox itself still answer
    assertEquals("strict", Hostile.health(node).get("isolation").get("mode").asText());
    attempt(lambda, "bystander", Map.of("do", "whoami"));
    JsonNode survivor = attempt(lambda, "forkbomb", Map.of("do", "whoami"));
    assertTrue(survivor.get("processes").size() > spawned, "the same sandbox, its children still there");

    lambda.deleteFunction(b -> b.functionName("forkbomb"));

    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (Processes.withEnvironment(mark) > 0 && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertEquals(0, Processes.withEnvironment(mark), "every process of the bombed sandbox is gone");
  }

  @Test
  void allocatingPastMemorySizeIsReportedAsOutOfMemoryAndTheNextInvocationGetsAFreshSandbox() throws Exception {
    Hostile.create(lambda, "oom", 128, 512, 30, "oom", "oom-" + UUID.randomUUID());
    String before = attempt(lambda, "oom", Map.of("do", "whoami")).get("sandbox").asText();

    InvokeResponse oom = Hostile.invoke(lambda, "oom", Map.of("do", "allocate", "mb", 300));

    assertEquals("Unhandled", oom.functionError(), Functions.body(oom));
    JsonNode error = Hostile.JSON.readTree(Functions.body(oom));
    assertEquals("Runtime.ExitError", error.get("errorType").asText(), error.toString());
    assertTrue(error.get("errorMessage").asText().matches("RequestId: [0-9a-f-]{36} Error: Runtime exited with error: "
        + "signal: killed \\(out of memory: the function used all of its 128 MB\\)"), error.toString());
    String log = Functions.log(oom);
    System.out.println("out of memory at 128 MB, log tail:\n" + log);
    assertTrue(log.contains("Memory Size: 128 MB"), log);
    int maxUsed = maxMemoryUsed(log);
    assertTrue(maxUsed >= 120 && maxUsed <= 128, "the REPORT shows the group's peak, its whole 128 MB: " + log);

    InvokeResponse next = Hostile.invoke(lambda, "oom", Map.of("do", "whoami"));
    assertNotEquals(before, Functions.json(next).get("sandbox").asText(), "a sandbox killed for memory is not reused");
    assertTrue(Functions.log(next).contains("Init Duration"), "the next invocation is a cold start");
  }

  @Test
  void theSameAllocationFailsAt128MbAndSucceedsAt512Mb() throws Exception {
    Hostile.create(lambda, "hungry-128", 128, 512, 30, "hungry", "hungry-128-" + UUID.randomUUID());
    Hostile.create(lambda, "hungry-512", 512, 512, 30, "hungry", "hungry-512-" + UUID.randomUUID());

    InvokeResponse small = Hostile.invoke(lambda, "hungry-128", Map.of("do", "allocate", "mb", 200));
    InvokeResponse large = Hostile.invoke(lambda, "hungry-512", Map.of("do", "allocate", "mb", 200));

    assertEquals("Unhandled", small.functionError(), Functions.body(small));
    assertTrue(Hostile.JSON.readTree(Functions.body(small)).get("errorMessage").asText()
        .endsWith("(out of memory: the function used all of its 128 MB)"), Functions.body(small));
    assertEquals(200, Functions.json(large).get("allocatedMb").asInt());
    int used = maxMemoryUsed(Functions.log(large));
    assertTrue(used >= 200 && used < 512, "the REPORT counts the 200 MB: " + Functions.log(large));
  }

  @Test
  void writingPastEphemeralStorageFailsWithNoSpaceLeftAtItsSize() {
    Hostile.create(lambda, "tmpfill", 1024, 512, 60, "tmpfill", "tmpfill-" + UUID.randomUUID());

    JsonNode full = attempt(lambda, "tmpfill", Map.of("do", "fill_tmp", "mb", 600));

    System.out.println("/tmp at EphemeralStorage 512 MB: " + full);
    assertEquals("ENOSPC", full.get("error").asText(), full.toString());
    double written = full.get("writtenMb").asDouble();
    assertTrue(written >= 500 && written <= 512, "/tmp filled at its 512 MB: " + full);
    JsonNode again = attempt(lambda, "tmpfill", Map.of("do", "fill_tmp", "mb", 100));
    assertEquals(100, again.get("writtenMb").asInt(), "the space came back when the file was removed: " + again);
  }

  @Test
  void cpuShareFollowsMemorySizeOnceInitIsDone() {
    Hostile.create(lambda, "cpu-128", 128, 512, 20, "cpu", "cpu-128-" + UUID.randomUUID());
    Hostile.create(lambda, "cpu-1769", 1769, 512, 20, "cpu", "cpu-1769-" + UUID.randomUUID());
    attempt(lambda, "cpu-128", Map.of("do", "whoami"));
    attempt(lambda, "cpu-1769", Map.of("do", "whoami"));

    double small = 0;
    double full = 0;
    for (int i = 0; i < 3; i++) {
      small = Math.max(small, attempt(lambda, "cpu-128", Map.of("do", "cpu", "seconds", 1.0)).get("share").asDouble());
      full = Math.max(full, attempt(lambda, "cpu-1769", Map.of("do", "cpu", "seconds", 1.0)).get("share").asDouble());
    }

    System.out.printf("CPU share of one CPU over 1 s (best of 3): 128 MB %.3f (quota %.3f), 1769 MB %.3f (quota 1.0)%n",
        small, 128 / 1769.0, full);
    assertTrue(small < 0.25, "at 128 MB a function gets about 128/1769 of a CPU, not " + small);
    assertTrue(full > 3 * small, "at 1769 MB a function gets a whole CPU's quota: " + full + " vs " + small);
  }

  private static int maxMemoryUsed(String log) {
    Matcher m = MAX_MEMORY.matcher(log);
    assertTrue(m.find(), "no REPORT in " + log);
    return Integer.parseInt(m.group(1));
  }
}
