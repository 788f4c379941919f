package dev.lamina.node.worker;

import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Functions.invoke;
import static dev.lamina.node.testing.Functions.log;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An idle sandbox lives for the keep-alive, then retires; the next invocation starts cold. */
class KeepAliveTest {

  @Test
  void idleSandboxRetiresAfterItsKeepAliveAndTheNextCallIsCold() throws Exception {
    try (TestNode node = TestNode.start(Files.createTempDirectory("lamina-keepalive-"), true,
        ConfigFactory.parseString("lamina.sandbox.keep-alive = 1 s"))) {
      create(node.lambda(), "brief", "python3.11", "probe.warm", Examples.zipOf("python/probe"));
      String codeSha = node.lambda().getFunctionConfiguration(b -> b.functionName("brief")).codeSha256();
      assertTrue(log(invoke(node.lambda(), "brief", "{}")).contains("Init Duration"));
      assertFalse(log(invoke(node.lambda(), "brief", "{}")).contains("Init Duration"), "warm within the keep-alive");

      assertTrue(Processes.awaitNoneRunning(node.dataDir(), codeSha, Duration.ofSeconds(15)),
          "the idle sandbox retired once its keep-alive passed");
      assertTrue(log(invoke(node.lambda(), "brief", "{}")).contains("Init Duration"), "so the next call is cold");
    }
  }
}
