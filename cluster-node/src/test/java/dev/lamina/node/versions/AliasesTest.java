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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.AliasConfiguration;
import software.amazon.awssdk.services.lambda.model.CreateAliasResponse;
import software.amazon.awssdk.services.lambda.model.DeleteAliasResponse;
import software.amazon.awssdk.services.lambda.model.GetAliasResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionConfigurationResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.ListAliasesResponse;
import software.amazon.awssdk.services.lambda.model.PreconditionFailedException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.UpdateAliasResponse;

/**
 * Aliases as a Lambda user sees them through the AWS SDK (contract §1.2): create, read, update
 * with revisions, delete, list with filter and pages; reading and invoking through an alias; and
 * weighted routing between two versions.
 */
@ExtendWith(NodePerClass.class)
class AliasesTest {

  private static final String ARN_PREFIX = "arn:aws:lambda:us-east-1:000000000000:function:";
  /** The standard normal quantile for a 99.9% two-sided interval: Φ⁻¹(0.9995). */
  private static final double Z_99_9_TWO_SIDED = 3.2905;

  static LambdaClient lambda;

  // ---- CreateAlias / GetAlias ----------------------------------------------------------------------

  @Test
  void createAliasAnswers201WithArnVersionEmptyDescriptionAndRevision() {
    withVersions("a-create", 1);

    CreateAliasResponse created = lambda.createAlias(b -> b.functionName("a-create").name("live").functionVersion("1"));

    assertEquals(201, created.sdkHttpResponse().statusCode());
    assertEquals(ARN_PREFIX + "a-create:live", created.aliasArn());
    assertEquals("live", created.name());
    assertEquals("1", created.functionVersion());
    assertEquals("", created.description());
    assertNull(created.routingConfig(), "no RoutingConfig unless it has weights");
    assertEquals(created.revisionId(), UUID.fromString(created.revisionId()).toString(), "RevisionId is a UUID");
  }

