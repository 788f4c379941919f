package dev.lamina.node.worker;

import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Functions.invoke;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/** A sandbox given up while its process is still being started leaves nothing behind. */
class StartAbandonedTest {

  @Test
  void sandboxThatCannotStartInTimeFailsTheInvocationAndLeaksNoProcess() throws Exception {
    // An init limit no process can meet: every sandbox is given up while it starts.
    try (TestNode node = TestNode.start(Files.createTempDirectory("lamina-abandon-"), true,
        ConfigFactory.parseString("lamina.sandbox.init-timeout = 1 ms"))) {
      create(node.lambda(), "never-ready", "python3.11", "handler.handler", Examples.zipOf("python/hello"));
      String codeSha = node.lambda().getFunctionConfiguration(b -> b.functionName("never-ready")).codeSha256();

      InvokeResponse response = invoke(node.lambda(), "never-ready", "{}");

      assertEquals(200, response.statusCode());
      assertEquals("Unhandled", response.functionError());
      // Given up while the process starts (Sandbox.Failure) or while the runtime initialises
      // (Sandbox.Timedout), depending on which the 1 ms timer catches.
      String errorType = new ObjectMapper().readTree(body(response)).get("errorType").asText();
      assertTrue(errorType.equals("Sandbox.Failure") || errorType.equals("Sandbox.Timedout"), body(response));
      assertTrue(Processes.awaitNoneRunning(node.dataDir(), codeSha, Duration.ofSeconds(10)),
          "the process started for the abandoned sandbox was stopped");
    }
  }
}
