package dev.lamina.node.versions;

import static dev.lamina.node.testing.Functions.ROLE;
import static dev.lamina.node.testing.Refusals.assertError;
import static dev.lamina.node.testing.Refusals.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.AliasConfiguration;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.LambdaException;

/**
 * Every refused version or alias request is answered with Lambda's own error (status, error code,
 * message) and changes nothing. Fixture: function {@value #FN} with versions 1 and 2 and alias
 * {@code live} → 1; tests that change state use functions of their own.
 */
@ExtendWith(NodePerClass.class)
class VersionsBadInputTest {

  private static final String ARN_PREFIX = "arn:aws:lambda:us-east-1:000000000000:function:";
  private static final String FN = "vb-fixture";
  private static final String WEIGHT_RANGE = "Map value must satisfy constraint: [Member must have value less than "
      + "or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]";

  static TestNode node;
  static LambdaClient lambda;
  @BeforeAll
  static void createFixture() {
    create(FN);
    publishChanged(FN, "v1");
    publishChanged(FN, "v2");
    lambda.createAlias(b -> b.functionName(FN).name("live").functionVersion("1"));
  }

  // ---- PublishVersion preconditions --------------------------------------------------------------

  @Test
  void publishWithAnotherCodeSha256IsInvalidAndPublishesNothing() throws Exception {
    create("vb-sha");
    String current = lambda.getFunctionConfiguration(b -> b.functionName("vb-sha")).codeSha256();
    String other = Base64.getEncoder().encodeToString(
        MessageDigest.getInstance("SHA-256").digest("other code".getBytes(StandardCharsets.UTF_8)));

    LambdaException e = refused(() -> lambda.publishVersion(b -> b.functionName("vb-sha").codeSha256(other)));

    assertError(e, 400, "InvalidParameterValueException", "CodeSHA256 (" + other + ") is different from current "
        + "CodeSHA256 in $LATEST (" + current + "). Please try again with the CodeSHA256 in $LATEST.");
    assertEquals(List.of("$LATEST"), versionsOf("vb-sha"));
  }

  @Test
  void publishWithAStaleRevisionIdFailsItsPreconditionAndPublishesNothing() {
    CreateFunctionResponse created = create("vb-revision");
    lambda.updateFunctionConfiguration(b -> b.functionName("vb-revision").timeout(5));

    LambdaException e = refused(() -> lambda.publishVersion(b -> b.functionName("vb-revision")
        .revisionId(created.revisionId())));

    assertError(e, 412, "PreconditionFailedException", "The Revision Id provided does not match the latest "
        + "Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id");
    assertEquals(List.of("$LATEST"), versionsOf("vb-revision"));
  }

  @Test
  void publishingAFunctionThatDoesNotExistIsNotFound() {
    LambdaException e = refused(() -> lambda.publishVersion(b -> b.functionName("vb-nobody")));

    assertError(e, 404, "ResourceNotFoundException", "Function not found: " + ARN_PREFIX + "vb-nobody");
  }

  // ---- qualifiers ------------------------------------------------------------------------------------

  @Test
  void aQualifierOfInvalidCharactersIsAValidationErrorEverywhere() {
    String message = "1 validation error detected: Value 'inv@lid' at 'qualifier' failed to satisfy constraint: "
        + "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)";

    List<Executable> calls = List.of(
        () -> lambda.getFunction(b -> b.functionName(FN).qualifier("inv@lid")),
        () -> lambda.getFunctionConfiguration(b -> b.functionName(FN).qualifier("inv@lid")),
        () -> lambda.invoke(b -> b.functionName(FN).qualifier("inv@lid").payload(SdkBytes.fromUtf8String("{}"))),
        () -> lambda.deleteFunction(b -> b.functionName(FN).qualifier("inv@lid")));

    for (Executable call : calls) {
      assertError(refused(call), 400, "ValidationException", message);
    }
    assertEquals(List.of("$LATEST", "1", "2"), versionsOf(FN));
  }