  @Test
  void createAliasWithRoutingReturnsItsWeightsAndGetAliasReturnsTheSame() {
    withVersions("a-routing", 2);

    CreateAliasResponse created = lambda.createAlias(b -> b.functionName("a-routing").name("canary")
        .functionVersion("1").description("ten percent on 2")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.1))));
    GetAliasResponse got = lambda.getAlias(b -> b.functionName("a-routing").name("canary"));

    assertEquals(Map.of("2", 0.1), created.routingConfig().additionalVersionWeights());
    assertEquals("ten percent on 2", created.description());
    assertEquals(200, got.sdkHttpResponse().statusCode());
    assertEquals(created.aliasArn(), got.aliasArn());
    assertEquals("canary", got.name());
    assertEquals("1", got.functionVersion());
    assertEquals("ten percent on 2", got.description());
    assertEquals(Map.of("2", 0.1), got.routingConfig().additionalVersionWeights());
    assertEquals(created.revisionId(), got.revisionId());
  }

  @Test
  void anAliasMayPointAtLatestAndFollowsItsChanges() {
    createMarked("a-latest", "one");
    lambda.createAlias(b -> b.functionName("a-latest").name("head").functionVersion("$LATEST"));
    assertEquals("one", Functions.json(invoke("a-latest", "head")).get("code").asText());

    lambda.updateFunctionCode(b -> b.functionName("a-latest").zipFile(Examples.marked("two")));
    InvokeResponse after = invoke("a-latest", "head");

    assertEquals("$LATEST", after.executedVersion());
    assertEquals("two", Functions.json(after).get("code").asText());
  }

  // ---- UpdateAlias / DeleteAlias ---------------------------------------------------------------------

  @Test
  void updateAliasChangesWhatIsGivenAndIssuesANewRevisionEachTime() {
    withVersions("a-update", 2);
    CreateAliasResponse created = lambda.createAlias(b -> b.functionName("a-update").name("live")
        .functionVersion("1").description("first"));

    UpdateAliasResponse moved = lambda.updateAlias(b -> b.functionName("a-update").name("live").functionVersion("2"));
    UpdateAliasResponse described = lambda.updateAlias(b -> b.functionName("a-update").name("live")
        .description("second").revisionId(moved.revisionId()));

    assertEquals(200, moved.sdkHttpResponse().statusCode());
    assertEquals("2", moved.functionVersion());
    assertEquals("first", moved.description(), "an absent Description is kept");
    assertEquals("2", described.functionVersion(), "an absent FunctionVersion is kept");
    assertEquals("second", described.description());
    assertNotEquals(created.revisionId(), moved.revisionId());
    assertNotEquals(moved.revisionId(), described.revisionId());
    assertEquals(described.revisionId(), lambda.getAlias(b -> b.functionName("a-update").name("live")).revisionId());
  }

  @Test
  void updateAliasWithAStaleRevisionIdIsRefusedAndChangesNothing() {
    withVersions("a-stale", 2);
    CreateAliasResponse created = lambda.createAlias(b -> b.functionName("a-stale").name("live").functionVersion("1"));
    UpdateAliasResponse current = lambda.updateAlias(b -> b.functionName("a-stale").name("live").description("x"));

    PreconditionFailedException e = assertThrows(PreconditionFailedException.class, () -> lambda.updateAlias(b -> b
        .functionName("a-stale").name("live").functionVersion("2").revisionId(created.revisionId())));

    assertEquals(412, e.statusCode());
    assertEquals("PreconditionFailedException", e.awsErrorDetails().errorCode());
    assertEquals("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API "
        + "to retrieve the latest Revision Id", e.awsErrorDetails().errorMessage());
    GetAliasResponse after = lambda.getAlias(b -> b.functionName("a-stale").name("live"));
    assertEquals("1", after.functionVersion());
    assertEquals(current.revisionId(), after.revisionId());
  }

  @Test
  void updateAliasWithEmptyAdditionalVersionWeightsRemovesRouting() {
    withVersions("a-unroute", 2);
    lambda.createAlias(b -> b.functionName("a-unroute").name("live").functionVersion("1")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.5))));

    UpdateAliasResponse updated = lambda.updateAlias(b -> b.functionName("a-unroute").name("live")
        .routingConfig(r -> r.additionalVersionWeights(Map.of())));

    assertNull(updated.routingConfig());
    assertNull(lambda.getAlias(b -> b.functionName("a-unroute").name("live")).routingConfig());
    for (int i = 0; i < 20; i++) {
      assertEquals("1", invoke("a-unroute", "live").executedVersion(), "all traffic on version 1 again");
    }
  }

  @Test
  void updatingAnAliasRedirectsTheNextInvocation() {
    withVersions("a-redirect", 2);
    lambda.createAlias(b -> b.functionName("a-redirect").name("live").functionVersion("1"));
    assertEquals("v1", Functions.json(invoke("a-redirect", "live")).get("code").asText());

    lambda.updateAlias(b -> b.functionName("a-redirect").name("live").functionVersion("2"));
    InvokeResponse after = invoke("a-redirect", "live");

    assertEquals("2", after.executedVersion());
    assertEquals("v2", Functions.json(after).get("code").asText());
  }

  @Test
  void deleteAliasAnswers204AndTheAliasIsGone() {
    withVersions("a-delete", 1);
    lambda.createAlias(b -> b.functionName("a-delete").name("live").functionVersion("1"));
    assertEquals("1", invoke("a-delete", "live").executedVersion(), "alias warm before deletion");

    DeleteAliasResponse deleted = lambda.deleteAlias(b -> b.functionName("a-delete").name("live"));

    assertEquals(204, deleted.sdkHttpResponse().statusCode());
    ResourceNotFoundException e = assertThrows(ResourceNotFoundException.class,
        () -> lambda.getAlias(b -> b.functionName("a-delete").name("live")));
    assertEquals(404, e.statusCode());
    assertEquals("Cannot find alias arn: " + ARN_PREFIX + "a-delete:live", e.awsErrorDetails().errorMessage());
    assertThrows(ResourceNotFoundException.class, () -> invoke("a-delete", "live"));
    assertTrue(lambda.listAliases(b -> b.functionName("a-delete")).aliases().isEmpty());
    lambda.deleteFunction(b -> b.functionName("a-delete").qualifier("1"));
    assertEquals(List.of("$LATEST"), lambda.listVersionsByFunction(b -> b.functionName("a-delete")).versions()
        .stream().map(v -> v.version()).toList(), "the version is free to delete once no alias uses it");
  }

  // ---- ListAliases -------------------------------------------------------------------------------------

  @Test
  void listAliasesIsSortedByNameAndFiltersByMainOrAdditionalVersion() {
    withVersions("a-list", 3);
    lambda.createAlias(b -> b.functionName("a-list").name("zeta").functionVersion("1"));
    lambda.createAlias(b -> b.functionName("a-list").name("alpha").functionVersion("2"));
    lambda.createAlias(b -> b.functionName("a-list").name("mid").functionVersion("1")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.3))));

    ListAliasesResponse all = lambda.listAliases(b -> b.functionName("a-list"));
    ListAliasesResponse onTwo = lambda.listAliases(b -> b.functionName("a-list").functionVersion("2"));
    ListAliasesResponse onOne = lambda.listAliases(b -> b.functionName("a-list").functionVersion("1"));
    ListAliasesResponse onThree = lambda.listAliases(b -> b.functionName("a-list").functionVersion("3"));

    assertEquals(List.of("alpha", "mid", "zeta"), names(all.aliases()));
    assertNull(all.nextMarker());
    assertEquals(ARN_PREFIX + "a-list:mid", all.aliases().get(1).aliasArn());
    assertEquals(Map.of("2", 0.3), all.aliases().get(1).routingConfig().additionalVersionWeights());
    assertNull(all.aliases().get(0).routingConfig());
    assertEquals(List.of("alpha", "mid"), names(onTwo.aliases()), "mid routes part of its traffic to 2");
    assertEquals(List.of("mid", "zeta"), names(onOne.aliases()));
    assertEquals(List.of(), names(onThree.aliases()));
  }

  @Test
  void listAliasesPaginatesWithMaxItemsAndMarker() {
    withVersions("a-pages", 1);
    List<String> created = List.of("a1", "a2", "a3", "a4", "a5");
    created.forEach(n -> lambda.createAlias(b -> b.functionName("a-pages").name(n).functionVersion("1")));

    List<String> seen = new ArrayList<>();
    List<Integer> pageSizes = new ArrayList<>();
    String marker = null;
    do {
      String from = marker;
      ListAliasesResponse page = lambda.listAliases(b -> b.functionName("a-pages").maxItems(2).marker(from));
      pageSizes.add(page.aliases().size());
      seen.addAll(names(page.aliases()));
      marker = page.nextMarker();
      assertTrue(pageSizes.size() < 20, "pagination terminates");
    } while (marker != null);

    assertEquals(created, seen);
    assertEquals(List.of(2, 2, 1), pageSizes);
    assertEquals(created, names(lambda.listAliasesPaginator(b -> b.functionName("a-pages").maxItems(3))
        .aliases().stream().toList()), "the SDK paginator sees the same");
  }

  // ---- reading and invoking through an alias ---------------------------------------------------------

  @Test
  void getFunctionThroughAnAliasShowsTheAliasArnAndItsVersion() {
    withVersions("a-get", 2);
    lambda.createAlias(b -> b.functionName("a-get").name("live").functionVersion("1"));
    String version1Sha = lambda.getFunctionConfiguration(b -> b.functionName("a-get").qualifier("1")).codeSha256();

    GetFunctionResponse byParameter = lambda.getFunction(b -> b.functionName("a-get").qualifier("live"));
    GetFunctionConfigurationResponse byName = lambda.getFunctionConfiguration(b -> b.functionName("a-get:live"));
    GetFunctionConfigurationResponse byArn =
        lambda.getFunctionConfiguration(b -> b.functionName(ARN_PREFIX + "a-get:live"));

    assertEquals(ARN_PREFIX + "a-get:live", byParameter.configuration().functionArn());
    assertEquals("1", byParameter.configuration().version());
    assertEquals(version1Sha, byParameter.configuration().codeSha256());
    for (GetFunctionConfigurationResponse c : List.of(byName, byArn)) {
      assertEquals(ARN_PREFIX + "a-get:live", c.functionArn());
      assertEquals("1", c.version());
      assertEquals(version1Sha, c.codeSha256());
    }
  }

  @Test
  void invokingThroughAnAliasRunsItsVersionAndTheRuntimeSeesTheAliasArn() {
    withVersions("a-invoke", 2);
    lambda.createAlias(b -> b.functionName("a-invoke").name("live").functionVersion("1"));

    InvokeResponse byParameter = invoke("a-invoke", "live");
    InvokeResponse byArn = lambda.invoke(b -> b.functionName(ARN_PREFIX + "a-invoke:live")
        .payload(SdkBytes.fromUtf8String("{}")));

    for (InvokeResponse r : List.of(byParameter, byArn)) {
      assertEquals(200, r.statusCode());
      assertEquals("1", r.executedVersion());
      JsonNode seen = Functions.json(r);
      assertEquals("v1", seen.get("code").asText());
      assertEquals(ARN_PREFIX + "a-invoke:live", seen.get("invokedArn").asText());
      assertEquals("1", seen.get("version").asText());
      assertEquals("1", seen.get("envVersion").asText());
    }
  }

  @Test
  void weightedAliasSendsTheAdditionalVersionItsShareOfInvocations() throws Exception {
    withVersions("a-weighted", 2);
    double p = 0.1;
    int n = 2000;
    lambda.createAlias(b -> b.functionName("a-weighted").name("live").functionVersion("1")
        .routingConfig(r -> r.additionalVersionWeights(Map.of("2", p))));

    List<String> executed = new ArrayList<>();
    ExecutorService callers = Executors.newFixedThreadPool(4);
    try {
      List<Callable<String>> calls = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        calls.add(() -> {
          InvokeResponse r = invoke("a-weighted", "live");
          JsonNode seen = Functions.json(r);
          assertEquals("v" + r.executedVersion(), seen.get("code").asText(),
              "the body comes from the version reported");
          assertEquals(r.executedVersion(), seen.get("version").asText());
          return r.executedVersion();
        });
      }
      for (Future<String> f : callers.invokeAll(calls, 120, TimeUnit.SECONDS)) {
        executed.add(f.get());
      }
    } finally {
      callers.shutdownNow();
    }

    assertEquals(Set.of("1", "2"), Set.copyOf(executed), "only the alias's two versions run");
    long onTwo = executed.stream().filter("2"::equals).count();
    double mean = n * p;
    double sd = Math.sqrt(n * p * (1 - p));
    double low = mean - Z_99_9_TWO_SIDED * sd;
    double high = mean + Z_99_9_TWO_SIDED * sd;
    assertTrue(onTwo >= low && onTwo <= high,
        onTwo + " of " + n + " invocations ran version 2; expected within [" + low + ", " + high + "]");
  }

  // ---- helpers -------------------------------------------------------------------------------------

  /** A function with versions 1..count, version i answering with code "v" + i. */
  private static void withVersions(String name, int count) {
    createMarked(name, "latest");
    for (int i = 1; i <= count; i++) {
      String marker = "v" + i;
      lambda.updateFunctionCode(b -> b.functionName(name).zipFile(Examples.marked(marker)));
      assertEquals(Integer.toString(i), lambda.publishVersion(b -> b.functionName(name)).version());
    }
  }

  private static void createMarked(String name, String marker) {
    lambda.createFunction(b -> b.functionName(name).runtime("python3.11").handler("app.handler").role(ROLE)
        .code(c -> c.zipFile(Examples.marked(marker))));
  }

  private static InvokeResponse invoke(String name, String qualifier) {
    return lambda.invoke(b -> b.functionName(name).qualifier(qualifier).payload(SdkBytes.fromUtf8String("{}")));
  }

  private static List<String> names(List<AliasConfiguration> aliases) {
    return aliases.stream().map(AliasConfiguration::name).toList();
  }

}
