package dev.lamina.node.management;

import static dev.lamina.node.testing.Functions.ROLE;
import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.invoke;
import static dev.lamina.node.testing.Refusals.assertError;
import static dev.lamina.node.testing.Refusals.refused;
import static dev.lamina.node.testing.Refusals.refusedCreate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import dev.lamina.persistence.code.TestZips;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.function.Executable;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Every bad input is answered with Lambda's own error (status, {@code x-amzn-ErrorType}, message)
 * and leaves nothing behind: a refused CreateFunction creates no function. The node keeps serving
 * afterwards (the last test).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(NodePerClass.class)
class BadInputTest {

  private static final String ARN_PREFIX = "arn:aws:lambda:us-east-1:000000000000:function:";
  private static final String ROLE_PATTERN = "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+";
  private static final String UNZIP_FAILED =
      "Could not unzip uploaded file. Please check your file, then try to upload again.";
  private static final String ECHO = "bi-echo";
  private static final ObjectMapper JSON = new ObjectMapper();

  static TestNode node;
  static LambdaClient lambda;

  @BeforeAll
  static void createFixtures() {
    lambda.createFunction(b -> b.functionName(ECHO).runtime("python3.11").handler("app.handler").role(ROLE)
        .code(c -> c.zipFile(SdkBytes.fromByteArray(
            Examples.zip(Map.of("app.py", "def handler(event, context):\n    return event\n"))))));
  }

  // ---- CreateFunction: names, role, runtime, handler ---------------------------------------------

  @Test
  void refusesInvalidFunctionNameCharactersWithValidationException() {
    LambdaException e = refusedCreate(lambda, "bad name!", b -> { });

    assertError(e, 400, "ValidationException");
    assertTrue(e.awsErrorDetails().errorMessage().startsWith("1 validation error detected: Value 'bad name!' at "
        + "'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: "),
        e.awsErrorDetails().errorMessage());
    // GetFunction refuses such a name itself, so only ListFunctions can show nothing was created.
    assertNotListed("bad name!");
  }

  @Test
  void refusesA65CharacterNameWithInvalidParameterValueException() {
    String name = "n".repeat(65);

    LambdaException e = refusedCreate(lambda, name, b -> { });

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals("1 validation error detected: Value '" + name + "' at 'functionName' failed to satisfy constraint: "
        + "Member must have length less than or equal to 64", e.awsErrorDetails().errorMessage());
    // GetFunction refuses such a name itself, so only ListFunctions can show nothing was created.
    assertNotListed(name);
  }