  @Test
  void aQualifierInTheNameThatDisagreesWithTheParameterIsInvalid() {
    LambdaException e = refused(() -> lambda.getFunction(b -> b.functionName(FN + ":1").qualifier("2")));

    assertError(e, 400, "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.");
  }

  @Test
  void anAliasThatDoesNotExistIsNotFoundAsAQualifier() {
    LambdaException get = refused(() -> lambda.getFunction(b -> b.functionName(FN).qualifier("nope")));
    LambdaException invoke = refused(() -> lambda.invoke(b -> b.functionName(FN + ":nope")
        .payload(SdkBytes.fromUtf8String("{}"))));

    assertError(get, 404, "ResourceNotFoundException", "Function not found: " + ARN_PREFIX + FN + ":nope");
    assertError(invoke, 404, "ResourceNotFoundException", "Function not found: " + ARN_PREFIX + FN + ":nope");
  }

  // ---- DeleteFunction with a qualifier ---------------------------------------------------------------

  @Test
  void deletingLatestAloneIsInvalid() {
    LambdaException e = refused(() -> lambda.deleteFunction(b -> b.functionName(FN).qualifier("$LATEST")));

    assertError(e, 400, "InvalidParameterValueException",
        "$LATEST version cannot be deleted without deleting the function.");
    assertEquals(List.of("$LATEST", "1", "2"), versionsOf(FN));
  }

  @Test
  void deletingAnAliasThroughDeleteFunctionIsNotSupported() {
    LambdaException e = refused(() -> lambda.deleteFunction(b -> b.functionName(FN).qualifier("live")));

    assertError(e, 400, "InvalidParameterValueException", "Deletion of aliases is not currently supported.");
    assertEquals("1", lambda.getAlias(b -> b.functionName(FN).name("live")).functionVersion(), "alias kept");
  }

