package dev.lamina.node.layers;

import static dev.lamina.node.testing.Functions.ROLE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.DeleteLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionConfigurationResponse;
import software.amazon.awssdk.services.lambda.model.GetLayerVersionByArnResponse;
import software.amazon.awssdk.services.lambda.model.GetLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.LayerVersionsListItem;
import software.amazon.awssdk.services.lambda.model.LayersListItem;
import software.amazon.awssdk.services.lambda.model.ListLayerVersionsResponse;
import software.amazon.awssdk.services.lambda.model.ListLayersResponse;
import software.amazon.awssdk.services.lambda.model.PublishLayerVersionResponse;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.Runtime;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionConfigurationResponse;

/**
 * The layer management operations of contract §1.3 through the AWS SDK: publish, get (by name and
 * version, by ARN), list layers and versions with filters and pages, delete; and how a function
 * shows the layers it refers to.
 */
@ExtendWith(NodePerClass.class)
class LayersApiTest {

  private static final String LAYER_ARN_PREFIX = "arn:aws:lambda:us-east-1:000000000000:layer:";
  private static final Pattern CREATED_DATE =
      Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\+0000");
  private static final String NOT_FOUND = "The resource you requested does not exist.";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static TestNode node;
  static LambdaClient lambda;

  // ---- PublishLayerVersion ---------------------------------------------------------------------

  @Test
  void publishAnswers201WithContentDigestArnsAndVersionOne() throws Exception {
    byte[] zip = Examples.zipOf("layers/python-greeting").asByteArray();

    PublishLayerVersionResponse published = lambda.publishLayerVersion(b -> b.layerName("la-publish")
        .description("greeting for python").licenseInfo("MIT")
        .compatibleRuntimes(Runtime.PYTHON3_11, Runtime.PYTHON3_12)
        .compatibleArchitectures(Architecture.X86_64)
        .content(c -> c.zipFile(SdkBytes.fromByteArray(zip))));

    assertEquals(201, published.sdkHttpResponse().statusCode());
    assertEquals(LAYER_ARN_PREFIX + "la-publish", published.layerArn());
    assertEquals(LAYER_ARN_PREFIX + "la-publish:1", published.layerVersionArn());
    assertEquals(1L, published.version());
    assertEquals("greeting for python", published.description());
    assertTrue(CREATED_DATE.matcher(published.createdDate()).matches(), published.createdDate());
    assertEquals(sha256Base64(zip), published.content().codeSha256());
    assertEquals(zip.length, published.content().codeSize());
    assertNotNull(published.content().location());
    assertEquals(List.of("python3.11", "python3.12"), published.compatibleRuntimesAsStrings());
    assertEquals(List.of("x86_64"), published.compatibleArchitecturesAsStrings());
    assertEquals("MIT", published.licenseInfo());
  }

  @Test
  void publishWithoutOptionalMembersHasAnEmptyDescriptionAndOmitsTheRest() throws Exception {
    lambda.publishLayerVersion(b -> b.layerName("la-bare").content(c -> c.zipFile(greetingLayer())));

    JsonNode got = getJson("/2018-10-31/layers/la-bare/versions/1");

    assertEquals("", got.get("Description").asText(), got.toString());
    assertFalse(got.has("CompatibleRuntimes"), got.toString());
    assertFalse(got.has("CompatibleArchitectures"), got.toString());
    assertFalse(got.has("LicenseInfo"), got.toString());
    assertEquals(1, got.get("Version").asInt(), "Version is a JSON number");
    assertTrue(got.get("Version").isIntegralNumber(), got.toString());
  }

  @Test
  void contentLocationServesThePublishedZip() throws Exception {
    byte[] zip = Examples.zipOf("layers/node-greeting").asByteArray();
    PublishLayerVersionResponse published = lambda.publishLayerVersion(b -> b.layerName("la-download")
        .content(c -> c.zipFile(SdkBytes.fromByteArray(zip))));

    HttpResponse<byte[]> download = HTTP.send(HttpRequest.newBuilder(URI.create(published.content().location()))
        .GET().build(), HttpResponse.BodyHandlers.ofByteArray());

    assertEquals(200, download.statusCode());
    assertArrayEquals(zip, download.body());
  }

