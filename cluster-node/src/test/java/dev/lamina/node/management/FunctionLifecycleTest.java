package dev.lamina.node.management;

import static dev.lamina.node.testing.Functions.ROLE;
import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.invoke;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.DeleteFunctionResponse;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetAccountSettingsResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionConfigurationResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.ListFunctionsResponse;
import software.amazon.awssdk.services.lambda.model.LogFormat;
import software.amazon.awssdk.services.lambda.model.PackageType;
import software.amazon.awssdk.services.lambda.model.PreconditionFailedException;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;
import software.amazon.awssdk.services.lambda.model.State;
import software.amazon.awssdk.services.lambda.model.TracingMode;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionCodeResponse;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionConfigurationResponse;

/**
 * Every management operation of contract §1.1 and §1.7, driven through the AWS SDK as a user
 * would: create, read (three ways), list and paginate, update configuration and code, delete,
 * account settings.
 */
@ExtendWith(NodePerClass.class)
class FunctionLifecycleTest {

  private static final String ARN_PREFIX = "arn:aws:lambda:us-east-1:000000000000:function:";
  private static final Pattern LAST_MODIFIED =
      Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\+0000");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static TestNode node;
  static LambdaClient lambda;

  @Test
  void createFunctionAnswers201WithLambdaDefaultsAndCodeDigest() throws Exception {
    SdkBytes zip = Examples.zipOf("python/hello");

    CreateFunctionResponse created = createHello("lc-create", zip);

    assertEquals(201, created.sdkHttpResponse().statusCode());
    assertEquals("lc-create", created.functionName());
    assertEquals(ARN_PREFIX + "lc-create", created.functionArn());
    assertEquals("$LATEST", created.version());
    assertEquals("python3.11", created.runtimeAsString());
    assertEquals("handler.handler", created.handler());
    assertEquals(ROLE, created.role());
    assertEquals(sha256Base64(zip.asByteArray()), created.codeSha256());
    assertEquals(zip.asByteArray().length, created.codeSize());
    assertTrue(LAST_MODIFIED.matcher(created.lastModified()).matches(), created.lastModified());
    assertEquals(created.revisionId(), UUID.fromString(created.revisionId()).toString(), "RevisionId is a UUID");
    assertEquals(State.ACTIVE, created.state());
    assertEquals(LastUpdateStatus.SUCCESSFUL, created.lastUpdateStatus());
    assertEquals(3, created.timeout());
    assertEquals(128, created.memorySize());
    assertEquals(512, created.ephemeralStorage().size());
    assertEquals(List.of(Architecture.X86_64), created.architectures());
    assertEquals(PackageType.ZIP, created.packageType());
    assertEquals(TracingMode.PASS_THROUGH, created.tracingConfig().mode());
    assertEquals(LogFormat.TEXT, created.loggingConfig().logFormat());
    assertEquals("/aws/lambda/lc-create", created.loggingConfig().logGroup());
    assertEquals("", created.description());
    assertNull(created.deadLetterConfig(), "no DeadLetterConfig unless configured");
    assertNull(created.environment(), "no Environment unless given");
    assertNull(created.vpcConfig(), "no VpcConfig unless configured");
    assertFalse(created.hasLayers(), "no Layers unless configured");
  }

  @Test
  void createFunctionAcceptsAZipJustUnderThe50MbDirectUploadLimit() throws Exception {
    byte[] zip = helloWithFiller(52_428_800 - 4096);
    assertTrue(zip.length > 52_428_800 - 8192 && zip.length < 52_428_800, "zip is " + zip.length + " bytes");

    CreateFunctionResponse created = createHello("lc-big-zip", SdkBytes.fromByteArray(zip));

    assertEquals(201, created.sdkHttpResponse().statusCode());
    assertEquals(zip.length, created.codeSize());
    assertEquals(sha256Base64(zip), created.codeSha256());
  }

