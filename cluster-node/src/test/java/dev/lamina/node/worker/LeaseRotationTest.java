package dev.lamina.node.worker;

import static dev.lamina.node.testing.Functions.create;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * Host leases rotate (here every 2 s instead of 14 h) and execution environments are recycled
 * after their maximum lifetime (here 1 s instead of 4 h): idle sandboxes go, busy ones finish
 * first, and no invocation fails because of either.
 */
class LeaseRotationTest {

  @Test
  void noInvocationFailsWhileLeasesRotateUnderLoad() throws Exception {
    try (TestNode node = node("lamina.worker.lease = 2 s\n")) {
      LambdaClient lambda = node.lambda();
      create(lambda, "lr-load", "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30, Map.of());
      ExecutorService clients = Executors.newFixedThreadPool(3);
      List<Future<List<InvokeResponse>>> runs = new ArrayList<>();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(7);
      for (int c = 0; c < 3; c++) {
        runs.add(clients.submit(() -> {
          List<InvokeResponse> responses = new ArrayList<>();
          for (int i = 0; i < 100 && System.nanoTime() < end; i++) {
            responses.add(lambda.invoke(b -> b.functionName("lr-load")
                .payload(SdkBytes.fromUtf8String("{\"seconds\":0.3}"))));
          }
          return responses;
        }));
      }
      List<InvokeResponse> all = new ArrayList<>();
      for (Future<List<InvokeResponse>> run : runs) {
        all.addAll(run.get(60, TimeUnit.SECONDS));
      }
      clients.shutdown();

      Set<String> sandboxes = new HashSet<>();
      for (InvokeResponse r : all) {
        assertEquals(200, r.statusCode());
        assertNull(r.functionError(), Functions.body(r));
        sandboxes.add(Functions.json(r).get("sandbox").asText());
      }
      assertTrue(all.size() >= 30, "the clients kept invoking: " + all.size());
      assertTrue(sandboxes.size() > 3, "the sandboxes of ended leases were replaced: " + sandboxes.size());
    }
  }

  @Test
  void anIdleSandboxStopsWhenItsLeaseEndsAndTheNextInvocationStartsAFreshOne() throws Exception {
    try (TestNode node = node("lamina.worker.lease = 2 s\n")) {
      LambdaClient lambda = node.lambda();
      create(lambda, "lr-idle", "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30, Map.of());
      String first = sandboxOf(lambda, "lr-idle", 0);
      String warm = sandboxOf(lambda, "lr-idle", 0);

      Thread.sleep(2500);   // past the lease; the keep-alive (10 min) alone would keep it warm
      String after = sandboxOf(lambda, "lr-idle", 0);

      assertEquals(first, warm);
      assertNotEquals(first, after);
    }
  }

  @Test
  void aSandboxPastItsMaximumLifetimeFinishesItsInvocationAndIsThenReplaced() throws Exception {
    try (TestNode node = node("lamina.sandbox.max-lifetime = 1 s\n")) {
      LambdaClient lambda = node.lambda();
      create(lambda, "lr-lifetime", "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30, Map.of());

      InvokeResponse longer = lambda.invoke(b -> b.functionName("lr-lifetime")
          .payload(SdkBytes.fromUtf8String("{\"seconds\":1.5}")));
      String next = sandboxOf(lambda, "lr-lifetime", 0);

      assertNull(longer.functionError(), "the invocation outlived the sandbox's lifetime unharmed: "
          + Functions.body(longer));
      assertNotEquals(Functions.json(longer).get("sandbox").asText(), next);
    }
  }

  private static String sandboxOf(LambdaClient lambda, String function, double seconds) {
    InvokeResponse r = lambda.invoke(b -> b.functionName(function)
        .payload(SdkBytes.fromUtf8String("{\"seconds\":" + seconds + "}")));
    return Functions.json(r).get("sandbox").asText();
  }

  private static TestNode node(String config) throws Exception {
    return TestNode.start(Files.createTempDirectory("lamina-lease-"), true, ConfigFactory.parseString(config));
  }
}
