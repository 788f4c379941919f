package dev.lamina.node.worker;

import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Functions.invoke;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/** When the oldest sandbox is busy, the worker reclaims the next idle one instead of throttling. */
class ReclaimPastBusySandboxTest {

  @Test
  void busyOldestSandboxDeclinesAndAYoungerIdleOneMakesRoom() throws Exception {
    try (TestNode node = TestNode.start(Files.createTempDirectory("lamina-reclaim-"), true,
        ConfigFactory.parseString("lamina.worker.memory-mb = 256\nlamina.worker.reclaim-wait = 2 s"))) {
      SdkBytes probe = Examples.zipOf("python/probe");
      create(node.lambda(), "oldest-busy", "python3.11", "probe.sleep", probe, 10, Map.of());
      create(node.lambda(), "younger-idle", "python3.11", "probe.warm", probe);
      create(node.lambda(), "newcomer", "python3.11", "probe.warm", probe);
      // The oldest sandbox starts first and stays busy; the younger one runs and goes idle.
      CompletableFuture<InvokeResponse> busy = CompletableFuture.supplyAsync(
          () -> invoke(node.lambda(), "oldest-busy", "{\"seconds\": 4}"));
      Thread.sleep(1000);
      invoke(node.lambda(), "younger-idle", "{}");

      InvokeResponse newcomer = invoke(node.lambda(), "newcomer", "{}");

      assertNull(newcomer.functionError(), body(newcomer));
      assertNull(busy.get(30, TimeUnit.SECONDS).functionError(), "the busy sandbox was left alone");
    }
  }
}