  @Test
  void creatingAnExistingFunctionIsAConflict() {
    createHello("lc-twice");

    ResourceConflictException e = assertThrows(ResourceConflictException.class, () -> createHello("lc-twice"));

    assertEquals(409, e.statusCode());
    assertEquals("ResourceConflictException", e.awsErrorDetails().errorCode());
    assertEquals("Function already exist: lc-twice", e.awsErrorDetails().errorMessage());
  }

  @Test
  void getFunctionReturnsConfigurationDownloadableCodeAndTags() throws Exception {
    byte[] zip = Examples.zipOf("python/hello").asByteArray();
    CreateFunctionResponse created = lambda.createFunction(b -> b.functionName("lc-get").runtime("python3.11")
        .handler("handler.handler").role(ROLE).code(c -> c.zipFile(SdkBytes.fromByteArray(zip)))
        .tags(Map.of("team", "lamina", "stage", "test")));

    GetFunctionResponse got = lambda.getFunction(b -> b.functionName("lc-get"));

    FunctionConfiguration config = got.configuration();
    assertEquals(ARN_PREFIX + "lc-get", config.functionArn());
    assertEquals("$LATEST", config.version());
    assertEquals(created.codeSha256(), config.codeSha256());
    assertEquals(created.revisionId(), config.revisionId());
    assertEquals(created.lastModified(), config.lastModified());
    assertEquals(State.ACTIVE, config.state());
    assertEquals(LastUpdateStatus.SUCCESSFUL, config.lastUpdateStatus());
    assertEquals(Map.of("team", "lamina", "stage", "test"), got.tags());
    assertEquals("S3", got.code().repositoryType());
    String location = got.code().location();
    assertTrue(location.startsWith("http://"), location);
    HttpResponse<byte[]> download = HTTP.send(HttpRequest.newBuilder(URI.create(location)).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, download.statusCode());
    assertArrayEquals(zip, download.body(), "Code.Location serves exactly the uploaded zip");
  }

  @Test
  void getFunctionConfigurationResolvesNameLatestQualifierFullArnAndPartialArn() {
    CreateFunctionResponse created = createHello("lc-config");

    List<GetFunctionConfigurationResponse> views = List.of(
        lambda.getFunctionConfiguration(b -> b.functionName("lc-config")),
        lambda.getFunctionConfiguration(b -> b.functionName("lc-config").qualifier("$LATEST")),
        lambda.getFunctionConfiguration(b -> b.functionName(ARN_PREFIX + "lc-config")),
        lambda.getFunctionConfiguration(b -> b.functionName("000000000000:function:lc-config")));

    for (GetFunctionConfigurationResponse view : views) {
      assertEquals(200, view.sdkHttpResponse().statusCode());
      assertEquals("lc-config", view.functionName());
      assertEquals(ARN_PREFIX + "lc-config", view.functionArn(), "unqualified ARN for $LATEST");
      assertEquals("$LATEST", view.version());
      assertEquals(created.revisionId(), view.revisionId());
      assertEquals(created.codeSha256(), view.codeSha256());
      assertEquals(State.ACTIVE, view.state());
    }
  }

  @Test
  void listFunctionsPagesWithMaxItemsAndNextMarkerUntilTheLastPage() {
    List<String> mine = List.of("lc-list-a", "lc-list-b", "lc-list-c", "lc-list-d", "lc-list-e", "lc-list-f",
        "lc-list-g");
    for (String name : List.of("lc-list-d", "lc-list-a", "lc-list-g", "lc-list-c", "lc-list-f", "lc-list-b",
        "lc-list-e")) {
      createHello(name);
    }

    List<String> seen = new ArrayList<>();
    String marker = null;
    int pages = 0;
    do {
      String from = marker;
      ListFunctionsResponse page = lambda.listFunctions(b -> b.maxItems(3).marker(from));
      pages++;
      assertTrue(page.functions().size() <= 3, "page " + pages + " has " + page.functions().size() + " entries");
      for (FunctionConfiguration f : page.functions()) {
        seen.add(f.functionName());
        assertEquals(ARN_PREFIX + f.functionName(), f.functionArn());
        assertNull(f.state(), "list entries omit State");
        assertNull(f.lastUpdateStatus(), "list entries omit LastUpdateStatus");
      }
      marker = page.nextMarker();
      assertTrue(pages < 100, "pagination terminates");
    } while (marker != null);

    assertTrue(pages >= 3, "7 functions need at least 3 pages of 3, got " + pages);
    assertEquals(new HashSet<>(seen).size(), seen.size(), "no function listed twice: " + seen);
    assertEquals(seen.stream().sorted().toList(), seen, "listed in name order");
    assertEquals(mine, seen.stream().filter(n -> n.startsWith("lc-list-")).toList());
  }