  @Test
  void deletingAVersionAnAliasRoutesToIsAConflict() {
    create("vb-in-use");
    publishChanged("vb-in-use", "v1");
    publishChanged("vb-in-use", "v2");
    lambda.createAlias(b -> b.functionName("vb-in-use").name("canary").functionVersion("1")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.2))));

    LambdaException main = refused(() -> lambda.deleteFunction(b -> b.functionName("vb-in-use").qualifier("1")));
    LambdaException additional =
        refused(() -> lambda.deleteFunction(b -> b.functionName("vb-in-use").qualifier("2")));

    String message = "Unable to delete version because the following aliases reference it: [canary]";
    assertError(main, 409, "ResourceConflictException", message);
    assertError(additional, 409, "ResourceConflictException", message);
    assertEquals(List.of("$LATEST", "1", "2"), versionsOf("vb-in-use"));
  }

  // ---- CreateAlias / GetAlias / UpdateAlias --------------------------------------------------------

  @Test
  void gettingAnAliasThatDoesNotExistIsNotFound() {
    LambdaException e = refused(() -> lambda.getAlias(b -> b.functionName(FN).name("missing")));

    assertError(e, 404, "ResourceNotFoundException", "Cannot find alias arn: " + ARN_PREFIX + FN + ":missing");
  }

  @Test
  void updatingAnAliasThatDoesNotExistIsNotFoundAndCreatesNothing() {
    LambdaException e = refused(() -> lambda.updateAlias(b -> b.functionName(FN).name("missing").functionVersion("2")));

    // Lambda words UpdateAlias's 404 differently from GetAlias's (contract §0.1 "Alias not found: <arn>").
    assertError(e, 404, "ResourceNotFoundException", "Alias not found: " + ARN_PREFIX + FN + ":missing");
    assertEquals(List.of("live"), aliasesOf(FN));
  }

  @Test
  void deletingAnAliasThatDoesNotExistSucceeds() {
    var deleted = lambda.deleteAlias(b -> b.functionName(FN).name("never-was"));

    assertEquals(204, deleted.sdkHttpResponse().statusCode());
    assertEquals(List.of("live"), aliasesOf(FN));
  }

  @Test
  void aVersionWrittenWithALeadingZeroNamesNoVersionSoNoAliasCanDangle() {
    create("vb-zero");
    publishChanged("vb-zero", "v1");

    LambdaException alias = refused(() -> lambda.createAlias(b -> b.functionName("vb-zero").name("lead")
        .functionVersion("01")));
    LambdaException invoke = refused(() -> lambda.invoke(b -> b.functionName("vb-zero").qualifier("01")
        .payload(SdkBytes.fromUtf8String("{}"))));

    assertError(alias, 404, "ResourceNotFoundException", "Function not found: " + ARN_PREFIX + "vb-zero:01");
    assertError(invoke, 404, "ResourceNotFoundException", "Function not found: " + ARN_PREFIX + "vb-zero:01");
    assertEquals(List.of("$LATEST", "1"), versionsOf("vb-zero"));
  }

  @Test
  void creatingAnAliasThatExistsIsAConflict() {
    LambdaException e = refused(() -> lambda.createAlias(b -> b.functionName(FN).name("live").functionVersion("2")));

    assertError(e, 409, "ResourceConflictException", "Alias already exists: " + ARN_PREFIX + FN + ":live");
    assertEquals("1", lambda.getAlias(b -> b.functionName(FN).name("live")).functionVersion(), "alias unchanged");
  }

  @Test
  void anAliasToAVersionThatDoesNotExistIsNotFound() {
    LambdaException create = refused(() -> lambda.createAlias(b -> b.functionName(FN).name("ghost")
        .functionVersion("7")));
    LambdaException update = refused(() -> lambda.updateAlias(b -> b.functionName(FN).name("live")
        .functionVersion("7")));

    assertError(create, 404, "ResourceNotFoundException", "Function not found: " + ARN_PREFIX + FN + ":7");
    assertError(update, 404, "ResourceNotFoundException", "Function not found: " + ARN_PREFIX + FN + ":7");
    assertEquals(List.of("live"), aliasesOf(FN));
  }

  @Test
  void routingToAVersionThatDoesNotExistIsNotFound() {
    LambdaException e = refused(() -> lambda.createAlias(b -> b.functionName(FN).name("ghost").functionVersion("1")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("9", 0.5)))));

    assertError(e, 404, "ResourceNotFoundException", "Function not found: " + ARN_PREFIX + FN + ":9");
    assertEquals(List.of("live"), aliasesOf(FN));
  }

  @Test
  void aWeightAboveOneOrBelowZeroIsAValidationError() {
    LambdaException above = refused(() -> lambda.createAlias(b -> b.functionName(FN).name("heavy")
        .functionVersion("1").routingConfig(r -> r.additionalVersionWeights(Map.of("2", 1.5)))));
    LambdaException below = refused(() -> lambda.updateAlias(b -> b.functionName(FN).name("live")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("2", -0.5)))));

    assertError(above, 400, "ValidationException", "1 validation error detected: Value '{2=1.5}' at "
        + "'routingConfig.additionalVersionWeights' failed to satisfy constraint: " + WEIGHT_RANGE);
    assertError(below, 400, "ValidationException", "1 validation error detected: Value '{2=-0.5}' at "
        + "'routingConfig.additionalVersionWeights' failed to satisfy constraint: " + WEIGHT_RANGE);
    assertEquals(List.of("live"), aliasesOf(FN));
    assertNull(lambda.getAlias(b -> b.functionName(FN).name("live")).routingConfig(), "live unchanged");
  }

  @Test
  void moreThanOneAdditionalVersionIsInvalid() {
    Map<String, Double> two = new TreeMap<>(Map.of("2", 0.1, "3", 0.1));

    LambdaException e = refused(() -> lambda.createAlias(b -> b.functionName(FN).name("split").functionVersion("1")
        .routingConfig(r -> r.additionalVersionWeights(two))));

    assertError(e, 400, "InvalidParameterValueException",
        "Number of items in AdditionalVersionWeights cannot be greater than 1");
  }

  @Test
  void routingToTheAliasOwnVersionIsInvalid() {
    LambdaException e = refused(() -> lambda.createAlias(b -> b.functionName(FN).name("self").functionVersion("1")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("1", 0.5)))));

    assertError(e, 400, "InvalidParameterValueException",
        "Invalid function version 1. Function version 1 is already included in routing configuration.");
  }

  @Test
  void routingFromLatestIsInvalid() {
    LambdaException e = refused(() -> lambda.createAlias(b -> b.functionName(FN).name("moving")
        .functionVersion("$LATEST").routingConfig(r -> r.additionalVersionWeights(Map.of("1", 0.5)))));

    assertError(e, 400, "InvalidParameterValueException",
        "$LATEST is not supported for an alias pointing to more than 1 version");
  }

  @Test
  void routingToLatestIsAValidationErrorOnTheMapKeys() {
    LambdaException e = refused(() -> lambda.createAlias(b -> b.functionName(FN).name("moving").functionVersion("1")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("$LATEST", 0.5)))));

    assertEquals(400, e.statusCode());
    assertEquals("ValidationException", e.awsErrorDetails().errorCode());
    String message = e.awsErrorDetails().errorMessage();
    assertTrue(message.startsWith("1 validation error detected: Value '{$LATEST=0.5}' at "
        + "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: "),
        message);
    assertTrue(message.contains("Member must satisfy regular expression pattern: [0-9]+"), message);
  }

  @Test
  void aRoutingConfigThatIsNotAnObjectIsRefusedAndKeepsTheAliasRouting() throws Exception {
    create("vb-routing");
    publishChanged("vb-routing", "v1");
    publishChanged("vb-routing", "v2");
    lambda.createAlias(b -> b.functionName("vb-routing").name("weighted").functionVersion("1")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.3))));

    HttpResponse<String> response = SignedHttp.send(SignedHttp.request("PUT",
        node.endpoint() + "/2015-03-31/functions/vb-routing/aliases/weighted", Map.of(),
        "{\"RoutingConfig\":\"oops\"}"));

    assertEquals(400, response.statusCode(), response.body());
    assertEquals("InvalidRequestContentException", response.headers().firstValue("x-amzn-ErrorType").orElse(""));
    assertEquals(Map.of("2", 0.3), lambda.getAlias(b -> b.functionName("vb-routing").name("weighted"))
        .routingConfig().additionalVersionWeights());
  }

  @Test
  void anAllDigitAliasNameIsAValidationError() {
    LambdaException e = refused(() -> lambda.createAlias(b -> b.functionName(FN).name("2024").functionVersion("1")));

    assertError(e, 400, "ValidationException", "1 validation error detected: Value '2024' at 'name' failed to "
        + "satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)");
    assertEquals(List.of("live"), aliasesOf(FN));
  }

  @Test
  void theFixtureStillServesEveryVersionAndTheAliasAfterRefusals() {
    for (String qualifier : List.of("1", "2", "live")) {
      var r = lambda.invoke(b -> b.functionName(FN).qualifier(qualifier).payload(SdkBytes.fromUtf8String("{}")));
      assertEquals(200, r.statusCode());
      assertEquals(qualifier.equals("live") ? "1" : qualifier, r.executedVersion());
    }
  }

  // ---- helpers -------------------------------------------------------------------------------------

  private static CreateFunctionResponse create(String name) {
    return lambda.createFunction(b -> b.functionName(name).runtime("python3.11").handler("app.handler").role(ROLE)
        .code(c -> c.zipFile(Examples.marked("latest"))));
  }

  private static void publishChanged(String name, String marker) {
    lambda.updateFunctionCode(b -> b.functionName(name).zipFile(Examples.marked(marker)));
    lambda.publishVersion(b -> b.functionName(name));
  }

  private static List<String> versionsOf(String name) {
    return lambda.listVersionsByFunction(b -> b.functionName(name)).versions().stream()
        .map(FunctionConfiguration::version).toList();
  }

  private static List<String> aliasesOf(String name) {
    return lambda.listAliases(b -> b.functionName(name)).aliases().stream().map(AliasConfiguration::name).toList();
  }
}
