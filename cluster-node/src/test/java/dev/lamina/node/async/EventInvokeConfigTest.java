package dev.lamina.node.async;

import static dev.lamina.node.async.AsyncFixture.FUNCTION_ARN;
import static dev.lamina.node.async.AsyncFixture.QUEUE_ARN;
import static dev.lamina.node.async.AsyncFixture.REPORTER;
import static dev.lamina.node.async.AsyncFixture.createQueue;
import static dev.lamina.node.async.AsyncFixture.json;
import static dev.lamina.node.testing.Refusals.assertError;
import static dev.lamina.node.testing.Refusals.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.DeleteFunctionEventInvokeConfigResponse;
import software.amazon.awssdk.services.lambda.model.FunctionEventInvokeConfig;
import software.amazon.awssdk.services.lambda.model.GetFunctionEventInvokeConfigResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ListFunctionEventInvokeConfigsResponse;
import software.amazon.awssdk.services.lambda.model.PutFunctionEventInvokeConfigRequest;
import software.amazon.awssdk.services.lambda.model.PutFunctionEventInvokeConfigResponse;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionEventInvokeConfigResponse;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s) through the AWS SDK (contract §1.5): the
 * shapes Lambda answers (qualified FunctionArn, both destination halves, LastModified), Put
 * replacing and Update merging, pages, every refusal with its exact status, code and message,
 * configs leaving with their alias or version, and configs surviving a restart.
 */
@ExtendWith(NodePerClass.class)
class EventInvokeConfigTest {

  private static final String PATTERN = "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso(b?)))?"
      + "-[a-z]+-\\d{1})?:(\\d{12})?:(.*)";

  static TestNode node;
  static LambdaClient lambda;
  private static SqsClient sqs;

  @BeforeAll
  static void queues() {
    sqs = AsyncFixture.sqs(node);
    createQueue(sqs, "cfg-success");
    createQueue(sqs, "cfg-failure");
    Functions.create(lambda, "cfg-target", "python3.12", "app.handler", REPORTER);
  }

  @AfterAll
  static void closeSqs() {
    sqs.close();
  }

  // ---- shapes ----------------------------------------------------------------------------------

  @Test
  void putAnswersTheLatestQualifiedArnBothDestinationHalvesAndLastModified() throws Exception {
    function("cfg-shape");
    Instant before = Instant.now().minusSeconds(1);

    PutFunctionEventInvokeConfigResponse put = lambda.putFunctionEventInvokeConfig(b -> b.functionName("cfg-shape")
        .maximumRetryAttempts(0));

    assertEquals(FUNCTION_ARN + "cfg-shape:$LATEST", put.functionArn());
    assertEquals(0, put.maximumRetryAttempts());
    assertNull(put.maximumEventAgeInSeconds(), "not set, so not shown (no default filled in)");
    assertNotNull(put.destinationConfig().onSuccess(), "present although unset");
    assertNull(put.destinationConfig().onSuccess().destination());
    assertNotNull(put.destinationConfig().onFailure(), "present although unset");
    assertNull(put.destinationConfig().onFailure().destination());
    assertFalse(put.lastModified().isBefore(before), put.lastModified().toString());
    assertFalse(put.lastModified().isAfter(Instant.now().plusSeconds(1)), put.lastModified().toString());

    // On the wire: LastModified is a number of epoch seconds, unset halves are {}.
    HttpResponse<String> raw = SignedHttp.send(SignedHttp.get(node.endpoint()
        + "/2019-09-25/functions/cfg-shape/event-invoke-config"));
    JsonNode body = json(raw.body());
    assertEquals(200, raw.statusCode());
    assertEquals(Set.of("LastModified", "FunctionArn", "MaximumRetryAttempts", "DestinationConfig"),
        fieldNames(body), raw.body());
    assertEquals(json("{\"OnSuccess\":{},\"OnFailure\":{}}"), body.path("DestinationConfig"));
    assertTrue(body.path("LastModified").isNumber(), raw.body());
    assertEquals(put.lastModified().toEpochMilli() / 1000.0, body.path("LastModified").asDouble(), 0.001);
  }

