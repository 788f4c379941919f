package dev.lamina.node.versions;

import static dev.lamina.node.testing.Functions.ROLE;
import static dev.lamina.node.testing.Functions.body;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.TestNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetFunctionConfigurationResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.ListVersionsByFunctionResponse;
import software.amazon.awssdk.services.lambda.model.PublishVersionResponse;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.State;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionCodeResponse;

/**
 * Published versions as a Lambda user sees them through the AWS SDK (contract §1.2): numbering,
 * publishing without changes, {@code Publish} on create and code update, listing, qualifiers in
 * every form, the executed version, immutability and deletion.
 */
@ExtendWith(NodePerClass.class)
class VersionsTest {

  private static final String ACCOUNT = "000000000000";
  private static final String ARN_PREFIX = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:";

  static TestNode node;
  static LambdaClient lambda;

  // ---- PublishVersion --------------------------------------------------------------------------

  @Test
  void publishVersionAnswers201WithAQualifiedArnAndNumbersVersionsFromOne() {
    CreateFunctionResponse created = createMarked("v-publish", "one", Map.of());

    PublishVersionResponse first = lambda.publishVersion(b -> b.functionName("v-publish"));
    updateCode("v-publish", "two");
    PublishVersionResponse second = lambda.publishVersion(b -> b.functionName("v-publish"));

    assertEquals(201, first.sdkHttpResponse().statusCode());
    assertEquals("1", first.version());
    assertEquals(ARN_PREFIX + "v-publish:1", first.functionArn());
    assertEquals("v-publish", first.functionName());
    assertEquals(State.ACTIVE, first.state());
    assertEquals(created.codeSha256(), first.codeSha256());
    assertEquals(201, second.sdkHttpResponse().statusCode());
    assertEquals("2", second.version());
    assertEquals(ARN_PREFIX + "v-publish:2", second.functionArn());
    assertNotEquals(first.codeSha256(), second.codeSha256(), "version 2 has the updated code");
  }

  @Test
  void publishingWithoutChangesReturnsTheLatestVersionAgain() {
    createMarked("v-republish", "one", Map.of());
    PublishVersionResponse first = lambda.publishVersion(b -> b.functionName("v-republish"));

    PublishVersionResponse again = lambda.publishVersion(b -> b.functionName("v-republish"));

    assertEquals(201, again.sdkHttpResponse().statusCode());
    assertEquals("1", again.version());
    assertEquals(first.functionArn(), again.functionArn());
    assertEquals(first.revisionId(), again.revisionId(), "the very same version, not a new one");
    assertEquals(List.of("$LATEST", "1"), versionsOf("v-republish"));
  }

  @Test
  void publishingAfterAConfigurationChangeGivesTheNextVersion() {
    createMarked("v-config-publish", "one", Map.of());
    lambda.publishVersion(b -> b.functionName("v-config-publish"));

    lambda.updateFunctionConfiguration(b -> b.functionName("v-config-publish").timeout(9));
    PublishVersionResponse second = lambda.publishVersion(b -> b.functionName("v-config-publish"));

    assertEquals("2", second.version());
    assertEquals(9, second.timeout());
  }

  @Test
  void publishVersionDescriptionOverridesTheVersionsDescriptionOnly() {
    lambda.createFunction(b -> b.functionName("v-description").runtime("python3.11").handler("app.handler")
        .role(ROLE).description("base").code(c -> c.zipFile(Examples.marked("one"))));

    PublishVersionResponse published =
        lambda.publishVersion(b -> b.functionName("v-description").description("release one"));

    assertEquals("release one", published.description());
    assertEquals("release one",
        lambda.getFunctionConfiguration(b -> b.functionName("v-description").qualifier("1")).description());
    assertEquals("base", lambda.getFunctionConfiguration(b -> b.functionName("v-description")).description());
  }