  @Test
  void refusesAMissingRoleWithValidationException() {
    LambdaException e = refusedCreate(lambda, "bi-no-role", b -> b.role(null));

    assertError(e, 400, "ValidationException");
    assertEquals("1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not "
        + "be null", e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-no-role");
  }

  @Test
  void refusesARoleThatIsNotARoleArnWithValidationException() {
    LambdaException e = refusedCreate(lambda, "bi-bad-role", b -> b.role("r1"));

    assertError(e, 400, "ValidationException");
    assertEquals("1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must "
        + "satisfy regular expression pattern: " + ROLE_PATTERN, e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-bad-role");
  }

  @Test
  void refusesAnUnknownRuntimeWithValidationException() {
    LambdaException e = refusedCreate(lambda, "bi-cobol", b -> b.runtime("cobol85"));

    assertError(e, 400, "ValidationException");
    assertTrue(e.awsErrorDetails().errorMessage().startsWith("1 validation error detected: Value 'cobol85' at "
        + "'runtime' failed to satisfy constraint: Member must satisfy enum value set: "),
        e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-cobol");
  }

  @Test
  void refusesALayerVersionThatDoesNotExistAndCreatesNothing() {
    LambdaException e = refusedCreate(lambda, "bi-layers", b -> b.publish(true)
        .layers("arn:aws:lambda:us-east-1:000000000000:layer:bi-no-such-layer:1"));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals("Layer version arn:aws:lambda:us-east-1:000000000000:layer:bi-no-such-layer:1 does not exist.",
        e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-layers");
  }

  @Test
  void refusesAnEnvironmentValueWithANulCharacter() {
    LambdaException e = refusedCreate(lambda, "bi-env-nul", b -> b.environment(env -> env.variables(Map.of("KEY", "a\u0000b"))));

    assertError(e, 400, "InvalidParameterValueException");
    assertNotCreated("bi-env-nul");
  }

  @Test
  void refusesTheDeprecatedPython27RuntimeWithInvalidParameterValueException() {
    LambdaException e = refusedCreate(lambda, "bi-python27", b -> b.runtime("python2.7"));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals("The runtime parameter of python2.7 is no longer supported for creating or updating AWS Lambda "
        + "functions. We recommend you use a supported runtime while creating or updating functions.",
        e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-python27");
  }

  @Test
  void refusesAMissingHandlerWithInvalidParameterValueException() {
    LambdaException e = refusedCreate(lambda, "bi-no-handler", b -> b.handler(null));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals("Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-no-handler");
  }

  // ---- CreateFunction: numeric limits ----------------------------------------------------------

  @Test
  void refusesTimeoutZeroWithValidationException() {
    LambdaException e = refusedCreate(lambda, "bi-timeout-0", b -> b.timeout(0));

    assertError(e, 400, "ValidationException");
    assertEquals("1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must "
        + "have value greater than or equal to 1", e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-timeout-0");
  }

  @Test
  void refusesTimeoutAbove900WithValidationException() {
    LambdaException e = refusedCreate(lambda, "bi-timeout-901", b -> b.timeout(901));

    assertError(e, 400, "ValidationException");
    assertEquals("1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must "
        + "have value less than or equal to 900", e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-timeout-901");
  }

  @Test
  void refusesMemorySizeBelow128WithValidationException() {
    LambdaException e = refusedCreate(lambda, "bi-memory-127", b -> b.memorySize(127));

    assertError(e, 400, "ValidationException");
    assertEquals("1 validation error detected: Value '127' at 'memorySize' failed to satisfy constraint: Member "
        + "must have value greater than or equal to 128", e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-memory-127");
  }

  @Test
  void refusesMemorySizeAbove10240WithValidationException() {
    LambdaException e = refusedCreate(lambda, "bi-memory-10241", b -> b.memorySize(10241));

    assertError(e, 400, "ValidationException");
    assertEquals("1 validation error detected: Value '10241' at 'memorySize' failed to satisfy constraint: Member "
        + "must have value less than or equal to 10240", e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-memory-10241");
  }

  @Test
  void refusesEphemeralStorageBelow512WithValidationException() {
    LambdaException e = refusedCreate(lambda, "bi-tmp-511", b -> b.ephemeralStorage(s -> s.size(511)));

    assertError(e, 400, "ValidationException");
    assertEquals("1 validation error detected: Value '511' at 'ephemeralStorage.size' failed to satisfy "
        + "constraint: Member must have value greater than or equal to 512", e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-tmp-511");
  }

  @Test
  void refusesEphemeralStorageAbove10240WithValidationException() {
    LambdaException e = refusedCreate(lambda, "bi-tmp-10241", b -> b.ephemeralStorage(s -> s.size(10241)));

    assertError(e, 400, "ValidationException");
    assertEquals("1 validation error detected: Value '10241' at 'ephemeralStorage.size' failed to satisfy "
        + "constraint: Member must have value less than or equal to 10240", e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-tmp-10241");
  }

  @Test
  void reportsTwoViolationsTogetherInOneValidationException() {
    LambdaException e = refusedCreate(lambda, "bi-two-errors", b -> b.timeout(901).memorySize(127));

    assertError(e, 400, "ValidationException");
    String message = e.awsErrorDetails().errorMessage();
    String prefix = "2 validation errors detected: ";
    assertTrue(message.startsWith(prefix), message);
    List<String> parts = Arrays.asList(message.substring(prefix.length()).split("; "));
    assertEquals(2, parts.size(), message);
    assertTrue(parts.contains("Value '901' at 'timeout' failed to satisfy constraint: Member must have value less "
        + "than or equal to 900"), message);
    assertTrue(parts.contains("Value '127' at 'memorySize' failed to satisfy constraint: Member must have value "
        + "greater than or equal to 128"), message);
    assertNotCreated("bi-two-errors");
  }

  // ---- CreateFunction: environment -------------------------------------------------------------

  @Test
  void refusesEnvironmentVariablesOver4KbWithTheMeasuredString() {
    String value = "x".repeat(4100);

    LambdaException e = refusedCreate(lambda, "bi-env-big", b -> b.environment(v -> v.variables(Map.of("BIG", value))));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals("Lambda was unable to configure your environment variables because the environment variables you "
        + "have provided exceeded the 4KB limit. String measured: {\"BIG\":\"" + value + "\"}",
        e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-env-big");
  }

  @Test
  void refusesTheReservedEnvironmentKeyAwsRegion() {
    LambdaException e = refusedCreate(lambda, "bi-env-reserved",
        b -> b.environment(v -> v.variables(Map.of("AWS_REGION", "eu-west-1"))));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals("Lambda was unable to configure your environment variables because the environment variables you "
        + "have provided contains reserved keys that are currently not supported for modification. Reserved keys "
        + "used in this request: AWS_REGION", e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-env-reserved");
  }

  // ---- CreateFunction: code packages -----------------------------------------------------------

  @Test
  void refusesAZipFileThatIsNotAZip() {
    LambdaException e = refusedCreate(lambda, "bi-not-zip",
        b -> b.code(c -> c.zipFile(SdkBytes.fromUtf8String("this is not a zip file"))));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals(UNZIP_FAILED, e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-not-zip");
  }

  @Test
  void refusesAZipEntryEscapingTheExtractionDirectoryWithDotDot() {
    byte[] zip = zipOf(Map.of("app.py", "def handler(e, c):\n    return 1\n", "../evil.py", "print('escaped')\n"));

    LambdaException e = refusedCreate(lambda, "bi-zip-dotdot", b -> b.code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals(UNZIP_FAILED, e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-zip-dotdot");
  }

  @Test
  void refusesAZipEntryWithAnAbsolutePath() {
    byte[] zip = zipOf(Map.of("app.py", "def handler(e, c):\n    return 1\n", "/tmp/evil.py", "print('escaped')\n"));

    LambdaException e = refusedCreate(lambda, "bi-zip-absolute", b -> b.code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals(UNZIP_FAILED, e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-zip-absolute");
  }

  @Test
  void refusesAZipContainingASymlink() {
    byte[] zip = withSymlink(zipOf(Map.of("app.py", "def handler(e, c):\n    return 1\n", "passwd", "/etc/passwd")),
        "passwd");

    LambdaException e = refusedCreate(lambda, "bi-zip-symlink", b -> b.code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals(UNZIP_FAILED, e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-zip-symlink");
  }

  @Test
  void refusesAZipOver50MbWithRequestEntityTooLarge() {
    byte[] zip = storedZip("big.bin", randomBytes(52_428_801));
    assertTrue(zip.length > 52_428_800);

    LambdaException e = refusedCreate(lambda, "bi-zip-50mb", b -> b.code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));

    assertError(e, 413, "RequestEntityTooLargeException");
    assertEquals("Zipped size must be smaller than 52428800 bytes", e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-zip-50mb");
  }

  @Test
  void refusesAZipOver250MbUnzipped() {
    byte[] zip = TestZips.deflatedZeros("zeros.bin", 262_144_001L);

    LambdaException e = refusedCreate(lambda, "bi-zip-250mb", b -> b.code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals("Unzipped size must be smaller than 262144000 bytes", e.awsErrorDetails().errorMessage());
    assertNotCreated("bi-zip-250mb");
  }

  @Test
  void refusesACreateFunctionBodyThatIsNotJson() throws Exception {
    HttpResponse<String> response = post("/2015-03-31/functions", Map.of("Content-Type", "application/json"),
        "not json");

    assertEquals(400, response.statusCode());
    assertEquals("InvalidRequestContentException", response.headers().firstValue("x-amzn-ErrorType").orElse(null));
    JsonNode error = JSON.readTree(response.body());
    assertTrue(error.path("message").asText().startsWith("Could not parse request body into json: "), response.body());
  }

  // ---- Invoke ------------------------------------------------------------------------------------

  @Test
  void refusesAnInvokePayloadThatIsNotJson() {
    LambdaException e = assertThrows(LambdaException.class, () -> invoke(lambda, ECHO, "not json"));

    assertError(e, 400, "InvalidRequestContentException");
    String message = e.awsErrorDetails().errorMessage();
    assertTrue(message.startsWith("Could not parse request body into json: Could not parse payload into json:"),
        message);
  }

  @Test
  void refusesAnInvokePayloadOver6MbWithRequestEntityTooLarge() {
    String payload = "\"" + "a".repeat(6_291_455) + "\"";
    assertEquals(6_291_457, payload.length());

    LambdaException e = assertThrows(LambdaException.class, () -> invoke(lambda, ECHO, payload));

    assertError(e, 413, "RequestEntityTooLargeException");
    assertEquals("Request must be smaller than 6291456 bytes for the InvokeFunction operation",
        e.awsErrorDetails().errorMessage());
  }

  @Test
  void answersAnInvokePayloadOver6MbWith413OnTheWire() throws Exception {
    String payload = "\"" + "a".repeat(6_291_455) + "\"";

    HttpResponse<String> response = post("/2015-03-31/functions/" + ECHO + "/invocations",
        Map.of("Content-Type", "application/json"), payload);

    assertEquals(413, response.statusCode());
    assertEquals("RequestEntityTooLargeException", response.headers().firstValue("x-amzn-ErrorType").orElse(null));
    assertEquals("Request must be smaller than 6291456 bytes for the InvokeFunction operation",
        JSON.readTree(response.body()).path("message").asText());
  }

  @Test
  void invokeOfAnUnknownFunctionIsNotFoundWithTheLatestQualifiedArn() {
    LambdaException e = assertThrows(ResourceNotFoundException.class, () -> invoke(lambda, "nope", "{}"));

    assertError(e, 404, "ResourceNotFoundException");
    assertEquals("Function not found: " + ARN_PREFIX + "nope:$LATEST", e.awsErrorDetails().errorMessage());
  }

  @Test
  void refusesAQualifierThatDisagreesWithTheOneInTheName() {
    LambdaException e = assertThrows(LambdaException.class, () -> lambda.invoke(b -> b
        .functionName(ECHO + ":$LATEST").qualifier("1").payload(SdkBytes.fromUtf8String("{}"))));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals("The derived qualifier from the function name does not match the specified qualifier.",
        e.awsErrorDetails().errorMessage());
  }

  @Test
  void emptyInvokeBodyReachesTheFunctionAsAnEmptyObject() throws Exception {
    InvokeResponse response = lambda.invoke(b -> b.functionName(ECHO));

    assertEquals(200, response.statusCode());
    assertNull(response.functionError());
    assertEquals(JSON.createObjectNode(), JSON.readTree(body(response)), body(response));
  }

  @Test
  void dryRunInvocationAnswers204WithoutRunningTheFunction() {
    InvokeResponse response = lambda.invoke(b -> b.functionName(ECHO).invocationType(InvocationType.DRY_RUN)
        .payload(SdkBytes.fromUtf8String("{}")));

    assertEquals(204, response.statusCode());
    assertEquals(0, response.payload() == null ? 0 : response.payload().asByteArray().length);
  }

  @Test
  void refusesAClientContextThatIsNotBase64() throws Exception {
    HttpResponse<String> response = post("/2015-03-31/functions/" + ECHO + "/invocations",
        Map.of("Content-Type", "application/json", "X-Amz-Client-Context", "%%% not base64 %%%"), "{}");

    assertEquals(400, response.statusCode());
    assertTrue(response.headers().firstValue("x-amzn-ErrorType").isPresent(), "a Lambda error code is sent");
  }

  // ---- Get / Update / Delete -------------------------------------------------------------------

  @Test
  void deleteWithTheLatestQualifierIsRefused() {
    LambdaException e = assertThrows(LambdaException.class,
        () -> lambda.deleteFunction(b -> b.functionName(ECHO).qualifier("$LATEST")));

    assertError(e, 400, "InvalidParameterValueException");
    assertEquals("$LATEST version cannot be deleted without deleting the function.",
        e.awsErrorDetails().errorMessage());
    assertEquals(ECHO, lambda.getFunction(b -> b.functionName(ECHO)).configuration().functionName(),
        "the function is still there");
  }

  @Test
  void getOfAnUnknownFunctionIsNotFound() {
    assertNotFound(() -> lambda.getFunction(b -> b.functionName("bi-missing")), "bi-missing");
    assertNotFound(() -> lambda.getFunctionConfiguration(b -> b.functionName("bi-missing")), "bi-missing");
  }

  @Test
  void updateOfAnUnknownFunctionIsNotFound() {
    assertNotFound(() -> lambda.updateFunctionConfiguration(b -> b.functionName("bi-missing").timeout(10)),
        "bi-missing");
    assertNotFound(() -> lambda.updateFunctionCode(b -> b.functionName("bi-missing")
        .zipFile(Examples.zipOf("python/hello"))), "bi-missing");
    assertNotCreated("bi-missing");
  }

  @Test
  void deleteOfAnUnknownFunctionIsNotFound() {
    assertNotFound(() -> lambda.deleteFunction(b -> b.functionName("bi-missing")), "bi-missing");
  }

  // ---- and the node is still fine ------------------------------------------------------------

  @Test
  @Order(Integer.MAX_VALUE)
  void nodeStillServesANormalInvokeAfterAllTheBadInput() throws Exception {
    lambda.createFunction(b -> b.functionName("bi-hello").runtime("python3.11").handler("handler.handler")
        .role(ROLE).code(c -> c.zipFile(Examples.zipOf("python/hello"))));

    InvokeResponse hello = invoke(lambda, "bi-hello", "{\"name\":\"Ada\"}");
    InvokeResponse echo = invoke(lambda, ECHO, "{\"still\":\"alive\"}");

    assertEquals(200, hello.statusCode());
    assertNull(hello.functionError());
    assertEquals("Hello, Ada!", JSON.readTree(body(hello)).get("message").asText());
    assertEquals(JSON.readTree("{\"still\":\"alive\"}"), JSON.readTree(body(echo)));
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static void assertNotFound(Executable call, String name) {
    ResourceNotFoundException e = assertThrows(ResourceNotFoundException.class, call);
    assertError(e, 404, "ResourceNotFoundException");
    assertEquals("Function not found: " + ARN_PREFIX + name, e.awsErrorDetails().errorMessage());
  }

  /** Nothing half-created: GetFunction says 404 and ListFunctions does not show the name. */
  private static void assertNotCreated(String name) {
    ResourceNotFoundException e = assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunction(b -> b.functionName(name)));
    assertEquals(404, e.statusCode());
    assertNotListed(name);
  }

  @Test
  void refusedCreateAndCodeUpdateLeaveNoPackageBehind() throws Exception {
    lambda.createFunction(b -> b.functionName("bi-no-blob").runtime("python3.12").handler("handler.handler")
        .role(ROLE).code(c -> c.zipFile(Examples.zipOf("python/hello"))));
    byte[] conflicting = Examples.zipOf("python/hello", Map.of("conflict.txt", "never stored")).asByteArray();
    byte[] stale = Examples.zipOf("python/hello", Map.of("stale.txt", "never stored")).asByteArray();

    LambdaException exists = refused(() -> lambda.createFunction(b -> b.functionName("bi-no-blob")
        .runtime("python3.12").handler("handler.handler").role(ROLE)
        .code(c -> c.zipFile(SdkBytes.fromByteArray(conflicting)))));
    LambdaException precondition = refused(() -> lambda.updateFunctionCode(b -> b.functionName("bi-no-blob")
        .revisionId("not-the-current-revision").zipFile(SdkBytes.fromByteArray(stale))));

    assertError(exists, 409, "ResourceConflictException", "Function already exist: bi-no-blob");
    assertError(precondition, 412, "PreconditionFailedException");
    assertEquals(404, get("/lamina/code/" + sha256Hex(conflicting) + ".zip").statusCode());
    assertEquals(404, get("/lamina/code/" + sha256Hex(stale) + ".zip").statusCode());
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return SignedHttp.send(SignedHttp.get(node.endpoint() + path));
  }

  private static String sha256Hex(byte[] bytes) throws Exception {
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  private static void assertNotListed(String name) {
    List<String> listed = lambda.listFunctionsPaginator(b -> b.maxItems(50)).functions().stream()
        .map(FunctionConfiguration::functionName).toList();
    assertFalse(listed.contains(name), name + " must not be listed: " + listed);
  }

  private static HttpResponse<String> post(String path, Map<String, String> headers, String body) throws Exception {
    return SignedHttp.send(SignedHttp.request("POST", node.endpoint() + path, headers, body));
  }

  /** java.util.zip writes whatever entry names it is given, including {@code ../x} and {@code /x}. */
  private static byte[] zipOf(Map<String, String> entries) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, String> e : new TreeMap<>(entries).entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }

  /** Marks {@code entry} as a symlink (mode 0120777) the way Unix zip tools do. */
  private static byte[] withSymlink(byte[] zip, String entry) {
    return Examples.withUnixModes(zip, name -> name.equals(entry) ? 0120777 : null);
  }

  /** One STORED entry: the zip is slightly larger than {@code content}. */
  private static byte[] storedZip(String name, byte[] content) {
    CRC32 crc = new CRC32();
    crc.update(content);
    ZipEntry entry = new ZipEntry(name);
    entry.setMethod(ZipEntry.STORED);
    entry.setSize(content.length);
    entry.setCompressedSize(content.length);
    entry.setCrc(crc.getValue());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(content.length + 1024);
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(entry);
      zip.write(content);
      zip.closeEntry();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(42).nextBytes(bytes);
    return bytes;
  }
}