  @Test
  void versionNumbersCountUpAndAreNeverReusedAfterDeletes() {
    long first = publish("la-numbers", "one").version();
    long second = publish("la-numbers", "two").version();
    lambda.deleteLayerVersion(b -> b.layerName("la-numbers").versionNumber(second));
    long third = publish("la-numbers", "three").version();
    lambda.deleteLayerVersion(b -> b.layerName("la-numbers").versionNumber(first));
    lambda.deleteLayerVersion(b -> b.layerName("la-numbers").versionNumber(third));

    long fourth = publish("la-numbers", "four").version();

    assertEquals(List.of(1L, 2L, 3L, 4L), List.of(first, second, third, fourth));
    assertEquals(List.of(4L), versionsOf("la-numbers"));
  }

  // ---- GetLayerVersion / GetLayerVersionByArn --------------------------------------------------

  @Test
  void getLayerVersionReturnsWhatPublishReturned() {
    PublishLayerVersionResponse published = lambda.publishLayerVersion(b -> b.layerName("la-get")
        .description("d").licenseInfo("Apache-2.0").compatibleRuntimes(Runtime.NODEJS20_X)
        .compatibleArchitectures(Architecture.X86_64, Architecture.ARM64)
        .content(c -> c.zipFile(greetingLayer())));

    GetLayerVersionResponse got = lambda.getLayerVersion(b -> b.layerName("la-get").versionNumber(1L));

    assertEquals(200, got.sdkHttpResponse().statusCode());
    assertEquals(published.layerArn(), got.layerArn());
    assertEquals(published.layerVersionArn(), got.layerVersionArn());
    assertEquals(published.version(), got.version());
    assertEquals(published.description(), got.description());
    assertEquals(published.createdDate(), got.createdDate());
    assertEquals(published.content().codeSha256(), got.content().codeSha256());
    assertEquals(published.content().codeSize(), got.content().codeSize());
    assertEquals(published.content().location(), got.content().location());
    assertEquals(List.of("nodejs20.x"), got.compatibleRuntimesAsStrings());
    assertEquals(List.of("x86_64", "arm64"), got.compatibleArchitecturesAsStrings());
    assertEquals("Apache-2.0", got.licenseInfo());
  }

  @Test
  void getLayerVersionAcceptsTheLayerArnAsLayerName() {
    PublishLayerVersionResponse published = publish("la-by-layer-arn", "x");

    GetLayerVersionResponse got = lambda.getLayerVersion(b -> b.layerName(published.layerArn()).versionNumber(1L));

    assertEquals(published.layerVersionArn(), got.layerVersionArn());
  }

  @Test
  void getLayerVersionByArnReturnsTheSameVersion() {
    publish("la-by-arn", "one");
    PublishLayerVersionResponse second = publish("la-by-arn", "two");

    GetLayerVersionByArnResponse got = lambda.getLayerVersionByArn(b -> b.arn(second.layerVersionArn()));

    assertEquals(200, got.sdkHttpResponse().statusCode());
    assertEquals(second.layerVersionArn(), got.layerVersionArn());
    assertEquals(2L, got.version());
    assertEquals(second.content().codeSha256(), got.content().codeSha256());
    assertEquals(second.content().location(), got.content().location());
    assertEquals(second.createdDate(), got.createdDate());
  }

  @Test
  void aMissingVersionIsResourceNotFound() {
    publish("la-missing", "only one");

    assertNotFound(() -> lambda.getLayerVersion(b -> b.layerName("la-missing").versionNumber(2L)));
    assertNotFound(() -> lambda.getLayerVersion(b -> b.layerName("la-never-published").versionNumber(1L)));
    assertNotFound(() -> lambda.getLayerVersionByArn(b -> b.arn(LAYER_ARN_PREFIX + "la-missing:2")));
    assertNotFound(() -> lambda.getLayerVersionByArn(b -> b.arn(LAYER_ARN_PREFIX + "la-never-published:1")));
  }