  @Test
  void listFunctionsPaginatorVisitsEveryFunctionOnce() {
    List<String> mine = List.of("lc-pager-1", "lc-pager-2", "lc-pager-3", "lc-pager-4", "lc-pager-5");
    mine.forEach(FunctionLifecycleTest::createHello);

    List<String> seen = lambda.listFunctionsPaginator(b -> b.maxItems(2)).functions().stream()
        .map(FunctionConfiguration::functionName).toList();

    assertEquals(new HashSet<>(seen).size(), seen.size(), "no function listed twice: " + seen);
    assertEquals(mine, seen.stream().filter(n -> n.startsWith("lc-pager-")).toList());
  }

  @Test
  void listFunctionsWireEntriesOmitStateAndLastUpdateStatus() throws Exception {
    createHello("lc-raw-list");

    HttpResponse<String> response = SignedHttp.send(SignedHttp.get(node.endpoint() + "/2015-03-31/functions?MaxItems=50"));

    assertEquals(200, response.statusCode());
    JsonNode entry = null;
    for (JsonNode f : JSON.readTree(response.body()).get("Functions")) {
      if (f.get("FunctionName").asText().equals("lc-raw-list")) {
        entry = f;
      }
    }
    assertNotNull(entry, response.body());
    assertEquals(ARN_PREFIX + "lc-raw-list", entry.get("FunctionArn").asText());
    for (String omitted : List.of("State", "StateReason", "StateReasonCode", "LastUpdateStatus",
        "LastUpdateStatusReason", "LastUpdateStatusReasonCode", "RuntimeVersionConfig")) {
      assertFalse(entry.has(omitted), omitted + " is omitted from list entries: " + entry);
    }
  }

  @Test
  void updateFunctionConfigurationChangesGivenMembersAndKeepsTheRest() throws Exception {
    CreateFunctionResponse created = createHello("lc-update-config");
    Thread.sleep(5); // LastModified has millisecond precision

    UpdateFunctionConfigurationResponse updated = lambda.updateFunctionConfiguration(b -> b
        .functionName("lc-update-config").timeout(30).memorySize(256).description("second revision")
        .environment(e -> e.variables(Map.of("GREETING", "hi"))));

    assertEquals(200, updated.sdkHttpResponse().statusCode());
    assertEquals(30, updated.timeout());
    assertEquals(256, updated.memorySize());
    assertEquals("second revision", updated.description());
    assertEquals(Map.of("GREETING", "hi"), updated.environment().variables());
    assertNotEquals(created.revisionId(), updated.revisionId());
    assertNotEquals(created.lastModified(), updated.lastModified());
    assertTrue(LAST_MODIFIED.matcher(updated.lastModified()).matches(), updated.lastModified());
    assertEquals(created.runtime(), updated.runtime());
    assertEquals(created.handler(), updated.handler());
    assertEquals(created.role(), updated.role());
    assertEquals(created.codeSha256(), updated.codeSha256());
    assertEquals(created.codeSize(), updated.codeSize());
    assertEquals(created.ephemeralStorage(), updated.ephemeralStorage());
    assertEquals(created.loggingConfig(), updated.loggingConfig());
    assertEquals(created.tracingConfig(), updated.tracingConfig());
    GetFunctionConfigurationResponse after = lambda.getFunctionConfiguration(b -> b.functionName("lc-update-config"));
    assertEquals(updated.revisionId(), after.revisionId());
    assertEquals(30, after.timeout());
    assertEquals(256, after.memorySize());
    assertEquals(Map.of("GREETING", "hi"), after.environment().variables());
  }