  @Test
  void publishVersionWithMatchingCodeSha256AndRevisionIdPublishes() {
    CreateFunctionResponse created = createMarked("v-preconditions", "one", Map.of());

    PublishVersionResponse published = lambda.publishVersion(b -> b.functionName("v-preconditions")
        .codeSha256(created.codeSha256()).revisionId(created.revisionId()));

    assertEquals(201, published.sdkHttpResponse().statusCode());
    assertEquals("1", published.version());
  }

  @Test
  void createFunctionWithPublishReturnsVersionOne() {
    CreateFunctionResponse created = lambda.createFunction(b -> b.functionName("v-create-publish")
        .runtime("python3.11").handler("app.handler").role(ROLE).publish(true).code(c -> c.zipFile(Examples.marked("one"))));

    assertEquals(201, created.sdkHttpResponse().statusCode());
    assertEquals("1", created.version());
    assertEquals(ARN_PREFIX + "v-create-publish:1", created.functionArn());
    assertEquals(List.of("$LATEST", "1"), versionsOf("v-create-publish"));
    GetFunctionConfigurationResponse latest =
        lambda.getFunctionConfiguration(b -> b.functionName("v-create-publish"));
    assertEquals("$LATEST", latest.version());
    assertEquals(ARN_PREFIX + "v-create-publish", latest.functionArn());
  }

  @Test
  void updateFunctionCodeWithPublishReturnsTheNewVersion() {
    createMarked("v-code-publish", "one", Map.of());

    UpdateFunctionCodeResponse first = lambda.updateFunctionCode(b -> b.functionName("v-code-publish")
        .zipFile(Examples.marked("two")).publish(true));
    UpdateFunctionCodeResponse second = lambda.updateFunctionCode(b -> b.functionName("v-code-publish")
        .zipFile(Examples.marked("three")).publish(true));

    assertEquals("1", first.version());
    assertEquals(ARN_PREFIX + "v-code-publish:1", first.functionArn());
    assertEquals("2", second.version());
    assertEquals(ARN_PREFIX + "v-code-publish:2", second.functionArn());
    assertEquals("two", Functions.json(invokeQualified("v-code-publish", "1")).get("code").asText());
    assertEquals("three", Functions.json(invokeQualified("v-code-publish", "2")).get("code").asText());
  }

  // ---- ListVersionsByFunction ------------------------------------------------------------------

  @Test
  void listVersionsShowsLatestFirstThenVersionsAscendingWithQualifiedArns() {
    createMarked("v-list", "one", Map.of());
    publishNewVersions("v-list", 3);

    ListVersionsByFunctionResponse listed = lambda.listVersionsByFunction(b -> b.functionName("v-list"));

    List<FunctionConfiguration> versions = listed.versions();
    assertEquals(List.of("$LATEST", "1", "2", "3"), versions.stream().map(FunctionConfiguration::version).toList());
    assertEquals(ARN_PREFIX + "v-list:$LATEST", versions.get(0).functionArn());
    assertEquals(ARN_PREFIX + "v-list:2", versions.get(2).functionArn());
    for (FunctionConfiguration v : versions) {
      assertEquals("v-list", v.functionName());
      assertNull(v.state(), "list entries omit State");
      assertNull(v.lastUpdateStatus(), "list entries omit LastUpdateStatus");
    }
    assertNull(listed.nextMarker());
  }

  @Test
  void listVersionsPaginatesWithMaxItemsAndMarker() {
    createMarked("v-pages", "one", Map.of());
    publishNewVersions("v-pages", 5);

    List<String> seen = new ArrayList<>();
    List<Integer> pageSizes = new ArrayList<>();
    String marker = null;
    do {
      String from = marker;
      ListVersionsByFunctionResponse page =
          lambda.listVersionsByFunction(b -> b.functionName("v-pages").maxItems(2).marker(from));
      pageSizes.add(page.versions().size());
      page.versions().forEach(v -> seen.add(v.version()));
      marker = page.nextMarker();
      assertTrue(pageSizes.size() < 20, "pagination terminates");
    } while (marker != null);

    assertEquals(List.of("$LATEST", "1", "2", "3", "4", "5"), seen);
    assertEquals(List.of(2, 2, 2), pageSizes);
    assertEquals(seen, lambda.listVersionsByFunctionPaginator(b -> b.functionName("v-pages").maxItems(4))
        .versions().stream().map(FunctionConfiguration::version).toList(), "the SDK paginator sees the same");
  }

