package dev.lamina.node.concurrency;

import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.create;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * How fast functions may add execution environments, under both policies, with rates small
 * enough to exhaust in a test: cold starts over the rate are throttled with the policy's reason,
 * warm reuse never spends a token.
 */
class ScalingRateTest {

  @Test
  void perFunctionPolicyThrottlesColdStartsOverTheFunctionsRateButNotWarmReuse() throws Exception {
    try (TestNode node = node("lamina.concurrency.scaling = per-function\n"
        + "lamina.concurrency.per-function.environments = 2\nlamina.concurrency.per-function.period = 1 h\n")) {
      LambdaClient lambda = node.lambda();
      create(lambda, "sr-fn", "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30, Map.of());
      create(lambda, "sr-other", "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30, Map.of());

      List<Object> burst = concurrently(lambda, "sr-fn", 3, 2);
      List<Object> warm = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        warm.add(invoke(lambda, "sr-fn", 0));
      }
      Object otherFunction = invoke(lambda, "sr-other", 0);

      assertEquals(2, burst.stream().filter(o -> o instanceof InvokeResponse).count(), burst.toString());
      TooManyRequestsException throttled = (TooManyRequestsException) burst.stream()
          .filter(o -> o instanceof TooManyRequestsException).findFirst().orElseThrow();
      assertEquals("FunctionInvocationRateLimitExceeded", throttled.reasonAsString());
      assertTrue(warm.stream().allMatch(o -> o instanceof InvokeResponse), "warm reuse spends no token: " + warm);
      assertTrue(otherFunction instanceof InvokeResponse, "each function has its own rate: " + otherFunction);
    }
  }

  @Test
  void accountBurstPolicySharesOneBurstPoolBetweenAllFunctions() throws Exception {
    try (TestNode node = node("lamina.concurrency.scaling = account-burst\n"
        + "lamina.concurrency.account-burst.burst = 2\nlamina.concurrency.account-burst.refill-per-minute = 0\n")) {
      LambdaClient lambda = node.lambda();
      for (String name : List.of("sr-a", "sr-b", "sr-c")) {
        create(lambda, name, "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30, Map.of());
      }

      Object a = invoke(lambda, "sr-a", 0);
      Object b = invoke(lambda, "sr-b", 0);
      Object c = invoke(lambda, "sr-c", 0);
      Object aAgain = invoke(lambda, "sr-a", 0);

      assertTrue(a instanceof InvokeResponse && b instanceof InvokeResponse, a + " " + b);
      assertEquals("ConcurrentInvocationLimitExceeded", ((TooManyRequestsException) c).reasonAsString());
      assertNull(((InvokeResponse) aAgain).functionError(), body((InvokeResponse) aAgain));
    }
  }

  private static TestNode node(String config) throws Exception {
    return TestNode.start(Files.createTempDirectory("lamina-scaling-"), true, ConfigFactory.parseString(config));
  }

  private static Object invoke(LambdaClient lambda, String function, double seconds) {
    try {
      return lambda.invoke(b -> b.functionName(function)
          .payload(SdkBytes.fromUtf8String("{\"seconds\":" + seconds + "}")));
    } catch (TooManyRequestsException e) {
      return e;
    }
  }

  private static List<Object> concurrently(LambdaClient lambda, String function, int n, double seconds)
      throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(n);
    try {
      List<Future<Object>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        futures.add(clients.submit(() -> invoke(lambda, function, seconds)));
      }
      List<Object> out = new ArrayList<>();
      for (Future<Object> f : futures) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      clients.shutdownNow();
      clients.awaitTermination(30, TimeUnit.SECONDS);
    }
  }
}
