package dev.lamina.node.concurrency;

import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Refusals.assertError;
import static dev.lamina.node.testing.Refusals.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.GetAccountSettingsResponse;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/**
 * Concurrency accounting on a node whose account may run 5 invocations at once (1 must stay
 * unreserved): the account limit, reserved concurrency as guarantee and cap, reserved 0, and the
 * concurrency APIs with their validation. Concurrency is invocations in flight, not sandboxes.
 */
class ConcurrencyLimitsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestNode node;
  private static LambdaClient lambda;
  private static ExecutorService clients;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(Files.createTempDirectory("lamina-concurrency-"), true, ConfigFactory.parseString(
        "lamina.concurrency.account-limit = 5\nlamina.concurrency.min-unreserved = 1\n"
            + "lamina.concurrency.lease-window = 100 ms\n"));
    lambda = node.lambda();
    clients = Executors.newFixedThreadPool(12);
  }

  @AfterAll
  static void stop() throws Exception {
    clients.shutdownNow();
    clients.awaitTermination(30, TimeUnit.SECONDS);
    node.close();
  }

  /**
   * Units the previous test's functions no longer need return within two lease windows (the
   * documented bound): wait that long so each test starts with the whole account free.
   */
  @BeforeEach
  void letLeasesOfThePreviousTestReturn() throws InterruptedException {
    Thread.sleep(300);
  }

  @Test
  void tenSimultaneousSlowInvocationsOnAnAccountOfFiveRunFiveAndThrottleFive() throws Exception {
    create(lambda, "cl-account", "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30, Map.of());

    List<Object> outcomes = concurrently(10, () -> invokeSleeping("cl-account", 2));

    List<Object> ran = outcomes.stream().filter(o -> o instanceof InvokeResponse).toList();
    List<Object> throttled = outcomes.stream().filter(o -> o instanceof TooManyRequestsException).toList();
    assertEquals(5, ran.size(), outcomes.toString());
    assertEquals(5, throttled.size(), outcomes.toString());
    for (Object o : throttled) {
      TooManyRequestsException e = (TooManyRequestsException) o;
      assertEquals(429, e.statusCode());
      assertEquals("ConcurrentInvocationLimitExceeded", e.reasonAsString());
      assertEquals("Rate Exceeded.", e.awsErrorDetails().errorMessage());
      assertEquals("1", e.retryAfterSeconds());
    }
    for (Object o : ran) {
      assertNull(((InvokeResponse) o).functionError(), body((InvokeResponse) o));
    }
  }

  @Test
  void reservedConcurrencyZeroDisablesTheFunction() {
    create(lambda, "cl-zero", "python3.12", "probe.echo", Examples.zipOf("python/probe"));
    lambda.putFunctionConcurrency(b -> b.functionName("cl-zero").reservedConcurrentExecutions(0));

    LambdaException e = refused(() -> lambda.invoke(b -> b.functionName("cl-zero")
        .payload(SdkBytes.fromUtf8String("{}"))));

    assertError(e, 429, "TooManyRequestsException", "Rate Exceeded.");
    assertEquals("ReservedFunctionConcurrentInvocationLimitExceeded", ((TooManyRequestsException) e).reasonAsString());
    lambda.deleteFunctionConcurrency(b -> b.functionName("cl-zero"));
    assertEquals("{}", body(lambda.invoke(b -> b.functionName("cl-zero").payload(SdkBytes.fromUtf8String("{}")))),
        "enabled again once the reservation is removed");
  }

  @Test
  void reservedConcurrencyIsKeptForItsFunctionWhileAnotherSaturatesTheAccount() throws Exception {
    create(lambda, "cl-reserved", "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30, Map.of());
    create(lambda, "cl-greedy", "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30, Map.of());
    lambda.putFunctionConcurrency(b -> b.functionName("cl-reserved").reservedConcurrentExecutions(3));
    try {
      List<Future<Object>> greedy = submit(6, () -> invokeSleeping("cl-greedy", 3));
      Thread.sleep(800);   // the greedy function holds the unreserved pool (5 - 3 = 2)

      List<Object> reserved = concurrently(4, () -> invokeSleeping("cl-reserved", 1));

      assertEquals(3, reserved.stream().filter(o -> o instanceof InvokeResponse).count(), reserved.toString());
      TooManyRequestsException over = (TooManyRequestsException) reserved.stream()
          .filter(o -> o instanceof TooManyRequestsException).findFirst().orElseThrow();
      assertEquals("ReservedFunctionConcurrentInvocationLimitExceeded", over.reasonAsString());
      List<Object> greedyOutcomes = results(greedy);
      assertEquals(2, greedyOutcomes.stream().filter(o -> o instanceof InvokeResponse).count(),
          greedyOutcomes.toString());
      assertTrue(greedyOutcomes.stream().filter(o -> o instanceof TooManyRequestsException)
          .allMatch(o -> ((TooManyRequestsException) o).reasonAsString().equals("ConcurrentInvocationLimitExceeded")));
    } finally {
      lambda.deleteFunctionConcurrency(b -> b.functionName("cl-reserved"));
    }
  }

  @Test
  void aThirdInvocationAfterTheFirstFinishedReusesItsSandbox() throws Exception {
    create(lambda, "cl-seed", "python3.12", "probe.sleep", Examples.zipOf("python/probe"), 30, Map.of());
    List<Future<Object>> first = submit(1, () -> invokeSleeping("cl-seed", 1));
    Thread.sleep(300);
    List<Future<Object>> second = submit(1, () -> invokeSleeping("cl-seed", 3));
    String a = sandboxOf(results(first).get(0));

    String third = sandboxOf(invokeSleeping("cl-seed", 0));

    String b = sandboxOf(results(second).get(0));
    assertNotEquals(a, b, "two concurrent invocations ran in two sandboxes");
    assertEquals(a, third, "the third reused sandbox A, free again, while B was still busy");
  }

  @Test
  void concurrencyApisShowTheReservationAndTheAccountSettingsWhatIsLeft() {
    create(lambda, "cl-apis", "python3.12", "probe.echo", Examples.zipOf("python/probe"));

    assertNull(lambda.getFunctionConcurrency(b -> b.functionName("cl-apis")).reservedConcurrentExecutions());
    int put = lambda.putFunctionConcurrency(b -> b.functionName("cl-apis").reservedConcurrentExecutions(2))
        .reservedConcurrentExecutions();
    GetAccountSettingsResponse settings = lambda.getAccountSettings();
    int got = lambda.getFunctionConcurrency(b -> b.functionName("cl-apis")).reservedConcurrentExecutions();
    int shown = lambda.getFunction(b -> b.functionName("cl-apis")).concurrency().reservedConcurrentExecutions();
    int deleteStatus = lambda.deleteFunctionConcurrency(b -> b.functionName("cl-apis")).sdkHttpResponse().statusCode();

    assertEquals(2, put);
    assertEquals(2, got);
    assertEquals(2, shown);
    assertEquals(5, settings.accountLimit().concurrentExecutions());
    assertEquals(3, settings.accountLimit().unreservedConcurrentExecutions());
    assertEquals(204, deleteStatus);
    assertNull(lambda.getFunctionConcurrency(b -> b.functionName("cl-apis")).reservedConcurrentExecutions());
    assertEquals(5, lambda.getAccountSettings().accountLimit().unreservedConcurrentExecutions());
  }

  @Test
  void aReservationMustLeaveTheUnreservedMinimum() {
    create(lambda, "cl-too-much", "python3.12", "probe.echo", Examples.zipOf("python/probe"));

    LambdaException belowMinimum = refused(() -> lambda.putFunctionConcurrency(b -> b.functionName("cl-too-much")
        .reservedConcurrentExecutions(5)));
    LambdaException overLimit = refused(() -> lambda.putFunctionConcurrency(b -> b.functionName("cl-too-much")
        .reservedConcurrentExecutions(6)));
    LambdaException negative = refused(() -> lambda.putFunctionConcurrency(b -> b.functionName("cl-too-much")
        .reservedConcurrentExecutions(-1)));
    LambdaException missing = refused(() -> lambda.putFunctionConcurrency(b -> b.functionName("cl-missing")
        .reservedConcurrentExecutions(1)));

    assertError(belowMinimum, 400, "InvalidParameterValueException", "Specified ReservedConcurrentExecutions for "
        + "function decreases account's UnreservedConcurrentExecution below its minimum value of [1].");
    assertError(overLimit, 400, "InvalidParameterValueException", "Specified ConcurrentExecutions for function is "
        + "greater than account's unreserved concurrency [5].");
    assertError(negative, 400, "ValidationException", "1 validation error detected: Value '-1' at "
        + "'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or "
        + "equal to 0");
    assertError(missing, 404, "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:cl-missing");
    assertNull(lambda.getFunctionConcurrency(b -> b.functionName("cl-too-much")).reservedConcurrentExecutions());
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static Object invokeSleeping(String function, double seconds) {
    try {
      return lambda.invoke(b -> b.functionName(function)
          .payload(SdkBytes.fromUtf8String("{\"seconds\":" + seconds + "}")));
    } catch (TooManyRequestsException e) {
      return e;
    }
  }

  private static String sandboxOf(Object outcome) throws Exception {
    JsonNode result = JSON.readTree(body((InvokeResponse) outcome));
    return result.get("sandbox").asText();
  }

  private static List<Object> concurrently(int n, Callable<Object> call) throws Exception {
    return results(submit(n, call));
  }

  private static List<Future<Object>> submit(int n, Callable<Object> call) {
    List<Future<Object>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      futures.add(clients.submit(call));
    }
    return futures;
  }

  private static List<Object> results(List<Future<Object>> futures) throws Exception {
    List<Object> out = new ArrayList<>();
    for (Future<Object> f : futures) {
      out.add(f.get(60, TimeUnit.SECONDS));
    }
    return out;
  }
}
