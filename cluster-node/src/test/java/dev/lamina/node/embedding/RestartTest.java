package dev.lamina.node.embedding;

import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Functions.invoke;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;

/** A node restarted on the same data directory still lists and invokes every function. */
class RestartTest {

  private Path dataDir;

  @AfterEach
  void removeData() {
    TestNode.deleteTree(dataDir);
  }

  @Test
  void functionsSurviveANodeRestartWithTheirLatestConfiguration() throws Exception {
    dataDir = Files.createTempDirectory("lamina-restart-");
    String revision;
    try (TestNode first = TestNode.startOn(dataDir)) {
      create(first.lambda(), "kept", "python3.11", "handler.handler", Examples.zipOf("python/hello"));
      create(first.lambda(), "dropped", "python3.11", "handler.handler", Examples.zipOf("python/hello"));
      revision = first.lambda().updateFunctionConfiguration(b -> b.functionName("kept").timeout(7)).revisionId();
      first.lambda().deleteFunction(b -> b.functionName("dropped"));
      assertTrue(body(invoke(first.lambda(), "kept", "{}")).contains("Hello, world!"));
    }

    try (TestNode second = TestNode.startOn(dataDir)) {
      List<FunctionConfiguration> listed = second.lambda().listFunctions().functions();
      assertEquals(List.of("kept"), listed.stream().map(FunctionConfiguration::functionName).toList());
      var kept = second.lambda().getFunctionConfiguration(b -> b.functionName("kept"));
      assertEquals(7, kept.timeout());
      assertEquals(revision, kept.revisionId());
      assertEquals("{\"message\": \"Hello, Ada!\"", body(invoke(second.lambda(), "kept", "{\"name\":\"Ada\"}"))
          .substring(0, 25));
    }
  }
}