  // ---- DeleteLayerVersion ----------------------------------------------------------------------

  @Test
  void deleteAnswers204AndTheVersionIsGoneFromGetAndList() {
    publish("la-delete", "one");
    publish("la-delete", "two");

    DeleteLayerVersionResponse deleted = lambda.deleteLayerVersion(b -> b.layerName("la-delete").versionNumber(1L));

    assertEquals(204, deleted.sdkHttpResponse().statusCode());
    assertNotFound(() -> lambda.getLayerVersion(b -> b.layerName("la-delete").versionNumber(1L)));
    assertEquals(List.of(2L), versionsOf("la-delete"));
  }

  @Test
  void deleteIsIdempotentForDeletedAndNeverExistingVersions() {
    publish("la-delete-again", "one");
    lambda.deleteLayerVersion(b -> b.layerName("la-delete-again").versionNumber(1L));

    DeleteLayerVersionResponse again = lambda.deleteLayerVersion(b -> b.layerName("la-delete-again").versionNumber(1L));
    DeleteLayerVersionResponse neverPublished =
        lambda.deleteLayerVersion(b -> b.layerName("la-delete-again").versionNumber(7L));
    DeleteLayerVersionResponse unknownLayer =
        lambda.deleteLayerVersion(b -> b.layerName("la-no-such-layer").versionNumber(1L));

    assertEquals(204, again.sdkHttpResponse().statusCode());
    assertEquals(204, neverPublished.sdkHttpResponse().statusCode());
    assertEquals(204, unknownLayer.sdkHttpResponse().statusCode());
    assertEquals(List.of(), versionsOf("la-delete-again"));
  }

  // ---- ListLayerVersions -----------------------------------------------------------------------

  @Test
  void listLayerVersionsIsNewestFirstWithEachVersionsDetails() {
    publish("la-versions", "one");
    publish("la-versions", "two");
    lambda.publishLayerVersion(b -> b.layerName("la-versions").description("three").licenseInfo("MIT")
        .compatibleRuntimes(Runtime.PYTHON3_12).content(c -> c.zipFile(greetingLayer())));

    ListLayerVersionsResponse listed = lambda.listLayerVersions(b -> b.layerName("la-versions"));

    assertEquals(200, listed.sdkHttpResponse().statusCode());
    assertNull(listed.nextMarker());
    List<LayerVersionsListItem> versions = listed.layerVersions();
    assertEquals(List.of(3L, 2L, 1L), versions.stream().map(LayerVersionsListItem::version).toList());
    LayerVersionsListItem newest = versions.get(0);
    assertEquals(LAYER_ARN_PREFIX + "la-versions:3", newest.layerVersionArn());
    assertEquals("three", newest.description());
    assertEquals("MIT", newest.licenseInfo());
    assertEquals(List.of("python3.12"), newest.compatibleRuntimesAsStrings());
    assertTrue(CREATED_DATE.matcher(newest.createdDate()).matches(), newest.createdDate());
    assertEquals("one", versions.get(2).description());
  }