  // ---- qualifiers --------------------------------------------------------------------------------

  @Test
  void getFunctionSelectsAVersionByParameterNamePartialArnOrFullArn() {
    CreateFunctionResponse created = createMarked("v-get", "one", Map.of());
    lambda.publishVersion(b -> b.functionName("v-get"));
    updateCode("v-get", "two");

    List<GetFunctionResponse> answers = List.of(
        lambda.getFunction(b -> b.functionName("v-get").qualifier("1")),
        lambda.getFunction(b -> b.functionName("v-get:1")),
        lambda.getFunction(b -> b.functionName(ACCOUNT + ":function:v-get:1")),
        lambda.getFunction(b -> b.functionName(ARN_PREFIX + "v-get:1")));

    for (GetFunctionResponse got : answers) {
      assertEquals("1", got.configuration().version());
      assertEquals(ARN_PREFIX + "v-get:1", got.configuration().functionArn());
      assertEquals(created.codeSha256(), got.configuration().codeSha256(), "version 1 keeps the first code");
    }
    GetFunctionConfigurationResponse config =
        lambda.getFunctionConfiguration(b -> b.functionName(ARN_PREFIX + "v-get").qualifier("1"));
    assertEquals("1", config.version());
    assertEquals(ARN_PREFIX + "v-get:1", config.functionArn());
    assertEquals(State.ACTIVE, config.state());
    GetFunctionResponse latest = lambda.getFunction(b -> b.functionName("v-get"));
    assertEquals("$LATEST", latest.configuration().version());
    assertNotEquals(created.codeSha256(), latest.configuration().codeSha256());
  }

  @Test
  void invokeRunsTheVersionNamedByParameterNamePartialArnOrFullArn() {
    createMarked("v-invoke", "one", Map.of());
    lambda.publishVersion(b -> b.functionName("v-invoke"));
    updateCode("v-invoke", "two");

    List<InvokeResponse> answers = List.of(
        invokeQualified("v-invoke", "1"),
        invoke("v-invoke:1"),
        invoke(ACCOUNT + ":function:v-invoke:1"),
        invoke(ARN_PREFIX + "v-invoke:1"));

    for (InvokeResponse r : answers) {
      assertEquals(200, r.statusCode());
      assertEquals("1", r.executedVersion());
      assertEquals("one", Functions.json(r).get("code").asText());
    }
    InvokeResponse latest = invoke("v-invoke");
    assertEquals("$LATEST", latest.executedVersion());
    assertEquals("two", Functions.json(latest).get("code").asText());
    InvokeResponse explicitLatest = invokeQualified("v-invoke", "$LATEST");
    assertEquals("$LATEST", explicitLatest.executedVersion());
    assertEquals("two", Functions.json(explicitLatest).get("code").asText());
  }

  @Test
  void aMissingVersionIsNotFoundForGetAndInvoke() {
    createMarked("v-missing", "one", Map.of());
    lambda.publishVersion(b -> b.functionName("v-missing"));
    String message = "Function not found: " + ARN_PREFIX + "v-missing:7";

    List<ResourceNotFoundException> errors = List.of(
        assertThrows(ResourceNotFoundException.class,
            () -> lambda.getFunction(b -> b.functionName("v-missing").qualifier("7"))),
        assertThrows(ResourceNotFoundException.class,
            () -> lambda.getFunctionConfiguration(b -> b.functionName("v-missing:7"))),
        assertThrows(ResourceNotFoundException.class, () -> invokeQualified("v-missing", "7")));

    for (ResourceNotFoundException e : errors) {
      assertEquals(404, e.statusCode());
      assertEquals("ResourceNotFoundException", e.awsErrorDetails().errorCode());
      assertEquals(message, e.awsErrorDetails().errorMessage());
    }
  }

