package dev.lamina.node.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.auth.aws.scheme.AwsV4AuthScheme;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignRequest;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignedRequest;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.identity.spi.IdentityProviders;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SqsException;

/**
 * A node's API takes only requests signed with one of its keys, and answers the others as AWS
 * does, through the real AWS SDK v2 clients and raw HTTP: what a user of {@code LambdaClient},
 * {@code SqsClient} or curl sees.
 */
@ExtendWith(NodePerClass.class)
class ApiAuthenticationTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature "
      + "you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for "
      + "details.";
  private static final String UNKNOWN_KEY = "The security token included in the request is invalid.";

  static TestNode node;
  static LambdaClient lambda;

  @Test
  void signedSdkCallsPassForTheLambdaAndSqsApis() {
    Functions.create(lambda, "au-hello", "python3.12", "handler.handler", Examples.zipOf("python/hello"));
    lambda.publishVersion(b -> b.functionName("au-hello"));
    lambda.createAlias(b -> b.functionName("au-hello").name("live").functionVersion("1"));
    String arn = "arn:aws:lambda:us-east-1:000000000000:function:au-hello:live";

    // A full ARN goes out as arn%3Aaws%3A… and is signed encoded twice: it must verify.
    InvokeResponse byArn = lambda.invoke(b -> b.functionName(arn).payload(SdkBytes.fromUtf8String("{\"name\":\"Ada\"}")));
    GetFunctionResponse got = lambda.getFunction(b -> b.functionName("au-hello:live"));
    var page = lambda.listFunctions(b -> b.maxItems(1));
    try (SqsClient sqs = TestNode.sqsClient(node.endpoint())) {
      String url = sqs.createQueue(b -> b.queueName("au-queue")).queueUrl();
      sqs.sendMessage(b -> b.queueUrl(url).messageBody("signed"));
      assertEquals("signed", sqs.receiveMessage(b -> b.queueUrl(url)).messages().get(0).body());
    }

    assertEquals(200, byArn.statusCode());
    assertEquals("1", byArn.executedVersion());
    assertTrue(byArn.payload().asUtf8String().contains("Hello, Ada!"), byArn.payload().asUtf8String());
    assertEquals("1", got.configuration().version());
    assertEquals(1, page.functions().size());
  }

  @Test
  void anUnsignedRequestIsMissingAuthenticationToken() throws Exception {
    HttpResponse<String> raw = SignedHttp.send(HttpRequest.newBuilder(URI.create(node.endpoint()
        + "/2015-03-31/functions")).build());
    try (LambdaClient anonymous = TestNode.client(node.endpoint(), AnonymousCredentialsProvider.create())) {
      LambdaException e = assertThrows(LambdaException.class, () -> anonymous.listFunctions());

      assertEquals(403, e.statusCode());
      assertEquals("MissingAuthenticationTokenException", e.awsErrorDetails().errorCode());
      assertEquals("Missing Authentication Token", e.awsErrorDetails().errorMessage());
    }
    assertEquals(403, raw.statusCode());
    assertEquals("MissingAuthenticationTokenException", raw.headers().firstValue("x-amzn-ErrorType").orElse(null));
    assertEquals("application/json", raw.headers().firstValue("Content-Type").orElse(null));
    assertTrue(raw.headers().firstValue("x-amzn-RequestId").isPresent());
    assertEquals(JSON.readTree("{\"message\":\"Missing Authentication Token\"}"), JSON.readTree(raw.body()));
  }

  @Test
  void anUnknownAccessKeyIsUnrecognizedClient() {
    try (LambdaClient stranger = TestNode.client(node.endpoint(),
        StaticCredentialsProvider.create(AwsBasicCredentials.create("LKIANOTAKEYOFTHISNODE", "lamina")))) {
      LambdaException e = assertThrows(LambdaException.class, () -> stranger.listFunctions());

      assertEquals(403, e.statusCode());
      assertEquals("UnrecognizedClientException", e.awsErrorDetails().errorCode());
      assertEquals(UNKNOWN_KEY, e.awsErrorDetails().errorMessage());
    }
  }

  @Test
  void aWrongSecretIsInvalidSignature() {
    try (LambdaClient wrong = TestNode.client(node.endpoint(),
        StaticCredentialsProvider.create(AwsBasicCredentials.create("lamina", "not-the-secret")))) {
      LambdaException e = assertThrows(LambdaException.class, () -> wrong.invoke(b -> b.functionName("any")
          .payload(SdkBytes.fromUtf8String("{}"))));

      assertEquals(403, e.statusCode());
      assertEquals("InvalidSignatureException", e.awsErrorDetails().errorCode());
      assertEquals(SIGNATURE_MISMATCH, e.awsErrorDetails().errorMessage());
    }
  }

  @Test
  void aRequestSignedTwentyMinutesAgoHasExpired() {
    Clock past = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-20));
    try (LambdaClient late = LambdaClient.builder().endpointOverride(URI.create(node.endpoint()))
        .region(software.amazon.awssdk.regions.Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("lamina", "lamina")))
        .putAuthScheme(signingAt(past))
        .overrideConfiguration(o -> o.retryPolicy(software.amazon.awssdk.core.retry.RetryPolicy.none()))
        .build()) {
      Instant before = Instant.now();
      LambdaException e = assertThrows(LambdaException.class, () -> late.listFunctions());

      assertEquals(403, e.statusCode());
      assertEquals("InvalidSignatureException", e.awsErrorDetails().errorCode());
      String message = e.awsErrorDetails().errorMessage();
      assertTrue(message.matches("Signature expired: \\d{8}T\\d{6}Z is now earlier than \\d{8}T\\d{6}Z "
          + "\\(\\d{8}T\\d{6}Z - 15 min\\.\\)"), message);
      String signedAt = message.substring("Signature expired: ".length(), "Signature expired: ".length() + 16);
      long minutesAgo = Duration.between(SigV4.BASIC.parse(signedAt, Instant::from), before).toMinutes();
      assertTrue(minutesAgo >= 19 && minutesAgo <= 20, message);
    }
  }

  @Test
  void aBodyChangedAfterSigningIsInvalidSignature() throws Exception {
    URI uri = URI.create(node.endpoint() + "/2015-03-31/functions/au-any/invocations");
    HttpRequest tampered = SignedHttp.sign("POST", uri, Map.of("Content-Type", "application/json"),
            "{\"amount\":1}".getBytes(StandardCharsets.UTF_8), "lambda", "lamina", "lamina", Clock.systemUTC())
        .POST(HttpRequest.BodyPublishers.ofString("{\"amount\":9}")).build();

    HttpResponse<String> response = SignedHttp.send(tampered);

    assertEquals(403, response.statusCode());
    assertEquals("InvalidSignatureException", response.headers().firstValue("x-amzn-ErrorType").orElse(null));
    assertEquals(SIGNATURE_MISMATCH, JSON.readTree(response.body()).path("message").asText());
  }

  @Test
  void aMalformedAuthorizationHeaderIsIncompleteSignature() throws Exception {
    HttpResponse<String> response = SignedHttp.send(HttpRequest.newBuilder(URI.create(node.endpoint()
        + "/2015-03-31/functions")).header("Authorization", "AWS4-HMAC-SHA256 Credential=lamina/20260101/us-east-1/"
        + "lambda/aws4_request").header("X-Amz-Date", SigV4.basicDate(Instant.now())).build());

    assertEquals(403, response.statusCode());
    assertEquals("IncompleteSignatureException", response.headers().firstValue("x-amzn-ErrorType").orElse(null));
    assertEquals("Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' "
        + "parameter. Authorization=AWS4-HMAC-SHA256 Credential=lamina/20260101/us-east-1/lambda/aws4_request",
        JSON.readTree(response.body()).path("message").asText());
  }

  @Test
  void operationsEndpointsStayOpenAndLaminasOwnEndpointsDoNot() {
    for (String open : new String[] {"/health", "/ready", "/metrics"}) {
      HttpResponse<String> response = SignedHttp.send(HttpRequest.newBuilder(URI.create(node.endpoint() + open))
          .build());
      assertEquals(200, response.statusCode(), open + ": " + response.body());
    }
    HttpResponse<String> logsUnsigned = SignedHttp.send(HttpRequest.newBuilder(URI.create(node.endpoint()
        + "/lamina/logs/au-hello")).build());
    HttpResponse<String> logsSigned = SignedHttp.send(SignedHttp.get(node.endpoint() + "/lamina/logs/au-hello"));

    assertEquals(403, logsUnsigned.statusCode());
    assertEquals("MissingAuthenticationTokenException", logsUnsigned.headers().firstValue("x-amzn-ErrorType")
        .orElse(null));
    assertEquals(200, logsSigned.statusCode(), logsSigned.body());
  }

  @Test
  void sqsRefusalsHaveTheSqsJsonShape() throws Exception {
    HttpResponse<String> unsigned = SignedHttp.send(HttpRequest.newBuilder(URI.create(node.endpoint() + "/"))
        .header("Content-Type", "application/x-amz-json-1.0").header("X-Amz-Target", "AmazonSQS.ListQueues")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build());
    try (SqsClient wrongSecret = TestNode.sqsClient(node.endpoint(),
            StaticCredentialsProvider.create(AwsBasicCredentials.create("lamina", "not-the-secret")));
        SqsClient stranger = TestNode.sqsClient(node.endpoint(),
            StaticCredentialsProvider.create(AwsBasicCredentials.create("LKIANOTAKEYOFTHISNODE", "x")))) {
      SqsException mismatch = assertThrows(SqsException.class, () -> wrongSecret.listQueues());
      SqsException unknown = assertThrows(SqsException.class, () -> stranger.listQueues());

      // The SDK reads SQS's legacy code from x-amzn-query-error, as it does for every SQS error.
      assertEquals(403, mismatch.statusCode());
      assertEquals("SignatureDoesNotMatch", mismatch.awsErrorDetails().errorCode());
      assertEquals(SIGNATURE_MISMATCH, mismatch.awsErrorDetails().errorMessage());
      assertEquals(403, unknown.statusCode());
      assertEquals("InvalidClientTokenId", unknown.awsErrorDetails().errorCode());
      assertEquals(UNKNOWN_KEY, unknown.awsErrorDetails().errorMessage());
    }
    assertEquals(403, unsigned.statusCode());
    assertEquals("AccessDenied;Sender", unsigned.headers().firstValue("x-amzn-query-error").orElse(null));
    assertEquals("application/x-amz-json-1.0", unsigned.headers().firstValue("Content-Type").orElse(null));
    JsonNode body = JSON.readTree(unsigned.body());
    assertEquals("com.amazon.coral.service#AccessDeniedException", body.path("__type").asText());
    assertEquals("Access to the resource http://" + URI.create(node.endpoint()).getAuthority() + "/ is denied.",
        body.path("message").asText());
  }

  @Test
  void aLambdaSignatureDoesNotOpenTheSqsApi() {
    HttpRequest scopedToLambda = SignedHttp.sign("POST", URI.create(node.endpoint() + "/"),
        Map.of("Content-Type", "application/x-amz-json-1.0", "X-Amz-Target", "AmazonSQS.ListQueues"),
        "{}".getBytes(StandardCharsets.UTF_8), "lambda", "lamina", "lamina", Clock.systemUTC()).build();

    HttpResponse<String> response = SignedHttp.send(scopedToLambda);

    assertEquals(403, response.statusCode());
    assertEquals("SignatureDoesNotMatch;Sender", response.headers().firstValue("x-amzn-query-error").orElse(null));
    assertTrue(response.body().contains("Credential should be scoped to correct service: 'sqs'."), response.body());
  }

  @Test
  void codeLocationsArePresignedLinksThatWorkWithoutCredentialsAndOnlyAsSigned() throws Exception {
    SdkBytes zip = Examples.zipOf("python/hello");
    Functions.create(lambda, "au-code", "python3.12", "handler.handler", zip);
    String location = lambda.getFunction(b -> b.functionName("au-code")).code().location();
    URI link = URI.create(location);

    HttpResponse<byte[]> download = SignedHttp.sendForBytes(HttpRequest.newBuilder(link).build());
    HttpResponse<String> tampered = SignedHttp.send(HttpRequest.newBuilder(URI.create(location.replace(
        "X-Amz-Expires=600", "X-Amz-Expires=6000"))).build());
    HttpResponse<String> bare = SignedHttp.send(HttpRequest.newBuilder(URI.create(location.substring(0,
        location.indexOf('?')))).build());

    assertTrue(link.getRawQuery().contains("X-Amz-Algorithm=AWS4-HMAC-SHA256")
        && link.getRawQuery().contains("X-Amz-Credential=lamina%2F") && link.getRawQuery().contains("X-Amz-Signature="),
        location);
    assertEquals(200, download.statusCode());
    assertArrayEquals(zip.asByteArray(), download.body());
    assertEquals(403, tampered.statusCode());
    assertEquals("InvalidSignatureException", tampered.headers().firstValue("x-amzn-ErrorType").orElse(null));
    assertEquals(403, bare.statusCode());
    assertEquals("MissingAuthenticationTokenException", bare.headers().firstValue("x-amzn-ErrorType").orElse(null));
    assertEquals(Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(download.body())),
        lambda.getFunction(b -> b.functionName("au-code")).configuration().codeSha256());
  }

  @Test
  void headersAsClientsSendThemVerify() throws Exception {
    // A charset parameter and odd spacing, signed as sent: the node must see them as sent.
    Functions.create(lambda, "au-echo", "python3.12", "probe.echo", Examples.zipOf("python/probe"));
    HttpRequest request = SignedHttp.sign("POST", URI.create(node.endpoint() + "/2015-03-31/functions/au-echo/invocations"),
        Map.of("Content-Type", "application/json; charset=utf-8", "X-Custom-Header", "  a   b  c "), "{\"k\":1}".getBytes(StandardCharsets.UTF_8), "lambda", "lamina",
        "lamina", Clock.systemUTC()).build();

    HttpResponse<String> response = SignedHttp.send(request);

    assertEquals(200, response.statusCode(), response.body());
    assertEquals(JSON.readTree("{\"k\":1}"), JSON.readTree(response.body()));
  }

  /** The SDK's SigV4 scheme with its signing clock replaced: how a client with a wrong clock signs. */
  private static AwsV4AuthScheme signingAt(Clock clock) {
    AwsV4AuthScheme sdk = AwsV4AuthScheme.create();
    AwsV4HttpSigner signer = new AwsV4HttpSigner() {
      @Override
      public SignedRequest sign(SignRequest<? extends AwsCredentialsIdentity> request) {
        return sdk.signer().sign(copyWithClock(request, clock));
      }

      @Override
      public CompletableFuture<AsyncSignedRequest> signAsync(AsyncSignRequest<? extends AwsCredentialsIdentity> request) {
        throw new UnsupportedOperationException("the test client is synchronous");
      }
    };
    return new AwsV4AuthScheme() {
      @Override
      public String schemeId() {
        return sdk.schemeId();
      }

      @Override
      public IdentityProvider<AwsCredentialsIdentity> identityProvider(IdentityProviders providers) {
        return sdk.identityProvider(providers);
      }

      @Override
      public AwsV4HttpSigner signer() {
        return signer;
      }
    };
  }

  @SuppressWarnings("unchecked")
  private static <T extends AwsCredentialsIdentity> SignRequest<T> copyWithClock(SignRequest<T> request, Clock clock) {
    return request.copy(b -> b.putProperty(HttpSigner.SIGNING_CLOCK, clock));
  }
}
