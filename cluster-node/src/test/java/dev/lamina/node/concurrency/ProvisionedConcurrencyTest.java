package dev.lamina.node.concurrency;

import static dev.lamina.node.testing.Functions.ROLE;
import static dev.lamina.node.testing.Functions.log;
import static dev.lamina.node.testing.Refusals.assertError;
import static dev.lamina.node.testing.Refusals.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.TestNode;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.GetProvisionedConcurrencyConfigResponse;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ListProvisionedConcurrencyConfigsResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyStatusEnum;
import software.amazon.awssdk.services.lambda.model.PutProvisionedConcurrencyConfigResponse;

/**
 * Provisioned concurrency through the SDK: sandboxes initialised ahead of traffic for a published
 * version or alias, used first (no Init Duration), re-created when they die, and the config
 * operations with their validation.
 */
@ExtendWith(NodePerClass.class)
class ProvisionedConcurrencyTest {

  private static final String HANDLER = ""
      + "import os, uuid\n"
      + "SANDBOX = str(uuid.uuid4())\n"
      + "def handler(event, context):\n"
      + "    if event.get('crash'):\n"
      + "        os._exit(3)\n"
      + "    return {'sandbox': SANDBOX, 'init': os.environ.get('AWS_LAMBDA_INITIALIZATION_TYPE'),\n"
      + "            'version': context.function_version}\n";

  static TestNode node;
  static LambdaClient lambda;

  @Test
  void provisionedSandboxesAreReadyAheadOfTrafficAndServeWithoutInitDuration() throws Exception {
    publishedFunction("pc-ready");

    PutProvisionedConcurrencyConfigResponse put = lambda.putProvisionedConcurrencyConfig(b -> b
        .functionName("pc-ready").qualifier("1").provisionedConcurrentExecutions(2));
    GetProvisionedConcurrencyConfigResponse ready = awaitReady("pc-ready", "1", 2);
    InvokeResponse first = invoke("pc-ready", "1", "{}");
    InvokeResponse second = invoke("pc-ready", "1", "{}");

    assertEquals(202, put.sdkHttpResponse().statusCode());
    assertEquals(2, put.requestedProvisionedConcurrentExecutions());
    assertTrue(put.lastModified().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+0000"), put.lastModified());
    assertEquals(2, ready.allocatedProvisionedConcurrentExecutions());
    assertEquals(2, ready.availableProvisionedConcurrentExecutions());
    for (InvokeResponse r : new InvokeResponse[] {first, second}) {
      assertEquals("provisioned-concurrency", Functions.json(r).get("init").asText());
      assertFalse(log(r).contains("Init Duration"), log(r));
      assertTrue(log(r).contains("REPORT RequestId"), log(r));
    }
  }

  @Test
  void anAliasGetsItsProvisionedConcurrencyAndTheListShowsItsArn() {
    publishedFunction("pc-alias");
    lambda.createAlias(b -> b.functionName("pc-alias").name("live").functionVersion("1"));

    lambda.putProvisionedConcurrencyConfig(b -> b.functionName("pc-alias").qualifier("live")
        .provisionedConcurrentExecutions(1));
    awaitReady("pc-alias", "live", 1);
    ListProvisionedConcurrencyConfigsResponse listed = lambda.listProvisionedConcurrencyConfigs(b -> b
        .functionName("pc-alias"));
    InvokeResponse viaAlias = invoke("pc-alias", "live", "{}");

    assertEquals(1, listed.provisionedConcurrencyConfigs().size());
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:pc-alias:live",
        listed.provisionedConcurrencyConfigs().get(0).functionArn());
    assertEquals(ProvisionedConcurrencyStatusEnum.READY, listed.provisionedConcurrencyConfigs().get(0).status());
    assertEquals("provisioned-concurrency", Functions.json(viaAlias).get("init").asText());
    assertEquals("1", viaAlias.executedVersion());
  }

  @Test
  void aProvisionedSandboxThatDiesIsReplaced() throws Exception {
    publishedFunction("pc-replace");
    lambda.putProvisionedConcurrencyConfig(b -> b.functionName("pc-replace").qualifier("1")
        .provisionedConcurrentExecutions(1));
    awaitReady("pc-replace", "1", 1);
    String before = Functions.json(invoke("pc-replace", "1", "{}")).get("sandbox").asText();

    InvokeResponse crashed = invoke("pc-replace", "1", "{\"crash\":true}");
    GetProvisionedConcurrencyConfigResponse again = awaitReady("pc-replace", "1", 1);
    JsonNode after = Functions.json(invoke("pc-replace", "1", "{}"));

    assertEquals("Unhandled", crashed.functionError());
    assertEquals(1, again.allocatedProvisionedConcurrentExecutions());
    assertEquals("provisioned-concurrency", after.get("init").asText(), "the replacement is provisioned too");
    assertTrue(!after.get("sandbox").asText().equals(before), "a new execution environment");
  }

  @Test
  void deletingTheConfigEndsItAndGetThenReportsNone() {
    publishedFunction("pc-delete");
    lambda.putProvisionedConcurrencyConfig(b -> b.functionName("pc-delete").qualifier("1")
        .provisionedConcurrentExecutions(1));

    int status = lambda.deleteProvisionedConcurrencyConfig(b -> b.functionName("pc-delete").qualifier("1"))
        .sdkHttpResponse().statusCode();
    LambdaException gone = refused(() -> lambda.getProvisionedConcurrencyConfig(b -> b.functionName("pc-delete")
        .qualifier("1")));

    assertEquals(204, status);
    assertError(gone, 404, "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function");
    assertEquals("on-demand", Functions.json(invoke("pc-delete", "1", "{}")).get("init").asText());
  }