  @Test
  void theRuntimeSeesTheVersionThatRunsAndTheArnItWasInvokedWith() {
    createMarked("v-context", "one", Map.of());
    lambda.publishVersion(b -> b.functionName("v-context"));

    JsonNode viaVersion = Functions.json(invokeQualified("v-context", "1"));
    JsonNode viaLatest = Functions.json(invoke("v-context"));

    assertEquals("1", viaVersion.get("version").asText());
    assertEquals("1", viaVersion.get("envVersion").asText());
    assertEquals(ARN_PREFIX + "v-context:1", viaVersion.get("invokedArn").asText());
    assertEquals("$LATEST", viaLatest.get("version").asText());
    assertEquals("$LATEST", viaLatest.get("envVersion").asText());
    assertEquals(ARN_PREFIX + "v-context", viaLatest.get("invokedArn").asText());
  }

  // ---- immutability --------------------------------------------------------------------------

  @Test
  void aPublishedVersionKeepsItsCodeAndConfigurationWhenLatestChanges() {
    CreateFunctionResponse created = createMarked("v-immutable", "one", Map.of("MARK", "first"));
    lambda.publishVersion(b -> b.functionName("v-immutable"));
    assertEquals("one", Functions.json(invoke("v-immutable")).get("code").asText(), "$LATEST warm before the change");

    lambda.updateFunctionConfiguration(b -> b.functionName("v-immutable")
        .environment(e -> e.variables(Map.of("MARK", "second"))));
    updateCode("v-immutable", "two");

    JsonNode version1 = Functions.json(invokeQualified("v-immutable", "1"));
    JsonNode latest = Functions.json(invoke("v-immutable"));
    assertEquals("one", version1.get("code").asText());
    assertEquals("first", version1.get("env").asText());
    assertEquals("two", latest.get("code").asText());
    assertEquals("second", latest.get("env").asText());
    GetFunctionConfigurationResponse config =
        lambda.getFunctionConfiguration(b -> b.functionName("v-immutable").qualifier("1"));
    assertEquals(Map.of("MARK", "first"), config.environment().variables());
    assertEquals(created.codeSha256(), config.codeSha256());
  }

  @Test
  void eachVersionRunsInSandboxesOfItsOwn() {
    createMarked("v-sandboxes", "one", Map.of());
    lambda.publishVersion(b -> b.functionName("v-sandboxes"));
    // Same code and configuration in both: only the version tells them apart.

    JsonNode latest = Functions.json(invoke("v-sandboxes"));
    JsonNode version1 = Functions.json(invokeQualified("v-sandboxes", "1"));
    JsonNode latestAgain = Functions.json(invoke("v-sandboxes"));

    assertNotEquals(latest.get("sandbox").asText(), version1.get("sandbox").asText());
    assertNotEquals(latestAgain.get("sandbox").asText(), version1.get("sandbox").asText());
    assertEquals("$LATEST", latestAgain.get("envVersion").asText());
    assertEquals("1", version1.get("envVersion").asText());
  }

  // ---- DeleteFunction with a qualifier -----------------------------------------------------------

  @Test
  void deletingAVersionRemovesOnlyThatVersionAndNumbersAreNotReused() throws Exception {
    createMarked("v-delete-one", "one", Map.of());
    publishNewVersions("v-delete-one", 2);
    assertEquals("1", invokeQualified("v-delete-one", "1").executedVersion(), "version 1 warm before deletion");
    String version1Sha =
        lambda.getFunctionConfiguration(b -> b.functionName("v-delete-one").qualifier("1")).codeSha256();
    assertTrue(Processes.runningCode(node.dataDir(), version1Sha) > 0, "version 1 has a warm sandbox");

    var deleted = lambda.deleteFunction(b -> b.functionName("v-delete-one").qualifier("1"));

    assertEquals(204, deleted.sdkHttpResponse().statusCode());
    assertTrue(Processes.awaitNoneRunning(node.dataDir(), version1Sha, Duration.ofSeconds(10)),
        "the deleted version's sandbox is released");
    assertEquals(List.of("$LATEST", "2"), versionsOf("v-delete-one"));
    ResourceNotFoundException gone = assertThrows(ResourceNotFoundException.class,
        () -> invokeQualified("v-delete-one", "1"));
    assertEquals("Function not found: " + ARN_PREFIX + "v-delete-one:1", gone.awsErrorDetails().errorMessage());
    assertEquals("2", invokeQualified("v-delete-one", "2").executedVersion());
    assertEquals("$LATEST", invoke("v-delete-one").executedVersion());
    updateCode("v-delete-one", "three");
    assertEquals("3", lambda.publishVersion(b -> b.functionName("v-delete-one")).version());
  }