  @Test
  void listLayerVersionsFiltersByCompatibleRuntimeAndArchitecture() {
    publishFor("la-vfilter", List.of("python3.12"), List.of("x86_64"));
    publishFor("la-vfilter", List.of("nodejs20.x"), List.of("arm64"));
    publishFor("la-vfilter", List.of("python3.12", "nodejs20.x"), List.of("arm64"));
    publishFor("la-vfilter", null, null);

    List<Long> python = lambda.listLayerVersions(b -> b.layerName("la-vfilter").compatibleRuntime(Runtime.PYTHON3_12))
        .layerVersions().stream().map(LayerVersionsListItem::version).toList();
    List<Long> arm = lambda.listLayerVersions(b -> b.layerName("la-vfilter")
        .compatibleArchitecture(Architecture.ARM64)).layerVersions().stream().map(LayerVersionsListItem::version)
        .toList();
    List<Long> both = lambda.listLayerVersions(b -> b.layerName("la-vfilter").compatibleRuntime(Runtime.PYTHON3_12)
        .compatibleArchitecture(Architecture.ARM64)).layerVersions().stream().map(LayerVersionsListItem::version)
        .toList();

    assertEquals(List.of(3L, 1L), python);
    assertEquals(List.of(3L, 2L), arm);
    assertEquals(List.of(3L), both);
    assertEquals(List.of(4L, 3L, 2L, 1L), versionsOf("la-vfilter"), "no filter lists every version");
  }

  @Test
  void listLayerVersionsPagesWithMaxItemsAndMarker() {
    for (int i = 1; i <= 5; i++) {
      publish("la-vpages", "v" + i);
    }

    ListLayerVersionsResponse first = lambda.listLayerVersions(b -> b.layerName("la-vpages").maxItems(2));
    ListLayerVersionsResponse second =
        lambda.listLayerVersions(b -> b.layerName("la-vpages").maxItems(2).marker(first.nextMarker()));
    ListLayerVersionsResponse third =
        lambda.listLayerVersions(b -> b.layerName("la-vpages").maxItems(2).marker(second.nextMarker()));

    assertEquals(List.of(5L, 4L), first.layerVersions().stream().map(LayerVersionsListItem::version).toList());
    assertNotNull(first.nextMarker());
    assertEquals(List.of(3L, 2L), second.layerVersions().stream().map(LayerVersionsListItem::version).toList());
    assertNotNull(second.nextMarker());
    assertEquals(List.of(1L), third.layerVersions().stream().map(LayerVersionsListItem::version).toList());
    assertNull(third.nextMarker());
    assertEquals(List.of(5L, 4L, 3L, 2L, 1L), lambda.listLayerVersionsPaginator(b -> b.layerName("la-vpages")
        .maxItems(1)).layerVersions().stream().map(LayerVersionsListItem::version).toList(),
        "the SDK paginator walks every page");
  }

  @Test
  void listLayerVersionsOfAnUnknownLayerIsAnEmptyList() throws Exception {
    ListLayerVersionsResponse listed = lambda.listLayerVersions(b -> b.layerName("la-never-seen"));

    assertEquals(200, listed.sdkHttpResponse().statusCode());
    assertEquals(List.of(), listed.layerVersions());
    assertNull(listed.nextMarker());
    JsonNode raw = getJson("/2018-10-31/layers/la-never-seen/versions");
    assertTrue(raw.get("LayerVersions").isArray() && raw.get("LayerVersions").isEmpty(), raw.toString());
  }

  // ---- ListLayers ------------------------------------------------------------------------------

  @Test
  void listLayersShowsEachLayerWithItsLatestVersion() {
    publish("la-list-a", "a1");
    publish("la-list-a", "a2");
    publish("la-list-b", "b1");
    publish("la-list-gone", "g1");
    lambda.deleteLayerVersion(b -> b.layerName("la-list-gone").versionNumber(1L));

    Map<String, LayersListItem> listed = allLayers(null, null);

    LayersListItem a = listed.get("la-list-a");
    assertNotNull(a, listed.keySet().toString());
    assertEquals(LAYER_ARN_PREFIX + "la-list-a", a.layerArn());
    assertEquals(2L, a.latestMatchingVersion().version());
    assertEquals(LAYER_ARN_PREFIX + "la-list-a:2", a.latestMatchingVersion().layerVersionArn());
    assertEquals("a2", a.latestMatchingVersion().description());
    assertEquals(1L, listed.get("la-list-b").latestMatchingVersion().version());
    assertFalse(listed.containsKey("la-list-gone"), "a layer whose versions are all deleted is not listed");
  }

