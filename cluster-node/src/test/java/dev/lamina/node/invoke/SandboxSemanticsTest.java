package dev.lamina.node.invoke;

import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Functions.invoke;
import static dev.lamina.node.testing.Functions.log;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * What a Lambda user relies on about execution environments: warm reuse, one invocation per
 * sandbox, and how timeouts, crashes, handler errors and init errors surface — with no process
 * left behind.
 */
@ExtendWith(NodePerClass.class)
class SandboxSemanticsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  static TestNode node;
  static LambdaClient lambda;
  private static SdkBytes probe;

  @BeforeAll
  static void createFixtures() {
    probe = Examples.zipOf("python/probe");
  }

  @Test
  void warmInvocationSeesTheGlobalsAndTmpFilesOfThePreviousOne() throws Exception {
    create(lambda, "warm", "python3.11", "probe.warm", probe);

    JsonNode first = JSON.readTree(body(invoke(lambda, "warm", "{}")));
    JsonNode second = JSON.readTree(body(invoke(lambda, "warm", "{}")));

    assertEquals(1, first.get("counter").asInt());
    assertEquals(2, second.get("counter").asInt());
    assertEquals(2, second.get("tmp").asInt(), "the /tmp file written by the first invocation is still there");
    assertEquals(first.get("sandbox").asText(), second.get("sandbox").asText());
  }

  @Test
  void twoConcurrentInvocationsOfASlowFunctionGetTwoSandboxes() throws Exception {
    create(lambda, "slow", "python3.11", "probe.sleep", probe, 10, Map.of());

    CompletableFuture<InvokeResponse> a = CompletableFuture.supplyAsync(() -> invoke(lambda, "slow", "{\"seconds\":1.5}"));
    CompletableFuture<InvokeResponse> b = CompletableFuture.supplyAsync(() -> invoke(lambda, "slow", "{\"seconds\":1.5}"));
    JsonNode ra = JSON.readTree(body(a.get()));
    JsonNode rb = JSON.readTree(body(b.get()));

    assertNotEquals(ra.get("sandbox").asText(), rb.get("sandbox").asText(), "each ran in its own environment");
    assertTrue(log(a.get()).contains("Init Duration") && log(b.get()).contains("Init Duration"), "both were cold");
  }

  @Test
  void timeoutKillsTheSandboxAndReportsSandboxTimedout() throws Exception {
    // Its own code digest, so that only this function's sandboxes run this code.
    create(lambda, "sleepy", "python3.11", "probe.sleep",
        Examples.zipOf("python/probe", Map.of("marker.txt", "sleepy")), 1, Map.of());
    String codeSha = lambda.getFunctionConfiguration(b -> b.functionName("sleepy")).codeSha256();

    InvokeResponse timedOut = invoke(lambda, "sleepy", "{\"seconds\":30}");

    assertEquals(200, timedOut.statusCode());
    assertEquals("Unhandled", timedOut.functionError());
    JsonNode error = JSON.readTree(body(timedOut));
    assertEquals("Sandbox.Timedout", error.get("errorType").asText());
    assertTrue(error.get("errorMessage").asText().matches(
        "RequestId: [0-9a-f-]{36} Error: Task timed out after 1\\.00 seconds"), error.toString());
    assertTrue(log(timedOut).contains("Task timed out after 1.00 seconds"), log(timedOut));
    java.util.regex.Matcher memory = java.util.regex.Pattern.compile("Max Memory Used: (\\d+) MB").matcher(log(timedOut));
    assertTrue(memory.find() && Integer.parseInt(memory.group(1)) < 128,
        "the REPORT shows what the runtime really used, measured before the kill: " + log(timedOut));
    assertTrue(Processes.awaitNoneRunning(node.dataDir(), codeSha, java.time.Duration.ofSeconds(10)),
        "no process of the timed-out sandbox is left");

    InvokeResponse next = invoke(lambda, "sleepy", "{\"seconds\":0}");
    assertNull(next.functionError(), body(next));
    assertTrue(log(next).contains("Init Duration"), "a timed-out sandbox is never reused: the next call is cold");
  }

  @Test
  void runtimeCrashIsReportedAsRuntimeExitErrorAndTheSandboxIsReplaced() throws Exception {
    create(lambda, "crasher", "python3.11", "probe.crash", probe);

    InvokeResponse crashed = invoke(lambda, "crasher", "{\"code\":3}");

    assertEquals("Unhandled", crashed.functionError());
    JsonNode error = JSON.readTree(body(crashed));
    assertEquals("Runtime.ExitError", error.get("errorType").asText());
    assertTrue(error.get("errorMessage").asText().matches(
        "RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3"), error.toString());
    assertTrue(log(crashed).contains("about to crash"), log(crashed));

    InvokeResponse again = invoke(lambda, "crasher", "{\"code\":0}");
    assertTrue(JSON.readTree(body(again)).get("errorMessage").asText().endsWith(
        "Error: Runtime exited without providing a reason"), body(again));
    assertTrue(log(again).contains("Init Duration"), "a crashed sandbox is never reused");
  }

  @Test
  void handlerExceptionIsAnUnhandledFunctionErrorAndTheSandboxStaysWarm() throws Exception {
    create(lambda, "failing", "python3.11", "probe.fail", probe);

    InvokeResponse failed = invoke(lambda, "failing", "{\"message\":\"bad input\"}");
    InvokeResponse again = invoke(lambda, "failing", "{\"message\":\"still bad\"}");

    assertEquals(200, failed.statusCode());
    assertEquals("Unhandled", failed.functionError());
    JsonNode error = JSON.readTree(body(failed));
    assertEquals("ValueError", error.get("errorType").asText());
    assertEquals("bad input", error.get("errorMessage").asText());
    assertTrue(error.get("stackTrace").isArray() && error.get("stackTrace").size() > 0, error.toString());
    assertFalse(log(again).contains("Init Duration"), "a handler error does not cost the environment");
  }

  @Test
  void missingHandlerFunctionIsReportedAsHandlerNotFound() throws Exception {
    create(lambda, "no-such-handler", "python3.11", "probe.nothere", probe);

    InvokeResponse response = invoke(lambda, "no-such-handler", "{}");

    assertEquals("Unhandled", response.functionError());
    JsonNode error = JSON.readTree(body(response));
    assertEquals("Runtime.HandlerNotFound", error.get("errorType").asText());
    assertEquals("Handler 'nothere' missing on module 'probe'", error.get("errorMessage").asText());
  }

  @Test
  void importFailureIsReportedAsImportModuleError() throws Exception {
    create(lambda, "broken-import", "python3.11", "broken_import.handler", probe);

    InvokeResponse response = invoke(lambda, "broken-import", "{}");

    assertEquals("Unhandled", response.functionError());
    JsonNode error = JSON.readTree(body(response));
    assertEquals("Runtime.ImportModuleError", error.get("errorType").asText());
    assertEquals("Unable to import module 'broken_import': No module named 'this_module_does_not_exist'",
        error.get("errorMessage").asText());
    assertTrue(log(response).contains("Runtime.ImportModuleError: Unable to import module 'broken_import'"),
        "the log tail shows what the runtime said during init: " + log(response));
    assertTrue(log(response).contains("INIT_REPORT Init Duration: "), log(response));
  }

  @Test
  void customRuntimeWithoutBootstrapIsAnInvalidEntrypoint() throws Exception {
    create(lambda, "no-bootstrap", "provided.al2023", "x", SdkBytes.fromByteArray(
        Examples.zip(Map.of("README", "no bootstrap here"))));

    InvokeResponse response = invoke(lambda, "no-bootstrap", "{}");

    assertEquals("Unhandled", response.functionError());
    assertEquals("Runtime.InvalidEntrypoint", JSON.readTree(body(response)).get("errorType").asText());
  }

  @Test
  void responseOverSixMegabytesBecomesFunctionResponseSizeTooLarge() throws Exception {
    create(lambda, "big", "python3.11", "probe.big", probe, 10, Map.of());

    InvokeResponse tooBig = invoke(lambda, "big", "{\"bytes\":6300000}");
    InvokeResponse fits = invoke(lambda, "big", "{\"bytes\":6000000}");

    assertEquals("Unhandled", tooBig.functionError());
    JsonNode error = JSON.readTree(body(tooBig));
    assertEquals("Function.ResponseSizeTooLarge", error.get("errorType").asText());
    assertEquals("Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        error.get("errorMessage").asText());
    assertNull(fits.functionError(), body(fits).substring(0, Math.min(300, body(fits).length())));
    assertEquals(6000002, fits.payload().asByteArray().length, "a 6 MB JSON string comes back whole");
  }

  @Test
  void runtimeSeesLambdaEnvironmentContextAndClientContext() throws Exception {
    create(lambda, "envprobe", "python3.11", "probe.env", probe, 5, Map.of("GREETING", "hi"));
    String clientContext = Base64.getEncoder().encodeToString(
        "{\"custom\":{\"tenant\":\"acme\"}}".getBytes(StandardCharsets.UTF_8));

    InvokeResponse response = lambda.invoke(b -> b.functionName("envprobe").clientContext(clientContext)
        .payload(SdkBytes.fromUtf8String("{}")));

    JsonNode r = JSON.readTree(body(response));
    JsonNode env = r.get("environment");
    assertEquals("hi", env.get("GREETING").asText());
    assertEquals("envprobe", env.get("AWS_LAMBDA_FUNCTION_NAME").asText());
    assertEquals("128", env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").asText());
    assertEquals("$LATEST", env.get("AWS_LAMBDA_FUNCTION_VERSION").asText());
    assertEquals("/aws/lambda/envprobe", env.get("AWS_LAMBDA_LOG_GROUP_NAME").asText());
    assertTrue(env.get("AWS_LAMBDA_LOG_STREAM_NAME").asText().matches("\\d{4}/\\d\\d/\\d\\d/\\[\\$LATEST][0-9a-f]{32}"));
    assertEquals("probe.env", env.get("_HANDLER").asText());
    assertEquals("us-east-1", env.get("AWS_REGION").asText());
    assertEquals("AWS_Lambda_python3.11", env.get("AWS_EXECUTION_ENV").asText());
    assertTrue(env.get("AWS_LAMBDA_RUNTIME_API").asText().startsWith("127.0.0.1:"));
    assertEquals(":UTC", env.get("TZ").asText());
    assertFalse(env.has("HOME") && env.get("HOME").asText().equals(System.getenv("HOME")) && env.has("MAVEN_OPTS"),
        "the node's own environment does not leak into sandboxes");
    JsonNode context = r.get("context");
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:envprobe", context.get("invoked_function_arn").asText());
    assertEquals(128, context.get("memory_limit_in_mb").asInt());
    assertTrue(context.get("remaining_ms").asLong() > 0 && context.get("remaining_ms").asLong() <= 5000);
    assertEquals("acme", context.get("client_context_custom").get("tenant").asText());
    assertEquals(response.responseMetadata().requestId(), context.get("aws_request_id").asText());
  }

  @Test
  void updatedCodeIsServedByNewSandboxesOnly() throws Exception {
    create(lambda, "versioned", "python3.11", "app.handler", SdkBytes.fromByteArray(
        Examples.zip(Map.of("app.py", "def handler(e, c):\n    return 'v1'\n"))));
    assertEquals("\"v1\"", body(invoke(lambda, "versioned", "{}")));

    lambda.updateFunctionCode(b -> b.functionName("versioned").zipFile(SdkBytes.fromByteArray(
        Examples.zip(Map.of("app.py", "def handler(e, c):\n    return 'v2'\n")))));

    assertEquals("\"v2\"", body(invoke(lambda, "versioned", "{}")));
  }

  @Test
  void invocationsNeverHangOrFailWhenIdleSandboxesDieUnderThem() throws Exception {
    // Each sandbox answers, then its process exits on its own while idle: invocations routed to
    // a dying sandbox must be re-routed (or report the crash), never lost or answered with a 5xx.
    create(lambda, "short-lived", "python3.11", "probe.exit_soon", probe);
    java.util.List<CompletableFuture<java.util.List<InvokeResponse>>> clients = new java.util.ArrayList<>();
    for (int c = 0; c < 3; c++) {
      clients.add(CompletableFuture.supplyAsync(() -> {
        java.util.List<InvokeResponse> responses = new java.util.ArrayList<>();
        for (int i = 0; i < 15; i++) {
          responses.add(invoke(lambda, "short-lived", "{\"after\": 0.02}"));
        }
        return responses;
      }));
    }

    for (CompletableFuture<java.util.List<InvokeResponse>> client : clients) {
      for (InvokeResponse r : client.get(120, java.util.concurrent.TimeUnit.SECONDS)) {
        assertEquals(200, r.statusCode());
        if (r.functionError() != null) {
          assertEquals("Runtime.ExitError", JSON.readTree(body(r)).get("errorType").asText(), body(r));
        }
      }
    }
  }

  @Test
  void runtimeThatAbandonsItsLongPollStillGetsTheInvocationOnItsNextPoll() throws Exception {
    create(lambda, "impatient", "provided.al2023", "x", Examples.zipOf("provided/impatient"));
    assertNull(invoke(lambda, "impatient", "{\"n\":1}").functionError());
    Thread.sleep(1800);  // the runtime abandons a few long polls meanwhile

    InvokeResponse later = invoke(lambda, "impatient", "{\"n\":2}");

    assertNull(later.functionError(), body(later));
    JsonNode r = JSON.readTree(body(later));
    assertEquals(2, r.get("event").get("n").asInt());
    assertTrue(r.get("polls").asInt() > 2, "the runtime did give up on earlier polls: " + r);
  }

  @Test
  void deletingAFunctionStopsItsWarmSandboxesRightAway() throws Exception {
    create(lambda, "doomed", "python3.11", "probe.warm", Examples.zipOf("python/probe", Map.of("marker.txt", "doomed")));
    String codeSha = lambda.getFunctionConfiguration(b -> b.functionName("doomed")).codeSha256();
    invoke(lambda, "doomed", "{}");
    assertTrue(Processes.runningCode(node.dataDir(), codeSha) > 0, "a warm sandbox runs after the invoke");

    lambda.deleteFunction(b -> b.functionName("doomed"));

    assertTrue(Processes.awaitNoneRunning(node.dataDir(), codeSha, java.time.Duration.ofSeconds(10)),
        "the deleted function's sandbox was stopped, not left until its keep-alive expires");
  }
}