  @Test
  void deletingAVersionThatDoesNotExistSucceeds() {
    createMarked("v-delete-missing", "one", Map.of());

    var deleted = lambda.deleteFunction(b -> b.functionName("v-delete-missing").qualifier("9"));

    assertEquals(204, deleted.sdkHttpResponse().statusCode());
    assertEquals(List.of("$LATEST"), versionsOf("v-delete-missing"));
  }

  @Test
  void deletingAVersionByQualifiedNameRemovesIt() {
    createMarked("v-delete-arn", "one", Map.of());
    publishNewVersions("v-delete-arn", 2);

    lambda.deleteFunction(b -> b.functionName(ARN_PREFIX + "v-delete-arn:2"));

    assertEquals(List.of("$LATEST", "1"), versionsOf("v-delete-arn"));
  }

  @Test
  void deletingTheFunctionDeletesItsVersionsAndAliasesAndRecreatingStartsAtVersionOne() {
    createMarked("v-recreate", "one", Map.of());
    publishNewVersions("v-recreate", 2);
    lambda.createAlias(b -> b.functionName("v-recreate").name("live").functionVersion("2"));
    assertEquals("v1", Functions.json(invokeQualified("v-recreate", "1")).get("code").asText(), "old version 1 warm");

    lambda.deleteFunction(b -> b.functionName("v-recreate"));

    assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunction(b -> b.functionName("v-recreate").qualifier("1")));
    createMarked("v-recreate", "again", Map.of());
    assertEquals(List.of("$LATEST"), versionsOf("v-recreate"));
    assertTrue(lambda.listAliases(b -> b.functionName("v-recreate")).aliases().isEmpty(), "aliases are gone");
    assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunction(b -> b.functionName("v-recreate").qualifier("live")));
    assertEquals("1", lambda.publishVersion(b -> b.functionName("v-recreate")).version());
    assertEquals("again", Functions.json(invokeQualified("v-recreate", "1")).get("code").asText(),
        "the new version 1 runs the new code, not a sandbox of the old version 1");
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private static CreateFunctionResponse createMarked(String name, String marker, Map<String, String> env) {
    return lambda.createFunction(b -> b.functionName(name).runtime("python3.11").handler("app.handler").role(ROLE)
        .environment(e -> e.variables(env)).code(c -> c.zipFile(Examples.marked(marker))));
  }

  private static void updateCode(String name, String marker) {
    lambda.updateFunctionCode(b -> b.functionName(name).zipFile(Examples.marked(marker)));
  }

  /** Publishes {@code count} versions, each from a code change. */
  private static void publishNewVersions(String name, int count) {
    for (int i = 1; i <= count; i++) {
      updateCode(name, "v" + i);
      assertEquals(Integer.toString(i), lambda.publishVersion(b -> b.functionName(name)).version());
    }
  }

  private static List<String> versionsOf(String name) {
    return lambda.listVersionsByFunction(b -> b.functionName(name)).versions().stream()
        .map(FunctionConfiguration::version).toList();
  }

  private static InvokeResponse invoke(String functionName) {
    return lambda.invoke(b -> b.functionName(functionName).payload(SdkBytes.fromUtf8String("{}")));
  }

  private static InvokeResponse invokeQualified(String functionName, String qualifier) {
    return lambda.invoke(b -> b.functionName(functionName).qualifier(qualifier)
        .payload(SdkBytes.fromUtf8String("{}")));
  }

}