  @Test
  void listLayersShowsThePreviousVersionOnceTheLatestIsDeleted() {
    publish("la-list-latest", "one");
    publish("la-list-latest", "two");

    lambda.deleteLayerVersion(b -> b.layerName("la-list-latest").versionNumber(2L));

    assertEquals(1L, allLayers(null, null).get("la-list-latest").latestMatchingVersion().version());
  }

  @Test
  void listLayersFiltersPickTheLatestMatchingVersion() {
    publishFor("la-lfilter", List.of("python3.12"), List.of("x86_64"));
    publishFor("la-lfilter", List.of("nodejs20.x"), List.of("arm64"));
    publishFor("la-lfilter-other", List.of("java17"), null);

    Map<String, LayersListItem> python = allLayers(Runtime.PYTHON3_12, null);
    Map<String, LayersListItem> node = allLayers(Runtime.NODEJS20_X, null);
    Map<String, LayersListItem> x86 = allLayers(null, Architecture.X86_64);
    Map<String, LayersListItem> unfiltered = allLayers(null, null);

    assertEquals(1L, python.get("la-lfilter").latestMatchingVersion().version());
    assertFalse(python.containsKey("la-lfilter-other"), python.keySet().toString());
    assertEquals(2L, node.get("la-lfilter").latestMatchingVersion().version());
    assertEquals(1L, x86.get("la-lfilter").latestMatchingVersion().version());
    assertFalse(x86.containsKey("la-lfilter-other"), "a layer that names no architecture matches no filter on it");
    assertEquals(2L, unfiltered.get("la-lfilter").latestMatchingVersion().version());
    assertEquals(1L, unfiltered.get("la-lfilter-other").latestMatchingVersion().version());
  }

  @Test
  void listLayersPagesWithMaxItemsAndMarker() {
    publish("la-page-1", "x");
    publish("la-page-2", "x");
    publish("la-page-3", "x");

    List<String> names = new ArrayList<>();
    String marker = null;
    int pages = 0;
    do {
      String from = marker;
      ListLayersResponse page = lambda.listLayers(b -> b.maxItems(1).marker(from));
      assertTrue(page.layers().size() <= 1, page.toString());
      page.layers().forEach(l -> names.add(l.layerName()));
      marker = page.nextMarker();
      pages++;
    } while (marker != null && pages < 1000);

    assertEquals(names.size(), names.stream().distinct().count(), "no layer twice: " + names);
    assertTrue(names.containsAll(List.of("la-page-1", "la-page-2", "la-page-3")), names.toString());
    assertEquals(names.size(), pages, "one layer per page");
    assertEquals(names, allLayers(null, null).keySet().stream().toList(), "the SDK paginator lists the same");
  }

  // ---- functions refer to layer versions ---------------------------------------------------------

  @Test
  void functionConfigurationShowsItsLayersInOrderWithArnAndCodeSize() {
    PublishLayerVersionResponse python = lambda.publishLayerVersion(b -> b.layerName("la-fn-python")
        .content(c -> c.zipFile(Examples.zipOf("layers/python-greeting"))));
    PublishLayerVersionResponse nodeLayer = lambda.publishLayerVersion(b -> b.layerName("la-fn-node")
        .content(c -> c.zipFile(Examples.zipOf("layers/node-greeting"))));

    CreateFunctionResponse created = lambda.createFunction(b -> b.functionName("la-fn").runtime("python3.12")
        .handler("app.handler").role(ROLE).code(c -> c.zipFile(Examples.zipOf("python/layered")))
        .layers(nodeLayer.layerVersionArn(), python.layerVersionArn()));
    GetFunctionConfigurationResponse got = lambda.getFunctionConfiguration(b -> b.functionName("la-fn"));

    List<Layer> expected = List.of(
        Layer.builder().arn(nodeLayer.layerVersionArn()).codeSize(nodeLayer.content().codeSize()).build(),
        Layer.builder().arn(python.layerVersionArn()).codeSize(python.content().codeSize()).build());
    assertEquals(expected, created.layers());
    assertEquals(expected, got.layers());
    assertEquals(expected, lambda.getFunction(b -> b.functionName("la-fn")).configuration().layers());
  }

