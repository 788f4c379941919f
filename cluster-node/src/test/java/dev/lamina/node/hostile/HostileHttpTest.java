package dev.lamina.node.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.RawHttp;
import dev.lamina.node.testing.TestNode;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.core.SdkBytes;

/**
 * Requests no client should send, one hardening at a time: JSON built to exhaust a parser, heads
 * over Pekko's limits, targets it cannot parse, methods and routes the API does not have. Each is
 * answered with an AWS error (status, {@code x-amzn-ErrorType}, JSON {@code message}) that shows
 * nothing of Lamina's insides.
 */
@Timeout(120)
class HostileHttpTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration BOUND = Duration.ofSeconds(15);
  private static final String ECHO = "hh-echo";
  private static final String PARSE = "Could not parse request body into json: ";

  static TestNode node;
  static int port;

  @BeforeAll
  static void start() throws IOException {
    node = TestNode.start(Files.createTempDirectory("lamina-hostile-http-"), true,
        ConfigFactory.parseString(HostileInputFuzzTest.AUTH));
    port = URI.create(node.endpoint()).getPort();
    node.lambda().createFunction(b -> b.functionName(ECHO).runtime("python3.12").handler("app.handler")
        .role(Functions.ROLE).code(c -> c.zipFile(SdkBytes.fromByteArray(Storm.ECHO_ZIP))));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  // ---- JSON --------------------------------------------------------------------------------------

  @Test
  void aManagementBodyNested65DeepIsRefusedAsUnparsableWithoutJavaNames() throws Exception {
    RawHttp.Response r = post("/2015-03-31/functions", "{\"Code\":" + "[".repeat(65) + "]".repeat(65) + "}");

    assertAwsError(r, 400, "InvalidRequestContentException",
        PARSE + "Document nesting depth (65) exceeds the maximum allowed (64)");
  }

  @Test
  void aManagementBodyOfManyTokensIsRefusedBeforeATreeIsBuilt() throws Exception {
    RawHttp.Response r = post("/2015-03-31/functions", "{\"Layers\":[" + "1,".repeat(150_000) + "1]}");

    assertAwsError(r, 400, "InvalidRequestContentException",
        PARSE + "Token count (100001) exceeds the maximum allowed (100000)");
  }

  @Test
  void aHugeNumberIsRefusedAsUnparsable() throws Exception {
    RawHttp.Response r = post("/2015-03-31/functions", "{\"Timeout\":" + "9".repeat(200) + "}");

    assertAwsError(r, 400, "InvalidRequestContentException",
        PARSE + "Number value length (200) exceeds the maximum allowed (100)");
  }

  @Test
  void aBodyThatIsNotUtf8IsRefusedAsUnparsable() throws Exception {
    byte[] body = {'{', '"', 'a', '"', ':', '"', (byte) 0xFF, '"', '}'};
    RawHttp.Response r = RawHttp.send(port, new RawHttp.Request("POST", "/2015-03-31/functions")
        .header("Content-Type", "application/json").body(body), BOUND);

    assertAwsError(r, 400, "InvalidRequestContentException", PARSE + "Invalid UTF-8 start byte 0xff");
  }

  @Test
  void aTruncatedBodyIsDescribedWithoutJacksonsSourceDescription() throws Exception {
    RawHttp.Response r = post("/2015-03-31/functions", "{\"FunctionName\":{\"a\":1");

    assertAwsError(r, 400, "InvalidRequestContentException",
        PARSE + "Unexpected end-of-input: expected close marker for Object (start marker at [line: 1, column: 17])");
  }

  @Test
  void anInvokePayloadNestedDeeperThan1000IsRefusedAndOneLessDeepRuns() throws Exception {
    String deep = "[".repeat(1001) + "]".repeat(1001);
    RawHttp.Response refused = post("/2015-03-31/functions/" + ECHO + "/invocations", deep);
    String fine = "[".repeat(200) + "]".repeat(200);
    RawHttp.Response ran = post("/2015-03-31/functions/" + ECHO + "/invocations", fine);

    assertAwsError(refused, 400, "InvalidRequestContentException", PARSE
        + "Could not parse payload into json: Document nesting depth (1001) exceeds the maximum allowed (1000)");
    assertEquals(200, ran.status(), ran.text());
    assertNull(ran.header("X-Amz-Function-Error"), ran.text());
    assertEquals(JSON.readTree(fine), JSON.readTree(ran.body()));
  }

  // ---- what Pekko cannot parse ------------------------------------------------------------------

  @Test
  void anOversizedHeaderIsAnswered431InTheAwsShape() throws Exception {
    RawHttp.Response r = RawHttp.send(port, new RawHttp.Request("GET", "/2015-03-31/functions")
        .header("X-Big", "x".repeat(9000)), BOUND);

    assertAwsError(r, 431, "ValidationException", "HTTP header value exceeds the configured limit of 8192 characters");
  }

  @Test
  void tooManyHeadersAreAnsweredInTheAwsShape() throws Exception {
    RawHttp.Request request = new RawHttp.Request("GET", "/2015-03-31/functions");
    for (int i = 0; i < 70; i++) {
      request.header("X-H" + i, "v");
    }
    RawHttp.Response r = RawHttp.send(port, request, BOUND);

    assertAwsError(r, 400, "ValidationException", "HTTP message contains more than the configured limit of 64 headers");
  }

  @Test
  void aTooLongUriIsAnswered414InTheAwsShape() throws Exception {
    RawHttp.Response r = RawHttp.send(port, new RawHttp.Request("GET", "/" + "a".repeat(3000)), BOUND);

    assertAwsError(r, 414, "ValidationException", "URI length exceeds the configured limit of 2048 characters");
  }

  @Test
  void aBadPercentEncodingInThePathIsAnswered400InTheAwsShape() throws Exception {
    RawHttp.Response r = RawHttp.send(port, new RawHttp.Request("GET", "/").rawTarget("/2015-03-31/functions/%zz"),
        BOUND);

    assertEquals(400, r.status(), r.text());
    assertEquals("ValidationException", r.header("x-amzn-ErrorType"));
    assertTrue(message(r).startsWith("Illegal request-target: "), r.text());
  }

  @Test
  void anUnknownMethodIsAClientErrorNotA501() throws Exception {
    RawHttp.Response r = RawHttp.send(port, new RawHttp.Request("FOO", "/2015-03-31/functions"), BOUND);

    assertAwsError(r, 400, "ValidationException", "Unsupported HTTP method: FOO");
  }

  @Test
  void aMalformedRequestLineIsAClientErrorNotA505() throws Exception {
    byte[] raw = "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    RawHttp.Response r = RawHttp.send(port, raw, false, BOUND);

    assertEquals(400, r.status(), r.text());
    assertEquals("ValidationException", r.header("x-amzn-ErrorType"));
  }

  // ---- routes and methods the API does not have --------------------------------------------------

  @Test
  void anUnknownRouteIsUnknownOperation() throws Exception {
    RawHttp.Response r = RawHttp.send(port, new RawHttp.Request("GET", "/2015-03-31/nope"), BOUND);

    assertAwsError(r, 404, "UnknownOperationException", "Unknown operation GET /2015-03-31/nope");
  }

  @Test
  void optionsAndTraceAreUnknownOperations() throws Exception {
    for (String method : new String[] {"OPTIONS", "PATCH"}) {
      RawHttp.Response r = RawHttp.send(port, new RawHttp.Request(method, "/2015-03-31/functions"), BOUND);

      assertAwsError(r, 404, "UnknownOperationException", "Unknown operation " + method + " /2015-03-31/functions");
    }
    // No AWS signer signs TRACE, so it never gets past authentication.
    RawHttp.Response trace = RawHttp.send(port, new RawHttp.Request("TRACE", "/2015-03-31/functions"), BOUND);
    assertAwsError(trace, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
  }

  @Test
  void headIsAnUnknownOperationTooAnsweredWithoutABody() throws Exception {
    RawHttp.Response r = RawHttp.send(port, new RawHttp.Request("HEAD", "/2015-03-31/functions/" + ECHO), BOUND);

    assertEquals(404, r.status());
    assertEquals("UnknownOperationException", r.header("x-amzn-ErrorType"));
    assertEquals(0, r.body().length);
  }

  @Test
  void absurdQueryParametersAreValidationErrors() throws Exception {
    RawHttp.Response r = RawHttp.send(port, new RawHttp.Request("GET", "/2015-03-31/functions")
        .query("MaxItems", "99999999999"), BOUND);

    assertAwsError(r, 400, "ValidationException", "1 validation error detected: Value '99999999999' at 'maxItems' "
        + "failed to satisfy constraint: Member must be a number");
  }

  @Test
  void logsOfSomethingThatIsNotAFunctionNameAreNotFoundAndABadOffsetIsRefused() throws Exception {
    RawHttp.Response traversal = RawHttp.send(port,
        new RawHttp.Request("GET", "/lamina/logs/..%2F..%2Fetc%2Fpasswd"), BOUND);
    RawHttp.Response badOffset = RawHttp.send(port, new RawHttp.Request("GET", "/lamina/logs/" + ECHO)
        .query("offset", "abc"), BOUND);

    assertAwsError(traversal, 404, "ResourceNotFoundException", "The resource you requested does not exist.");
    assertAwsError(badOffset, 400, "ValidationException", "1 validation error detected: Value 'abc' at 'offset' "
        + "failed to satisfy constraint: Member must be a number greater than or equal to 0");
  }

  @Test
  void theNodeStillServesAfterwards() throws Exception {
    RawHttp.Response r = post("/2015-03-31/functions/" + ECHO + "/invocations", "{\"still\":\"here\"}");

    assertEquals(200, r.status(), r.text());
    assertEquals(JSON.readTree("{\"still\":\"here\"}"), JSON.readTree(r.body()));
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static RawHttp.Response post(String path, String body) throws IOException {
    return RawHttp.send(port, new RawHttp.Request("POST", path).header("Content-Type", "application/json").body(body),
        BOUND);
  }

  private static String message(RawHttp.Response r) throws IOException {
    JsonNode body = JSON.readTree(r.body());
    return body.has("message") ? body.get("message").asText() : body.path("Message").asText(null);
  }

  /** Status, error type, exact message, JSON body, and nothing of Lamina's insides. */
  static void assertAwsError(RawHttp.Response r, int status, String type, String message) throws IOException {
    assertEquals(status, r.status(), r.text());
    assertEquals(type, r.header("x-amzn-ErrorType"), r.text());
    assertEquals("application/json", r.header("content-type"));
    assertEquals(message, message(r));
    assertNull(HostileInputFuzzTest.Leaks.find(r.text(), null), r.text());
  }

}
