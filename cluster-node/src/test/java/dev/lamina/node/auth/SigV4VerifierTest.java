package dev.lamina.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.auth.SigV4Verifier.Accepted;
import dev.lamina.node.auth.SigV4Verifier.Failure;
import dev.lamina.node.auth.SigV4Verifier.Pending;
import dev.lamina.node.auth.SigV4Verifier.Refused;
import dev.lamina.node.auth.SigV4Verifier.Verdict;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * The verifier against signatures made by the AWS SDK for Java v2's own signer
 * ({@link AwsV4HttpSigner}, what {@code LambdaClient} and {@code SqsClient} sign with): the paths,
 * queries, headers and bodies real clients send are accepted, anything changed after signing is
 * not, and each refusal carries AWS's error code and message.
 */
class SigV4VerifierTest {

  private static final Instant NOW = Instant.parse("2026-03-14T09:26:53Z");
  private static final AccessKey KEY = new AccessKey("LKIATESTTESTTESTTEST", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  private static final String ENDPOINT = "http://127.0.0.1:9000";

  private final SigV4Verifier verifier = new SigV4Verifier(List.of(KEY, new AccessKey("lamina", "lamina")),
      Duration.ofMinutes(15), Clock.fixed(NOW, ZoneOffset.UTC));

  /** What the SDK's signer makes of a request, and the body it was signed with. */
  private record Signed(SdkHttpRequest request, byte[] body) {}

  @Test
  void acceptsSdkSignaturesOverTheLambdaApisPathsQueriesAndBodies() {
    byte[] binary = new byte[1024 * 1024 + 17];
    new Random(7).nextBytes(binary);
    List<Signed> requests = List.of(
        sdk("GET", "/2015-03-31/functions", Map.of(), new byte[0]),
        sdk("GET", "/2015-03-31/functions/", Map.of(), new byte[0]),
        sdk("GET", "/2015-03-31/functions?FunctionVersion=ALL&MaxItems=50&Marker=a%20b%2Bc%2Fd%3D", Map.of(),
            new byte[0]),
        // A repeated parameter: sorted by value too.
        sdk("GET", "/2018-10-31/layers?CompatibleRuntime=python3.12&CompatibleRuntime=nodejs20.x", Map.of(),
            new byte[0]),
        sdk("GET", "/2015-03-31/functions/hello%3A1?Qualifier=%24LATEST", Map.of(), new byte[0]),
        // How LambdaClient sends a full ARN: every colon percent-encoded, then signed encoded again.
        sdk("POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Ahello%3Alive/invocations",
            Map.of("Content-Type", "application/json", "X-Amz-Invocation-Type", "RequestResponse",
                "X-Amz-Log-Type", "Tail"), "{\"name\":\"Ada\"}".getBytes(StandardCharsets.UTF_8)),
        sdk("POST", "/2015-03-31/functions/caf%C3%A9~x_y.z-1/invocations", Map.of(), binary),
        sdk("POST", "/2015-03-31/functions/hello/invocations", Map.of("X-Amz-Client-Context", "  spaced   out  "),
            new byte[0]),
        sdk("PUT", "/2017-10-31/functions/hello/concurrency", Map.of("Content-Type", "application/json"),
            "{\"ReservedConcurrentExecutions\":10}".getBytes(StandardCharsets.UTF_8)),
        sdk("DELETE", "/2015-03-31/functions/hello/aliases/live", Map.of(), new byte[0]),
        sdk("GET", "/lamina/logs/hello?offset=1024", Map.of(), new byte[0]));

    for (Signed signed : requests) {
      Verdict verdict = verify(signed, "lambda");
      assertInstanceOf(Accepted.class, verdict, signed.request().method() + " " + signed.request().getUri() + ": "
          + verdict);
      assertEquals(KEY, ((Accepted) verdict).key());
    }
  }

  @Test
  void acceptsAnSdkSignedSqsRequestScopedToSqs() {
    Signed signed = sign("POST", URI.create(ENDPOINT + "/"), Map.of("Content-Type", "application/x-amz-json-1.0",
        "X-Amz-Target", "AmazonSQS.ListQueues", "x-amzn-query-mode", "true"), "{}".getBytes(StandardCharsets.UTF_8),
        "sqs", KEY, b -> { });

    assertInstanceOf(Accepted.class, verify(signed, "sqs"));
    assertRefused(verify(signed, "lambda"), Failure.InvalidSignatureException,
        "Credential should be scoped to correct service: 'lambda'.");
  }

  @Test
  void aSignatureOverTheSinglyEncodedPathIsRefusedAsAwsRefusesIt() {
    // The SDKs encode the path a second time for every service but S3; a client that does not
    // signs a different canonical request.
    Signed single = sign("POST", URI.create(ENDPOINT + "/2015-03-31/functions/hello%3Alive/invocations"), Map.of(),
        new byte[0], "lambda", KEY, b -> b.putProperty(AwsV4FamilyHttpSigner.DOUBLE_URL_ENCODE, false));

    assertRefused(verify(single, "lambda"), Failure.InvalidSignatureException, SigV4Verifier.SIGNATURE_MISMATCH);
  }

  @Test
  void refusesAWrongSecretAnUnknownKeyAndAnythingChangedAfterSigning() {
    byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    String path = "/2015-03-31/functions/hello/invocations";

    Signed wrongSecret = sign("POST", URI.create(ENDPOINT + path), Map.of(), body, "lambda",
        new AccessKey(KEY.accessKeyId(), "not-the-secret"), b -> { });
    Signed unknownKey = sign("POST", URI.create(ENDPOINT + path), Map.of(), body, "lambda",
        new AccessKey("LKIAUNKNOWNUNKNOWN00", KEY.secretAccessKey()), b -> { });
    Signed good = sdk("POST", path + "?Qualifier=1", Map.of("X-Amz-Invocation-Type", "Event"), body);

    assertRefused(verify(wrongSecret, "lambda"), Failure.InvalidSignatureException, SigV4Verifier.SIGNATURE_MISMATCH);
    assertRefused(verify(unknownKey, "lambda"), Failure.UnrecognizedClientException,
        "The security token included in the request is invalid.");
    assertRefused(verifier.finish(pending(good, "lambda", null, null, null), buffer("{\"a\":2}")),
        Failure.InvalidSignatureException, SigV4Verifier.SIGNATURE_MISMATCH);
    assertRefused(verify(good, "lambda", path + "?Qualifier=2", null, null), Failure.InvalidSignatureException,
        SigV4Verifier.SIGNATURE_MISMATCH);
    assertRefused(verify(good, "lambda", path.replace("hello", "other") + "?Qualifier=1", null, null),
        Failure.InvalidSignatureException, SigV4Verifier.SIGNATURE_MISMATCH);
    assertRefused(verify(good, "lambda", null, "x-amz-invocation-type", "RequestResponse"),
        Failure.InvalidSignatureException, SigV4Verifier.SIGNATURE_MISMATCH);
  }

  @Test
  void refusesSignaturesOutsideTheClockSkewWithAwsMessages() {
    Signed old = sign("GET", URI.create(ENDPOINT + "/2015-03-31/functions"), Map.of(), new byte[0], "lambda", KEY,
        b -> b.putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(NOW.minus(Duration.ofMinutes(20)), ZoneOffset.UTC)));
    Signed future = sign("GET", URI.create(ENDPOINT + "/2015-03-31/functions"), Map.of(), new byte[0], "lambda", KEY,
        b -> b.putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(NOW.plus(Duration.ofMinutes(16)), ZoneOffset.UTC)));
    Signed skewedButFine = sign("GET", URI.create(ENDPOINT + "/2015-03-31/functions"), Map.of(), new byte[0],
        "lambda", KEY,
        b -> b.putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(NOW.minus(Duration.ofMinutes(14)), ZoneOffset.UTC)));

    assertRefused(verify(old, "lambda"), Failure.InvalidSignatureException,
        "Signature expired: 20260314T090653Z is now earlier than 20260314T091153Z (20260314T092653Z - 15 min.)");
    assertRefused(verify(future, "lambda"), Failure.InvalidSignatureException,
        "Signature not yet current: 20260314T094253Z is still later than 20260314T094153Z (20260314T092653Z + 15 min.)");
    assertInstanceOf(Accepted.class, verify(skewedButFine, "lambda"));
  }

  @Test
  void missingAndMalformedAuthorizationAreRefusedWithAwsCodes() {
    Signed good = sdk("GET", "/2015-03-31/functions", Map.of(), new byte[0]);
    String authorization = good.request().firstMatchingHeader("Authorization").orElseThrow();

    assertRefused(verify(good, "lambda", null, "authorization", null), Failure.MissingAuthenticationTokenException,
        "Missing Authentication Token");
    assertRefused(verify(good, "lambda", null, "authorization", "Bearer abc"),
        Failure.MissingAuthenticationTokenException, "Missing Authentication Token");
    assertRefused(verify(good, "lambda", null, "authorization", "AWS4-HMAC-SHA256 Credential=x/y"),
        Failure.IncompleteSignatureException, "Authorization header requires 'Signature' parameter. Authorization "
            + "header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=x/y");
    assertRefused(verify(good, "lambda", null, "authorization", authorization.replace("Credential=", "Credential ")),
        Failure.IncompleteSignatureException, "'Credential " + KEY.accessKeyId() + "/20260314/us-east-1/lambda/"
            + "aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: '"
            + authorization.replace("Credential=", "Credential ") + "'.");
    assertRefused(verify(good, "lambda", null, "authorization", authorization.replace("AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA512")), Failure.IncompleteSignatureException,
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now).");
    assertRefused(verify(good, "lambda", null, "authorization", authorization.replace("/us-east-1/", "/")),
        Failure.IncompleteSignatureException, "Credential must have exactly 5 slash-delimited elements, e.g. "
            + "keyid/date/region/service/term, got '" + KEY.accessKeyId() + "/20260314/lambda/aws4_request'");
    assertRefused(verify(good, "lambda", null, "authorization", authorization.replace("/20260314/", "/20260313/")),
        Failure.InvalidSignatureException, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
            + "of date from HTTP: '20260313' != '20260314', from '20260314T092653Z'.");
    assertRefused(verify(good, "lambda", null, "x-amz-date", "2026-03-14T09:26:53Z"),
        Failure.IncompleteSignatureException, "Date must be in ISO-8601 'basic format'. Got '2026-03-14T09:26:53Z'. "
            + "See http://en.wikipedia.org/wiki/ISO_8601");
    assertRefused(verify(good, "lambda", null, "authorization", authorization.replace("SignedHeaders=host;",
        "SignedHeaders=")), Failure.InvalidSignatureException,
        "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }

  @Test
  void anUnsignedPayloadIsAcceptedWhenTheClientSignedThatItIsUnsigned() {
    // Over HTTPS the SDK can leave the payload out of the signature (x-amz-content-sha256: UNSIGNED-PAYLOAD).
    Signed unsigned = sign("POST", URI.create("https://lambda.example/2015-03-31/functions/hello/invocations"),
        Map.of(), "{}".getBytes(StandardCharsets.UTF_8), "lambda", KEY,
        b -> b.putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, false));

    assertEquals("UNSIGNED-PAYLOAD", unsigned.request().firstMatchingHeader("x-amz-content-sha256").orElse(null));
    assertInstanceOf(Accepted.class, verifier.finish(pending(unsigned, "lambda", null, null, null), buffer("{\"x\":1}")));
  }

  @Test
  void theDateHeaderStandsInForAMissingXAmzDate() {
    // No SDK signs this way any more; AWS still accepts it. Signed by hand with the SigV4 pieces.
    String httpDate = DateTimeFormatter.RFC_1123_DATE_TIME.format(NOW.atZone(ZoneOffset.UTC));
    String canonical = SigV4.canonicalRequest("GET", "/2015-03-31/functions", "",
        new java.util.TreeMap<>(Map.of("date", httpDate, "host", "127.0.0.1:9000")), SigV4.EMPTY_SHA256);
    String scope = SigV4.scope("20260314", "eu-west-1", "lambda");
    String signature = SigV4.signature(SigV4.signingKey(KEY.secretAccessKey(), "20260314", "eu-west-1", "lambda"),
        SigV4.stringToSign("20260314T092653Z", scope, canonical));
    Map<String, String> headers = Map.of("date", httpDate, "host", "127.0.0.1:9000", "authorization",
        "AWS4-HMAC-SHA256 Credential=" + KEY.accessKeyId() + "/" + scope + ", SignedHeaders=date;host, Signature="
            + signature);

    Verdict verdict = verifier.check(request("GET", "/2015-03-31/functions", null, headers), "lambda");

    assertInstanceOf(Accepted.class, verifier.finish((Pending) verdict, List.of()));
  }

  @Test
  void acceptsAnSdkPresignedUrlUntilItExpires() {
    Signed presigned = sign("GET", URI.create(ENDPOINT + "/lamina/code/abc.zip"), Map.of(), new byte[0], "lambda", KEY,
        b -> b.putProperty(AwsV4FamilyHttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
            .putProperty(AwsV4FamilyHttpSigner.EXPIRATION_DURATION, Duration.ofMinutes(10)));
    SigV4Verifier later = new SigV4Verifier(List.of(KEY), Duration.ofMinutes(15),
        Clock.fixed(NOW.plus(Duration.ofMinutes(11)), ZoneOffset.UTC));

    assertTrue(presigned.request().firstMatchingHeader("Authorization").isEmpty());
    assertInstanceOf(Accepted.class, verify(presigned, "lambda"));
    assertRefused(later.check(wire(presigned, null, null, null), "lambda"), Failure.InvalidSignatureException,
        "Signature expired: 20260314T092653Z is now earlier than 20260314T092753Z (20260314T093753Z - 600 sec.)");
    assertRefused(verify(presigned, "lambda", presigned.request().getUri().getRawPath() + "?"
        + presigned.request().getUri().getRawQuery().replace("X-Amz-Expires=600", "X-Amz-Expires=6000"), null, null),
        Failure.InvalidSignatureException, SigV4Verifier.SIGNATURE_MISMATCH);
  }

  @Test
  void lamiasOwnSignerAndPresignedLinksAreAccepted() {
    URI uri = URI.create(ENDPOINT + "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction"
        + "%3Ahello/invocations?Qualifier=live");
    byte[] body = "{\"k\":\"v\"}".getBytes(StandardCharsets.UTF_8);
    Map<String, String> headers = Map.of("X-Amz-Log-Type", "Tail");
    Map<String, String> added = SigV4Signer.sign("POST", uri, headers, body, KEY, "us-east-1", "lambda", NOW);
    java.util.Map<String, String> all = new java.util.HashMap<>();
    headers.forEach((k, v) -> all.put(k.toLowerCase(), v));
    added.forEach((k, v) -> all.put(k.toLowerCase(), v));
    all.put("host", "127.0.0.1:9000");
    URI link = URI.create(SigV4Signer.presign(URI.create(ENDPOINT + "/lamina/code/ab.zip"), KEY, "us-east-1",
        "lambda", NOW, Duration.ofMinutes(10)));

    Verdict signed = verifier.check(request("POST", uri.getRawPath(), uri.getRawQuery(), all), "lambda");
    Verdict presigned = verifier.check(request("GET", link.getRawPath(), link.getRawQuery(),
        Map.of("host", "127.0.0.1:9000")), "lambda");

    assertInstanceOf(Accepted.class, verifier.finish((Pending) signed, List.of(ByteBuffer.wrap(body))));
    assertInstanceOf(Accepted.class, verifier.finish((Pending) presigned, List.of()));
  }

  @Test
  void aPresignedUrlOnlyFetches() {
    Signed post = sign("POST", URI.create(ENDPOINT + "/2015-03-31/functions/hello/invocations"), Map.of(),
        "{}".getBytes(StandardCharsets.UTF_8), "lambda", KEY,
        b -> b.putProperty(AwsV4FamilyHttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
            .putProperty(AwsV4FamilyHttpSigner.EXPIRATION_DURATION, Duration.ofMinutes(10)));

    assertRefused(verify(post, "lambda"), Failure.InvalidSignatureException,
        "A presigned URL may only be used with GET or HEAD.");
  }

  @Test
  void theSqsOperationAndTheBodyHashMustBeSignedWhenSent() {
    byte[] body = "{\"QueueUrl\":\"q\"}".getBytes(StandardCharsets.UTF_8);
    Signed signed = sign("POST", URI.create(ENDPOINT + "/"), Map.of("Content-Type", "application/x-amz-json-1.0"),
        body, "sqs", KEY, b -> { });

    // X-Amz-Target added after signing: a replay could turn ReceiveMessage into PurgeQueue.
    Verdict verdict = verifier.check(wire(signed, null, "x-amz-target", "AmazonSQS.PurgeQueue"), "sqs");

    assertRefused(verdict, Failure.InvalidSignatureException,
        "'x-amz-target' is present but not a 'SignedHeader' in the AWS Authorization.");
  }

  @Test
  void aPathWithDotSegmentsIsRefused() {
    Signed signed = sdk("GET", "/2015-03-31/functions/hello", Map.of(), new byte[0]);

    assertRefused(verify(signed, "lambda", "/2015-03-31/functions/x/../hello", null, null),
        Failure.InvalidSignatureException, "The request path must not contain '.' or '..' segments.");
    assertRefused(verify(signed, "lambda", "/2015-03-31/functions/x/%2E%2E/hello", null, null),
        Failure.InvalidSignatureException, "The request path must not contain '.' or '..' segments.");
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** {@code pathAndQuery} on the test endpoint, signed by the SDK with {@link #KEY} for lambda at {@link #NOW}. */
  private static Signed sdk(String method, String pathAndQuery, Map<String, String> headers, byte[] body) {
    return sign(method, URI.create(ENDPOINT + pathAndQuery), headers, body, "lambda", KEY, b -> { });
  }

  private static Signed sign(String method, URI uri, Map<String, String> headers, byte[] body, String service,
      AccessKey key, Consumer<SignRequest.Builder<AwsCredentialsIdentity>> extra) {
    SdkHttpFullRequest.Builder unsigned = SdkHttpFullRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri);
    headers.forEach(unsigned::putHeader);
    SdkHttpRequest signed = AwsV4HttpSigner.create().sign(r -> {
      r.identity(AwsCredentialsIdentity.create(key.accessKeyId(), key.secretAccessKey()))
          .request(unsigned.build())
          .payload(ContentStreamProvider.fromByteArray(body))
          .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
          .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
          .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(NOW, ZoneOffset.UTC));
      extra.accept(r);
    }).request();
    return new Signed(signed, body);
  }

  private Verdict verify(Signed signed, String service) {
    return verify(signed, service, null, null, null);
  }

  /**
   * The signed request as it reaches the node, with the path and query replaced by
   * {@code pathAndQuery} and the header {@code header} set to {@code value} (removed when null),
   * when given; checked and, if pending, finished with its body.
   */
  private Verdict verify(Signed signed, String service, String pathAndQuery, String header, String value) {
    Verdict verdict = verifier.check(wire(signed, pathAndQuery, header, value), service);
    return verdict instanceof Pending p ? verifier.finish(p, List.of(ByteBuffer.wrap(signed.body()))) : verdict;
  }

  private Pending pending(Signed signed, String service, String pathAndQuery, String header, String value) {
    Verdict verdict = verifier.check(wire(signed, pathAndQuery, header, value), service);
    return assertInstanceOf(Pending.class, verdict);
  }

  private static SigV4Verifier.SignedRequest wire(Signed signed, String pathAndQuery, String header, String value) {
    SdkHttpRequest r = signed.request();
    String target = pathAndQuery != null ? pathAndQuery
        : r.getUri().getRawPath() + (r.getUri().getRawQuery() == null ? "" : "?" + r.getUri().getRawQuery());
    java.util.Map<String, String> headers = new java.util.HashMap<>();
    r.forEachHeader((name, values) -> headers.put(name.toLowerCase(), String.join(",", values)));
    // What HTTP clients add after signing.
    headers.putIfAbsent("host", r.host() + (r.port() == 80 || r.port() == 443 ? "" : ":" + r.port()));
    headers.put("content-length", Integer.toString(signed.body().length));
    headers.put("user-agent", "aws-sdk-java/2");
    if (header != null) {
      if (value == null) {
        headers.remove(header);
      } else {
        headers.put(header, value);
      }
    }
    int q = target.indexOf('?');
    return request(r.method().name(), q < 0 ? target : target.substring(0, q), q < 0 ? null : target.substring(q + 1),
        headers);
  }

  private static SigV4Verifier.SignedRequest request(String method, String rawPath, String rawQuery,
      Map<String, String> headers) {
    return new SigV4Verifier.SignedRequest() {
      @Override
      public String method() {
        return method;
      }

      @Override
      public String rawPath() {
        return rawPath;
      }

      @Override
      public String rawQuery() {
        return rawQuery;
      }

      @Override
      public String header(String lowerCaseName) {
        return headers.get(lowerCaseName);
      }
    };
  }

  private static List<ByteBuffer> buffer(String body) {
    return List.of(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)));
  }

  private static void assertRefused(Verdict verdict, Failure failure, String message) {
    Refused refused = assertInstanceOf(Refused.class, verdict);
    assertEquals(failure, refused.failure(), refused.message());
    assertEquals(message, refused.message());
  }
}
