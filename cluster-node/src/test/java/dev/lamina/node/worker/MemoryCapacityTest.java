package dev.lamina.node.worker;

import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Functions.invoke;
import static dev.lamina.node.testing.Functions.log;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.ServiceException;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * A node offers a fixed amount of sandbox memory: idle sandboxes make room for new ones, busy
 * ones never do, and what cannot fit is throttled the Lambda way.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)  // the reclaim test needs a node with nothing else warm
class MemoryCapacityTest {

  private static TestNode node;
  private static LambdaClient lambda;
  private static SdkBytes probe;

  @BeforeAll
  static void startNode() throws Exception {
    // Room for exactly two 128 MB sandboxes.
    node = TestNode.start(Files.createTempDirectory("lamina-capacity-"), true, ConfigFactory.parseString(
        "lamina.worker.memory-mb = 256\nlamina.worker.reclaim-wait = 1 s"));
    lambda = node.lambda();
    probe = Examples.zipOf("python/probe");
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  @Test
  @Order(1)
  void idleSandboxesOfOtherFunctionsAreReclaimedToMakeRoom() {
    for (String name : List.of("cap-a", "cap-b", "cap-c")) {
      create(lambda, name, "python3.11", "probe.warm", probe);
    }
    invoke(lambda, "cap-a", "{}");
    invoke(lambda, "cap-b", "{}");

    InvokeResponse third = invoke(lambda, "cap-c", "{}");
    InvokeResponse firstAgain = invoke(lambda, "cap-a", "{}");

    assertNull(third.functionError(), body(third));
    assertTrue(log(firstAgain).contains("Init Duration"), "cap-a's idle sandbox was reclaimed: it starts cold");
  }

  @Test
  @Order(2)
  void busySandboxesAreNotReclaimedAndTheOverflowIsThrottled() throws Exception {
    create(lambda, "cap-slow", "python3.11", "probe.sleep", probe, 10, Map.of());
    List<CompletableFuture<InvokeResponse>> running = List.of(
        CompletableFuture.supplyAsync(() -> invoke(lambda, "cap-slow", "{\"seconds\": 3}")),
        CompletableFuture.supplyAsync(() -> invoke(lambda, "cap-slow", "{\"seconds\": 3}")));
    Thread.sleep(1000);  // both run, holding all the memory

    TooManyRequestsException throttled = assertThrows(TooManyRequestsException.class,
        () -> invoke(lambda, "cap-slow", "{\"seconds\": 0}"));

    assertEquals(429, throttled.statusCode());
    assertEquals("ConcurrentInvocationLimitExceeded", throttled.reasonAsString());
    assertEquals("Rate Exceeded.", throttled.awsErrorDetails().errorMessage());
    for (CompletableFuture<InvokeResponse> r : running) {
      assertNull(r.get(30, TimeUnit.SECONDS).functionError(), "the running invocations were not disturbed");
    }
  }

  @Test
  @Order(3)
  void aFunctionLargerThanTheWholeNodeGetsAClearError() {
    lambda.createFunction(b -> b.functionName("cap-huge").runtime("python3.11").handler("probe.warm")
        .role(Functions.ROLE).memorySize(1024).code(c -> c.zipFile(probe)));

    ServiceException e = assertThrows(ServiceException.class, () -> invoke(lambda, "cap-huge", "{}"));

    assertEquals(500, e.statusCode());
    assertTrue(e.awsErrorDetails().errorMessage().contains("1024 MB exceeds the 256 MB"),
        e.awsErrorDetails().errorMessage());
  }
}
