package dev.lamina.node.worker;

import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Functions.invoke;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/** A runtime that never finishes init is given up after the init limit and leaves nothing behind. */
class StartAbandonedTest {

  @Test
  void runtimeThatNeverAsksForWorkTimesOutInInitAndLeaksNoProcess() throws Exception {
    try (TestNode node = TestNode.start(Files.createTempDirectory("lamina-abandon-"), true,
        ConfigFactory.parseString("lamina.sandbox.init-timeout = 1 s"))) {
      byte[] zip = Examples.withUnixModes(Examples.zip(Map.of("bootstrap", "#!/bin/sh\nexec sleep 3600\n")),
          name -> 0100755);
      create(node.lambda(), "never-ready", "provided.al2023", "x", SdkBytes.fromByteArray(zip));
      String codeSha = node.lambda().getFunctionConfiguration(b -> b.functionName("never-ready")).codeSha256();

      InvokeResponse response = invoke(node.lambda(), "never-ready", "{}");

      assertEquals(200, response.statusCode());
      assertEquals("Unhandled", response.functionError());
      JsonNode error = new ObjectMapper().readTree(body(response));
      assertEquals("Sandbox.Timedout", error.get("errorType").asText(), body(response));
      assertTrue(error.get("errorMessage").asText().endsWith("Error: Init timed out after 1.00 seconds"),
          body(response));
      assertTrue(Processes.awaitNoneRunning(node.dataDir(), codeSha, Duration.ofSeconds(10)),
          "the runtime process of the abandoned sandbox was stopped");
    }
  }
}
