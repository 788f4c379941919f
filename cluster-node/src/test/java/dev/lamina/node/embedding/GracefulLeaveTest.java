package dev.lamina.node.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.NodeProcess;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * SIGTERM is a graceful leave: the node stops taking new requests, but an invocation already
 * running finishes and its caller gets the result; then the node exits and leaves no sandbox.
 */
class GracefulLeaveTest {

  @Test
  void sigtermLetsARunningInvocationFinish() throws Exception {
    Path temp = Files.createTempDirectory("lamina-leave-");
    Path dataDir = temp.resolve("data");
    Path config = Files.writeString(temp.resolve("node.conf"), "pekko.remote.artery.canonical.port = 0\n");
    try (NodeProcess node = NodeProcess.start(dataDir, NodeProcess.freePort(), config, temp.resolve("logs"), "node");
        LambdaClient lambda = TestNode.client(node.endpoint())) {
      Functions.create(lambda, "slow", "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30,
          java.util.Map.of());
      Functions.invoke(lambda, "slow", "{\"seconds\": 0}");   // warm: the next call starts at once

      CompletableFuture<InvokeResponse> running = CompletableFuture.supplyAsync(
          () -> Functions.invoke(lambda, "slow", "{\"seconds\": 4}"));
      Thread.sleep(1500);   // it runs now
      ProcessHandle process = ProcessHandle.of(node.pid()).orElseThrow();
      process.destroy();    // SIGTERM

      InvokeResponse response = running.get(60, TimeUnit.SECONDS);
      assertEquals(200, response.statusCode());
      assertEquals(null, response.functionError(), Functions.body(response));
      assertTrue(Functions.body(response).contains("\"sandbox\""), Functions.body(response));
      assertTrue(process.onExit().get(60, TimeUnit.SECONDS).pid() > 0);
      assertFalse(node.isAlive(), node.tail(40));
      assertTrue(node.tail(200).contains("draining this node's sandboxes"), node.tail(80));
      assertEquals(0, Processes.runningUnder(dataDir), "the node left no sandbox process behind");
    } finally {
      TestNode.deleteTree(temp);
    }
  }
}