  @Test
  void updateFunctionConfigurationReplacesTheLayersAndAnEmptyListRemovesThem() throws Exception {
    PublishLayerVersionResponse first = publish("la-upd-first", "x");
    PublishLayerVersionResponse second = publish("la-upd-second", "y");
    lambda.createFunction(b -> b.functionName("la-upd").runtime("python3.12").handler("app.handler").role(ROLE)
        .code(c -> c.zipFile(Examples.zipOf("python/layered"))).layers(first.layerVersionArn()));

    UpdateFunctionConfigurationResponse replaced = lambda.updateFunctionConfiguration(b -> b.functionName("la-upd")
        .layers(second.layerVersionArn()));
    UpdateFunctionConfigurationResponse untouched = lambda.updateFunctionConfiguration(b -> b.functionName("la-upd")
        .timeout(5));
    UpdateFunctionConfigurationResponse removed = lambda.updateFunctionConfiguration(b -> b.functionName("la-upd")
        .layers(List.of()));

    assertEquals(List.of(second.layerVersionArn()), replaced.layers().stream().map(Layer::arn).toList());
    assertEquals(List.of(second.layerVersionArn()), untouched.layers().stream().map(Layer::arn).toList(),
        "an update without Layers keeps them");
    assertFalse(removed.hasLayers(), "Layers: [] removes them; the member is then omitted");
    JsonNode raw = getJson("/2015-03-31/functions/la-upd/configuration");
    assertFalse(raw.has("Layers"), raw.toString());
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** A small python layer whose content (and so digest) differs by {@code description}. */
  private static PublishLayerVersionResponse publish(String layer, String description) {
    return lambda.publishLayerVersion(b -> b.layerName(layer).description(description)
        .content(c -> c.zipFile(SdkBytes.fromByteArray(
            Examples.zip(Map.of("python/" + layer.replace('-', '_') + ".py", "VALUE = '" + description + "'\n"))))));
  }

  private static void publishFor(String layer, List<String> runtimes, List<String> architectures) {
    lambda.publishLayerVersion(b -> b.layerName(layer).compatibleRuntimesWithStrings(runtimes)
        .compatibleArchitecturesWithStrings(architectures).content(c -> c.zipFile(greetingLayer())));
  }

  private static SdkBytes greetingLayer() {
    return Examples.zipOf("layers/python-greeting");
  }

  private static List<Long> versionsOf(String layer) {
    return lambda.listLayerVersions(b -> b.layerName(layer)).layerVersions().stream()
        .map(LayerVersionsListItem::version).toList();
  }

  /** Every listed layer by name, in listing order, through the SDK paginator. */
  private static Map<String, LayersListItem> allLayers(Runtime runtime, Architecture architecture) {
    Map<String, LayersListItem> byName = new java.util.LinkedHashMap<>();
    lambda.listLayersPaginator(b -> b.compatibleRuntime(runtime).compatibleArchitecture(architecture))
        .layers().forEach(l -> byName.put(l.layerName(), l));
    return byName;
  }

  private static void assertNotFound(Executable call) {
    ResourceNotFoundException e = assertThrows(ResourceNotFoundException.class, call);
    assertEquals(404, e.statusCode());
    assertEquals("ResourceNotFoundException", e.awsErrorDetails().errorCode());
    assertEquals(NOT_FOUND, e.awsErrorDetails().errorMessage());
  }

  private static JsonNode getJson(String path) throws Exception {
    HttpResponse<String> response = SignedHttp.send(SignedHttp.get(node.endpoint() + path));
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  private static String sha256Base64(byte[] bytes) throws Exception {
    return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