  @Test
  void provisionedConcurrencyNeedsAPublishedVersionOrAliasAndAtLeastOne() {
    publishedFunction("pc-invalid");

    LambdaException latest = refused(() -> lambda.putProvisionedConcurrencyConfig(b -> b.functionName("pc-invalid")
        .qualifier("$LATEST").provisionedConcurrentExecutions(1)));
    LambdaException zero = refused(() -> lambda.putProvisionedConcurrencyConfig(b -> b.functionName("pc-invalid")
        .qualifier("1").provisionedConcurrentExecutions(0)));
    LambdaException missingVersion = refused(() -> lambda.putProvisionedConcurrencyConfig(b -> b
        .functionName("pc-invalid").qualifier("7").provisionedConcurrentExecutions(1)));

    assertError(latest, 400, "InvalidParameterValueException",
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
    assertError(zero, 400, "ValidationException", "1 validation error detected: Value '0' at "
        + "'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or "
        + "equal to 1");
    assertError(missingVersion, 404, "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:pc-invalid:7");
    assertTrue(lambda.listProvisionedConcurrencyConfigs(b -> b.functionName("pc-invalid"))
        .provisionedConcurrencyConfigs().isEmpty());
  }

  @Test
  void provisionedConcurrencyMustFitTheReservationOrWhatTheAccountLeavesUnreserved() {
    publishedFunction("pc-limits");

    LambdaException overUnreserved = refused(() -> lambda.putProvisionedConcurrencyConfig(b -> b
        .functionName("pc-limits").qualifier("1").provisionedConcurrentExecutions(901)));
    lambda.putFunctionConcurrency(b -> b.functionName("pc-limits").reservedConcurrentExecutions(2));
    LambdaException overReserved = refused(() -> lambda.putProvisionedConcurrencyConfig(b -> b
        .functionName("pc-limits").qualifier("1").provisionedConcurrentExecutions(3)));
    lambda.deleteFunctionConcurrency(b -> b.functionName("pc-limits"));

    assertError(overUnreserved, 400, "InvalidParameterValueException", "Specified ConcurrentExecutions for function "
        + "is greater than account's unreserved concurrency [900].");
    assertError(overReserved, 400, "InvalidParameterValueException", "Requested Provisioned Concurrency should not "
        + "be greater than the reservedConcurrentExecution for function");
    assertTrue(lambda.listProvisionedConcurrencyConfigs(b -> b.functionName("pc-limits"))
        .provisionedConcurrencyConfigs().isEmpty(), "nothing was configured");
  }

  @Test
  void withLambdasDefaultsAReservationMustLeaveOneHundredUnreserved() {
    publishedFunction("pc-reserve");

    LambdaException belowMinimum = refused(() -> lambda.putFunctionConcurrency(b -> b.functionName("pc-reserve")
        .reservedConcurrentExecutions(901)));
    LambdaException overLimit = refused(() -> lambda.putFunctionConcurrency(b -> b.functionName("pc-reserve")
        .reservedConcurrentExecutions(1001)));
    int allowed = lambda.putFunctionConcurrency(b -> b.functionName("pc-reserve").reservedConcurrentExecutions(900))
        .reservedConcurrentExecutions();
    lambda.deleteFunctionConcurrency(b -> b.functionName("pc-reserve"));

    assertError(belowMinimum, 400, "InvalidParameterValueException", "Specified ReservedConcurrentExecutions for "
        + "function decreases account's UnreservedConcurrentExecution below its minimum value of [100].");
    assertError(overLimit, 400, "InvalidParameterValueException", "Specified ConcurrentExecutions for function is "
        + "greater than account's unreserved concurrency [1000].");
    assertEquals(900, allowed);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static void publishedFunction(String name) {
    lambda.createFunction(b -> b.functionName(name).runtime("python3.12").handler("app.handler").role(ROLE)
        .publish(true).code(c -> c.zipFile(SdkBytes.fromByteArray(Examples.zip(Map.of("app.py", HANDLER))))));
  }

  private static InvokeResponse invoke(String name, String qualifier, String payload) {
    return lambda.invoke(b -> b.functionName(name).qualifier(qualifier).logType(LogType.TAIL)
        .payload(SdkBytes.fromUtf8String(payload)));
  }

  /** Polls the config (bounded: 30 s) until it is READY with {@code allocated} sandboxes. */
  private static GetProvisionedConcurrencyConfigResponse awaitReady(String name, String qualifier, int allocated) {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    GetProvisionedConcurrencyConfigResponse last;
    do {
      last = lambda.getProvisionedConcurrencyConfig(b -> b.functionName(name).qualifier(qualifier));
      if (last.status() == ProvisionedConcurrencyStatusEnum.READY
          && last.allocatedProvisionedConcurrentExecutions() == allocated) {
        return last;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    } while (Instant.now().isBefore(deadline));
    throw new AssertionError("not READY with " + allocated + " within 30 s: " + last);
  }
}