  @Test
  void updateFunctionConfigurationWithAStaleRevisionIdFailsThePrecondition() {
    CreateFunctionResponse created = createHello("lc-update-stale");
    lambda.updateFunctionConfiguration(b -> b.functionName("lc-update-stale").timeout(10));

    PreconditionFailedException e = assertThrows(PreconditionFailedException.class, () ->
        lambda.updateFunctionConfiguration(b -> b.functionName("lc-update-stale").timeout(20)
            .revisionId(created.revisionId())));

    assertEquals(412, e.statusCode());
    assertEquals("PreconditionFailedException", e.awsErrorDetails().errorCode());
    assertEquals("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API "
        + "to retrieve the latest Revision Id", e.awsErrorDetails().errorMessage());
    assertEquals(10, lambda.getFunctionConfiguration(b -> b.functionName("lc-update-stale")).timeout(),
        "the refused update changed nothing");
  }

  @Test
  void updateFunctionConfigurationWithTheCurrentRevisionIdSucceeds() {
    CreateFunctionResponse created = createHello("lc-update-current");

    UpdateFunctionConfigurationResponse updated = lambda.updateFunctionConfiguration(b -> b
        .functionName("lc-update-current").timeout(7).revisionId(created.revisionId()));

    assertEquals(7, updated.timeout());
    assertNotEquals(created.revisionId(), updated.revisionId());
  }

  @Test
  void updateFunctionCodeReplacesTheCodeThatTheNextInvokeRuns() throws Exception {
    byte[] v1 = Examples.zip(Map.of("app.py", "def handler(e, c):\n    return 'v1'\n"));
    byte[] v2 = Examples.zip(Map.of("app.py", "def handler(e, c):\n    # the second release\n    return 'v2'\n"));
    CreateFunctionResponse created = lambda.createFunction(b -> b.functionName("lc-update-code")
        .runtime("python3.11").handler("app.handler").role(ROLE).code(c -> c.zipFile(SdkBytes.fromByteArray(v1))));
    assertEquals("\"v1\"", body(invoke(lambda, "lc-update-code", "{}")));

    UpdateFunctionCodeResponse updated = lambda.updateFunctionCode(b -> b.functionName("lc-update-code")
        .zipFile(SdkBytes.fromByteArray(v2)));

    assertEquals(200, updated.sdkHttpResponse().statusCode());
    assertEquals(sha256Base64(v2), updated.codeSha256());
    assertNotEquals(created.codeSha256(), updated.codeSha256());
    assertEquals(v2.length, updated.codeSize());
    assertNotEquals(created.codeSize(), updated.codeSize());
    assertNotEquals(created.revisionId(), updated.revisionId());
    assertEquals("app.handler", updated.handler(), "configuration is kept");
    InvokeResponse after = invoke(lambda, "lc-update-code", "{}");
    assertEquals(200, after.statusCode());
    assertNull(after.functionError());
    assertEquals("\"v2\"", body(after), "the invoke after UpdateFunctionCode runs the new code");
    GetFunctionResponse got = lambda.getFunction(b -> b.functionName("lc-update-code"));
    assertArrayEquals(v2, HTTP.send(HttpRequest.newBuilder(URI.create(got.code().location())).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray()).body(), "Code.Location serves the new zip");
  }

