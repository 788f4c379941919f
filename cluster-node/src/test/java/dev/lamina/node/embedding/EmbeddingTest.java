package dev.lamina.node.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.function.InvocationResult;
import dev.lamina.node.LaminaNode;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** An application hosts a node in its own JVM and deploys and invokes without HTTP. */
class EmbeddingTest {

  @Test
  void applicationDeploysAndInvokesThroughTheJavaApi() throws Exception {
    Path dataDir = Files.createTempDirectory("lamina-embed-");
    ObjectMapper json = new ObjectMapper();
    try (LaminaNode node = LaminaNode.start(ConfigFactory.parseString(
        "lamina.data-dir = \"" + dataDir + "\"\nlamina.http.port = 0\npekko.remote.artery.canonical.port = 0"))) {
      ObjectNode create = json.createObjectNode();
      create.put("FunctionName", "embedded");
      create.put("Runtime", "python3.11");
      create.put("Handler", "handler.handler");
      create.put("Role", "arn:aws:iam::000000000000:role/app");
      create.putObject("Code").put("ZipFile",
          Base64.getEncoder().encodeToString(Examples.zipOf("python/hello").asByteArray()));

      assertEquals("$LATEST", node.deploy(create).version());
      InvocationResult result = node.invoke("embedded", "{\"name\":\"JVM\"}");

      assertFalse(result.functionError());
      assertTrue(result.payload().utf8String().contains("Hello, JVM!"), result.payload().utf8String());
      LambdaError missing = assertThrows(LambdaError.class, () -> node.invoke("absent", "{}"));
      assertEquals(LambdaError.Code.ResourceNotFoundException, missing.code());

      String requestId = node.invokeAsync("embedded", null, "{\"name\":\"later\"}");
      long deadline = System.nanoTime() + 30_000_000_000L;
      String log = "";
      while (!log.contains("END RequestId: " + requestId) && System.nanoTime() < deadline) {
        Thread.sleep(50);
        node.logs().flush();
        log = node.logs().read("embedded", 0, 1 << 20).text();
      }
      assertTrue(log.contains("END RequestId: " + requestId), "the queued event ran: " + log);
      assertThrows(LambdaError.class, () -> node.invokeAsync("absent", null, "{}"));
    } finally {
      assertEquals(0, Processes.runningUnder(dataDir), "closing the node leaves no sandbox process");
      assertTrue(noRuntimeApiServerThreads(), "closing the node stops every sandbox's Runtime API server");
      TestNode.deleteTree(dataDir);
    }
  }

  /** The JDK HTTP server's dispatcher threads are not daemons: a leaked one would keep the JVM alive. */
  private static boolean noRuntimeApiServerThreads() throws InterruptedException {
    for (int i = 0; i < 50; i++) {
      if (Thread.getAllStackTraces().keySet().stream()
          .noneMatch(t -> t.isAlive() && t.getName().startsWith("HTTP-Dispatcher"))) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }
}