  @Test
  void getReturnsWhatPutStored() {
    function("cfg-get");
    PutFunctionEventInvokeConfigResponse put = lambda.putFunctionEventInvokeConfig(b -> b.functionName("cfg-get")
        .maximumRetryAttempts(1).maximumEventAgeInSeconds(3600)
        .destinationConfig(d -> d.onSuccess(s -> s.destination(QUEUE_ARN + "cfg-success"))
            .onFailure(f -> f.destination(FUNCTION_ARN + "cfg-target"))));

    GetFunctionEventInvokeConfigResponse got = lambda.getFunctionEventInvokeConfig(b -> b.functionName("cfg-get"));

    assertEquals(FUNCTION_ARN + "cfg-get:$LATEST", got.functionArn());
    assertEquals(1, got.maximumRetryAttempts());
    assertEquals(3600, got.maximumEventAgeInSeconds());
    assertEquals(QUEUE_ARN + "cfg-success", got.destinationConfig().onSuccess().destination());
    assertEquals(FUNCTION_ARN + "cfg-target", got.destinationConfig().onFailure().destination());
    assertEquals(put.lastModified(), got.lastModified());
  }

  @Test
  void updateMergesIntoTheConfigAndPutReplacesIt() throws Exception {
    function("cfg-merge");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("cfg-merge").maximumRetryAttempts(2)
        .maximumEventAgeInSeconds(60).destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "cfg-failure"))));
    Thread.sleep(5);  // LastModified has millisecond resolution

    UpdateFunctionEventInvokeConfigResponse updated = lambda.updateFunctionEventInvokeConfig(b -> b
        .functionName("cfg-merge").maximumRetryAttempts(0));
    PutFunctionEventInvokeConfigResponse replaced = lambda.putFunctionEventInvokeConfig(b -> b
        .functionName("cfg-merge").maximumRetryAttempts(1));

    assertEquals(0, updated.maximumRetryAttempts());
    assertEquals(60, updated.maximumEventAgeInSeconds(), "kept by the update");
    assertEquals(QUEUE_ARN + "cfg-failure", updated.destinationConfig().onFailure().destination(), "kept");
    assertEquals(1, replaced.maximumRetryAttempts());
    assertNull(replaced.maximumEventAgeInSeconds(), "Put removes what it does not set");
    assertNull(replaced.destinationConfig().onFailure().destination(), "Put removes what it does not set");
    GetFunctionEventInvokeConfigResponse got = lambda.getFunctionEventInvokeConfig(b -> b.functionName("cfg-merge"));
    assertEquals(1, got.maximumRetryAttempts());
    assertNull(got.maximumEventAgeInSeconds());
    assertNull(got.destinationConfig().onFailure().destination());
    assertFalse(got.lastModified().isBefore(updated.lastModified()));
  }

  @Test
  void deleteAnswers204AndTheConfigIsGone() {
    function("cfg-delete");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("cfg-delete").maximumRetryAttempts(1));

    DeleteFunctionEventInvokeConfigResponse deleted = lambda.deleteFunctionEventInvokeConfig(b -> b
        .functionName("cfg-delete"));

    assertEquals(204, deleted.sdkHttpResponse().statusCode());
    String gone = "The function " + FUNCTION_ARN + "cfg-delete:$LATEST doesn't have an EventInvokeConfig";
    assertError(refused(() -> lambda.getFunctionEventInvokeConfig(b -> b.functionName("cfg-delete"))), 404,
        "ResourceNotFoundException", gone);
    assertError(refused(() -> lambda.deleteFunctionEventInvokeConfig(b -> b.functionName("cfg-delete"))), 404,
        "ResourceNotFoundException", gone);
    assertEquals(List.of(), lambda.listFunctionEventInvokeConfigs(b -> b.functionName("cfg-delete"))
        .functionEventInvokeConfigs());
  }

  @Test
  void versionAndAliasConfigsCarryTheirQualifiedArnWhicheverWayTheFunctionIsNamed() {
    withVersions("cfg-quals", 1);
    lambda.createAlias(b -> b.functionName("cfg-quals").name("live").functionVersion("1"));

    PutFunctionEventInvokeConfigResponse version = lambda.putFunctionEventInvokeConfig(b -> b
        .functionName("cfg-quals").qualifier("1").maximumRetryAttempts(1));
    PutFunctionEventInvokeConfigResponse alias = lambda.putFunctionEventInvokeConfig(b -> b
        .functionName("cfg-quals:live").maximumRetryAttempts(2));
    GetFunctionEventInvokeConfigResponse byArn = lambda.getFunctionEventInvokeConfig(b -> b
        .functionName(FUNCTION_ARN + "cfg-quals").qualifier("live"));
    GetFunctionEventInvokeConfigResponse byVersionArn = lambda.getFunctionEventInvokeConfig(b -> b
        .functionName(FUNCTION_ARN + "cfg-quals:1"));
    LambdaException latest = refused(() -> lambda.getFunctionEventInvokeConfig(b -> b.functionName("cfg-quals")));

    assertEquals(FUNCTION_ARN + "cfg-quals:1", version.functionArn());
    assertEquals(FUNCTION_ARN + "cfg-quals:live", alias.functionArn());
    assertEquals(FUNCTION_ARN + "cfg-quals:live", byArn.functionArn());
    assertEquals(2, byArn.maximumRetryAttempts());
    assertEquals(FUNCTION_ARN + "cfg-quals:1", byVersionArn.functionArn());
    assertEquals(1, byVersionArn.maximumRetryAttempts());
    assertError(latest, 404, "ResourceNotFoundException",
        "The function " + FUNCTION_ARN + "cfg-quals:$LATEST doesn't have an EventInvokeConfig");
  }

  @Test
  void listPagesThroughTheConfigsOfEveryQualifier() {
    withVersions("cfg-list", 2);
    lambda.createAlias(b -> b.functionName("cfg-list").name("live").functionVersion("2"));
    for (String qualifier : List.of("$LATEST", "1", "2", "live")) {
      lambda.putFunctionEventInvokeConfig(b -> b.functionName("cfg-list").qualifier(qualifier)
          .maximumEventAgeInSeconds(120));
    }

    ListFunctionEventInvokeConfigsResponse first = lambda.listFunctionEventInvokeConfigs(b -> b
        .functionName("cfg-list").maxItems(3));
    ListFunctionEventInvokeConfigsResponse second = lambda.listFunctionEventInvokeConfigs(b -> b
        .functionName("cfg-list").maxItems(3).marker(first.nextMarker()));
    ListFunctionEventInvokeConfigsResponse all = lambda.listFunctionEventInvokeConfigs(b -> b
        .functionName("cfg-list"));

    assertEquals(3, first.functionEventInvokeConfigs().size());
    assertNotNull(first.nextMarker());
    assertEquals(1, second.functionEventInvokeConfigs().size());
    assertNull(second.nextMarker(), "the last page has no marker");
    List<String> paged = new ArrayList<>();
    first.functionEventInvokeConfigs().forEach(c -> paged.add(c.functionArn()));
    second.functionEventInvokeConfigs().forEach(c -> paged.add(c.functionArn()));
    assertEquals(Set.of(FUNCTION_ARN + "cfg-list:$LATEST", FUNCTION_ARN + "cfg-list:1", FUNCTION_ARN + "cfg-list:2",
        FUNCTION_ARN + "cfg-list:live"), Set.copyOf(paged));
    assertEquals(4, paged.size(), "no item on two pages");
    assertEquals(paged, all.functionEventInvokeConfigs().stream().map(FunctionEventInvokeConfig::functionArn).toList());
    assertNull(all.nextMarker());
    for (FunctionEventInvokeConfig c : all.functionEventInvokeConfigs()) {
      assertEquals(120, c.maximumEventAgeInSeconds());
      assertNotNull(c.lastModified());
      assertNotNull(c.destinationConfig().onSuccess());
      assertNotNull(c.destinationConfig().onFailure());
    }
  }

  // ---- refusals --------------------------------------------------------------------------------

  @Test
  void outOfRangeRetryAttemptsAndEventAgeAreValidationExceptions() {
    function("cfg-range");

    assertError(refusedPut("cfg-range", b -> b.maximumRetryAttempts(3)), 400, "ValidationException",
        "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: "
            + "Member must have value less than or equal to 2");
    assertError(refusedPut("cfg-range", b -> b.maximumRetryAttempts(-1)), 400, "ValidationException",
        "1 validation error detected: Value '-1' at 'maximumRetryAttempts' failed to satisfy constraint: "
            + "Member must have value greater than or equal to 0");
    assertError(refusedPut("cfg-range", b -> b.maximumEventAgeInSeconds(59)), 400, "ValidationException",
        "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: "
            + "Member must have value greater than or equal to 60");
    assertError(refusedPut("cfg-range", b -> b.maximumEventAgeInSeconds(21601)), 400, "ValidationException",
        "1 validation error detected: Value '21601' at 'maximumEventAgeInSeconds' failed to satisfy constraint: "
            + "Member must have value less than or equal to 21600");
    assertError(refused(() -> lambda.updateFunctionEventInvokeConfig(b -> b.functionName("cfg-range")
        .maximumRetryAttempts(3))), 400, "ValidationException");
    assertError(refused(() -> lambda.getFunctionEventInvokeConfig(b -> b.functionName("cfg-range"))), 404,
        "ResourceNotFoundException");
  }

  @Test
  void aConfigThatSetsNothingIsRefusedEvenForAMissingFunction() {
    function("cfg-empty");
    String message = "You must specify at least one of error handling or destination setting.";

    assertError(refusedPut("cfg-empty", b -> {}), 400, "InvalidParameterValueException", message);
    assertError(refusedPut("cfg-no-such-function", b -> {}), 400, "InvalidParameterValueException", message);
    assertError(refused(() -> lambda.updateFunctionEventInvokeConfig(b -> b.functionName("cfg-empty"))), 400,
        "InvalidParameterValueException", message);
  }

  @Test
  void destinationsMustBeOtherExistingFunctionsOrQueuesOfLamina() {
    function("cfg-dest");

    assertError(refusedPut("cfg-dest", b -> b.destinationConfig(d -> d.onFailure(f -> f.destination(
            FUNCTION_ARN + "cfg-dest")))), 400, "InvalidParameterValueException",
        "You can't specify the function as a destination for itself.");
    assertError(refusedPut("cfg-dest", b -> b.destinationConfig(d -> d.onSuccess(s -> s.destination(
            FUNCTION_ARN + "cfg-nowhere")))), 400, "InvalidParameterValueException",
        "The destination ARN " + FUNCTION_ARN + "cfg-nowhere is invalid.");
    assertError(refusedPut("cfg-dest", b -> b.destinationConfig(d -> d.onFailure(f -> f.destination(
            QUEUE_ARN + "cfg-no-queue")))), 400, "InvalidParameterValueException",
        "The destination ARN " + QUEUE_ARN + "cfg-no-queue is invalid.");
    assertError(refusedPut("cfg-dest", b -> b.destinationConfig(d -> d.onFailure(f -> f.destination(
            "arn:aws:_-/!lambda:us-east-1:000000000000:function:cfg-target")))), 400, "ValidationException",
        "1 validation error detected: Value 'arn:aws:_-/!lambda:us-east-1:000000000000:function:cfg-target' at "
            + "'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular "
            + "expression pattern: " + PATTERN);
    assertError(refusedPut("cfg-dest", b -> b.destinationConfig(d -> d.onSuccess(s -> s.destination(
            "cfg-target")))), 400, "ValidationException",
        "1 validation error detected: Value 'cfg-target' at 'destinationConfig.onSuccess.destination' failed to "
            + "satisfy constraint: Member must satisfy regular expression pattern: " + PATTERN);
    String iam = "arn:aws:iam:us-east-1:000000000000:function:cfg-target";
    assertError(refusedPut("cfg-dest", b -> b.destinationConfig(d -> d.onSuccess(s -> s.destination(iam)))), 400,
        "InvalidParameterValueException", "The provided destination config DestinationConfig(onSuccess=OnSuccess("
            + "destination=" + iam + "), onFailure=null) is invalid.");
    assertError(refused(() -> lambda.getFunctionEventInvokeConfig(b -> b.functionName("cfg-dest"))), 404,
        "ResourceNotFoundException");
  }

  @Test
  void aMissingFunctionOrQualifierIsNotFound() {
    function("cfg-missing");
    String noFunction = "The function doesn't exist.";

    assertError(refusedPut("cfg-ghost", b -> b.maximumRetryAttempts(1)), 404, "ResourceNotFoundException",
        noFunction);
    assertError(refusedPut(FUNCTION_ARN + "cfg-ghost", b -> b.maximumRetryAttempts(1)), 404,
        "ResourceNotFoundException", noFunction);
    assertError(refused(() -> lambda.updateFunctionEventInvokeConfig(b -> b.functionName("cfg-ghost")
        .maximumRetryAttempts(1))), 404, "ResourceNotFoundException", noFunction);
    assertError(refused(() -> lambda.listFunctionEventInvokeConfigs(b -> b.functionName("cfg-ghost"))), 404,
        "ResourceNotFoundException", noFunction);
    assertError(refused(() -> lambda.getFunctionEventInvokeConfig(b -> b.functionName("cfg-ghost"))), 404,
        "ResourceNotFoundException",
        "The function " + FUNCTION_ARN + "cfg-ghost:$LATEST doesn't have an EventInvokeConfig");
    assertError(refused(() -> lambda.deleteFunctionEventInvokeConfig(b -> b.functionName("cfg-ghost"))), 404,
        "ResourceNotFoundException",
        "The function " + FUNCTION_ARN + "cfg-ghost:$LATEST doesn't have an EventInvokeConfig");

    assertError(refusedPut("cfg-missing", b -> b.qualifier("nope").maximumRetryAttempts(1)), 404,
        "ResourceNotFoundException", noFunction);
    assertError(refusedPut("cfg-missing", b -> b.qualifier("7").maximumRetryAttempts(1)), 404,
        "ResourceNotFoundException", noFunction);
    assertError(refused(() -> lambda.getFunctionEventInvokeConfig(b -> b.functionName("cfg-missing")
        .qualifier("nope"))), 404, "ResourceNotFoundException",
        "The function " + FUNCTION_ARN + "cfg-missing:nope doesn't have an EventInvokeConfig");
    assertError(refused(() -> lambda.updateFunctionEventInvokeConfig(b -> b.functionName("cfg-missing")
        .maximumRetryAttempts(1))), 404, "ResourceNotFoundException",
        "The function " + FUNCTION_ARN + "cfg-missing:$LATEST doesn't have an EventInvokeConfig");
    assertError(refusedPut("cfg-missing:live", b -> b.qualifier("other").maximumRetryAttempts(1)), 400,
        "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.");
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  @Test
  void theConfigOfADeletedAliasVersionOrFunctionGoesWithIt() {
    withVersions("cfg-gone", 1);
    lambda.createAlias(b -> b.functionName("cfg-gone").name("live").functionVersion("1"));
    for (String qualifier : List.of("$LATEST", "1", "live")) {
      lambda.putFunctionEventInvokeConfig(b -> b.functionName("cfg-gone").qualifier(qualifier)
          .maximumRetryAttempts(1));
    }

    lambda.deleteAlias(b -> b.functionName("cfg-gone").name("live"));
    lambda.deleteFunction(b -> b.functionName("cfg-gone").qualifier("1"));

    assertEquals(List.of(FUNCTION_ARN + "cfg-gone:$LATEST"), lambda.listFunctionEventInvokeConfigs(b -> b
        .functionName("cfg-gone")).functionEventInvokeConfigs().stream().map(FunctionEventInvokeConfig::functionArn)
        .toList());
    // Created again under the same names, they start without a config.
    lambda.updateFunctionCode(b -> b.functionName("cfg-gone").zipFile(Examples.marked("again")));
    lambda.publishVersion(b -> b.functionName("cfg-gone"));
    lambda.createAlias(b -> b.functionName("cfg-gone").name("live").functionVersion("2"));
    assertError(refused(() -> lambda.getFunctionEventInvokeConfig(b -> b.functionName("cfg-gone")
        .qualifier("live"))), 404, "ResourceNotFoundException",
        "The function " + FUNCTION_ARN + "cfg-gone:live doesn't have an EventInvokeConfig");

    lambda.deleteFunction(b -> b.functionName("cfg-gone"));
    function("cfg-gone");
    assertEquals(List.of(), lambda.listFunctionEventInvokeConfigs(b -> b.functionName("cfg-gone"))
        .functionEventInvokeConfigs(), "a function created again starts without configs");
  }

  @Test
  void configsSurviveANodeRestart() throws Exception {
    Path dataDir = Files.createTempDirectory("lamina-event-config-restart-");
    try {
      PutFunctionEventInvokeConfigResponse latest;
      PutFunctionEventInvokeConfigResponse alias;
      try (TestNode first = TestNode.startOn(dataDir); SqsClient firstSqs = AsyncFixture.sqs(first)) {
        LambdaClient l = first.lambda();
        createQueue(firstSqs, "kept-failure");
        l.createFunction(b -> b.functionName("kept").runtime("python3.12").handler("app.handler")
            .role(Functions.ROLE).code(c -> c.zipFile(Examples.marked("v1"))));
        l.publishVersion(b -> b.functionName("kept"));
        l.createAlias(b -> b.functionName("kept").name("live").functionVersion("1"));
        latest = l.putFunctionEventInvokeConfig(b -> b.functionName("kept").maximumRetryAttempts(0)
            .maximumEventAgeInSeconds(300).destinationConfig(d -> d.onFailure(f -> f.destination(
                QUEUE_ARN + "kept-failure"))));
        alias = l.putFunctionEventInvokeConfig(b -> b.functionName("kept").qualifier("live")
            .maximumRetryAttempts(1));
      }

      try (TestNode second = TestNode.startOn(dataDir)) {
        LambdaClient l = second.lambda();
        GetFunctionEventInvokeConfigResponse keptLatest = l.getFunctionEventInvokeConfig(b -> b.functionName("kept"));
        GetFunctionEventInvokeConfigResponse keptAlias = l.getFunctionEventInvokeConfig(b -> b.functionName("kept")
            .qualifier("live"));

        assertEquals(latest.functionArn(), keptLatest.functionArn());
        assertEquals(0, keptLatest.maximumRetryAttempts());
        assertEquals(300, keptLatest.maximumEventAgeInSeconds());
        assertEquals(QUEUE_ARN + "kept-failure", keptLatest.destinationConfig().onFailure().destination());
        assertEquals(latest.lastModified(), keptLatest.lastModified());
        assertEquals(alias.functionArn(), keptAlias.functionArn());
        assertEquals(1, keptAlias.maximumRetryAttempts());
        assertEquals(2, l.listFunctionEventInvokeConfigs(b -> b.functionName("kept")).functionEventInvokeConfigs()
            .size());
      }
    } finally {
      TestNode.deleteTree(dataDir);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static void function(String name) {
    Functions.create(lambda, name, "python3.12", "app.handler", REPORTER);
  }

  /** A function with {@code count} published versions of distinct code. */
  private static void withVersions(String name, int count) {
    lambda.createFunction(b -> b.functionName(name).runtime("python3.12").handler("app.handler")
        .role(Functions.ROLE).code(c -> c.zipFile(Examples.marked("v1"))));
    for (int i = 1; i <= count; i++) {
      if (i > 1) {
        String marker = "v" + i;
        lambda.updateFunctionCode(b -> b.functionName(name).zipFile(Examples.marked(marker)));
      }
      lambda.publishVersion(b -> b.functionName(name));
    }
  }

  private static LambdaException refusedPut(String function,
      Consumer<PutFunctionEventInvokeConfigRequest.Builder> change) {
    return refused(() -> lambda.putFunctionEventInvokeConfig(b -> {
      b.functionName(function);
      change.accept(b);
    }));
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new java.util.HashSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