  @Test
  void deleteFunctionAnswers204AndTheFunctionIsGoneUntilRecreated() {
    createHello("lc-delete");
    assertEquals("Hello, world!", messageOf(invoke(lambda, "lc-delete", "{}")));

    DeleteFunctionResponse deleted = lambda.deleteFunction(b -> b.functionName("lc-delete"));

    assertEquals(204, deleted.sdkHttpResponse().statusCode());
    ResourceNotFoundException get = assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunction(b -> b.functionName("lc-delete")));
    assertEquals(404, get.statusCode());
    assertEquals("ResourceNotFoundException", get.awsErrorDetails().errorCode());
    assertEquals("Function not found: " + ARN_PREFIX + "lc-delete", get.awsErrorDetails().errorMessage());
    ResourceNotFoundException invoked = assertThrows(ResourceNotFoundException.class,
        () -> invoke(lambda, "lc-delete", "{}"));
    assertEquals(404, invoked.statusCode());
    assertEquals("Function not found: " + ARN_PREFIX + "lc-delete:$LATEST", invoked.awsErrorDetails().errorMessage());
    assertFalse(lambda.listFunctionsPaginator(b -> b.maxItems(50)).functions().stream()
        .anyMatch(f -> f.functionName().equals("lc-delete")), "a deleted function is not listed");

    CreateFunctionResponse recreated = createHello("lc-delete");

    assertEquals(201, recreated.sdkHttpResponse().statusCode());
    assertEquals(ARN_PREFIX + "lc-delete", lambda.getFunction(b -> b.functionName("lc-delete"))
        .configuration().functionArn());
    assertEquals("Hello, world!", messageOf(invoke(lambda, "lc-delete", "{}")));
  }

  @Test
  void getAccountSettingsReportsLambdaLimitsAndUsageOfCreatedFunctions() {
    GetAccountSettingsResponse before = lambda.getAccountSettings(b -> { });
    SdkBytes zip = Examples.zipOf("python/hello");

    createHello("lc-account", zip);
    GetAccountSettingsResponse after = lambda.getAccountSettings(b -> { });

    assertEquals(80530636800L, after.accountLimit().totalCodeSize());
    assertEquals(262144000L, after.accountLimit().codeSizeUnzipped());
    assertEquals(52428800L, after.accountLimit().codeSizeZipped());
    assertEquals(1000, after.accountLimit().concurrentExecutions());
    assertEquals(1000, after.accountLimit().unreservedConcurrentExecutions());
    assertEquals(before.accountUsage().functionCount() + 1, after.accountUsage().functionCount());
    assertEquals(before.accountUsage().totalCodeSize() + zip.asByteArray().length,
        after.accountUsage().totalCodeSize());

    lambda.deleteFunction(b -> b.functionName("lc-account"));
    GetAccountSettingsResponse afterDelete = lambda.getAccountSettings(b -> { });

    assertEquals(before.accountUsage().functionCount(), afterDelete.accountUsage().functionCount());
    assertEquals(before.accountUsage().totalCodeSize(), afterDelete.accountUsage().totalCodeSize());
  }

  private static CreateFunctionResponse createHello(String name) {
    return createHello(name, Examples.zipOf("python/hello"));
  }

  private static CreateFunctionResponse createHello(String name, SdkBytes zip) {
    return lambda.createFunction(b -> b.functionName(name).runtime("python3.11").handler("handler.handler")
        .role(ROLE).code(c -> c.zipFile(zip)));
  }

  /** The hello handler plus a STORED entry of {@code fillerBytes} random bytes (incompressible). */
  private static byte[] helloWithFiller(int fillerBytes) throws IOException {
    byte[] filler = new byte[fillerBytes];
    new Random(7).nextBytes(filler);
    CRC32 crc = new CRC32();
    crc.update(filler);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(fillerBytes + 8192);
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("handler.py"));
      zip.write(Files.readAllBytes(Examples.dir().resolve("python/hello/handler.py")));
      zip.closeEntry();
      ZipEntry entry = new ZipEntry("filler.bin");
      entry.setMethod(ZipEntry.STORED);
      entry.setSize(fillerBytes);
      entry.setCompressedSize(fillerBytes);
      entry.setCrc(crc.getValue());
      zip.putNextEntry(entry);
      zip.write(filler);
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  private static String messageOf(InvokeResponse response) {
    try {
      return JSON.readTree(body(response)).path("message").asText();
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body(response), e);
    }
  }

  private static String sha256Base64(byte[] bytes) throws Exception {
    return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
