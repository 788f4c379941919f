package dev.lamina.node.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Raw HTTP requests to a node, signed the way the AWS SDK for Java v2 signs them: with the SDK's
 * own Signature Version 4 signer ({@link AwsV4HttpSigner}), not Lamina's, so that a test proves
 * what a real client sends is accepted. The test nodes ({@link TestNode}, {@link NodeProcess})
 * accept {@link #ACCESS_KEY_ID} / {@link #SECRET_ACCESS_KEY}, the keys the SDK clients of the
 * tests use too.
 */
public final class SignedHttp {

  public static final String ACCESS_KEY_ID = "lamina";
  public static final String SECRET_ACCESS_KEY = "lamina";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private SignedHttp() {}

  /** A GET of {@code url}, signed for the Lambda API. */
  public static HttpRequest get(String url) {
    return request("GET", url, Map.of(), new byte[0]);
  }

  /** {@code method} on {@code url} with {@code headers} and {@code body}, signed for the Lambda API. */
  public static HttpRequest request(String method, String url, Map<String, String> headers, String body) {
    return request(method, url, headers, body.getBytes(StandardCharsets.UTF_8));
  }

  public static HttpRequest request(String method, String url, Map<String, String> headers, byte[] body) {
    return sign(method, URI.create(url), headers, body, "lambda", ACCESS_KEY_ID, SECRET_ACCESS_KEY,
        Clock.systemUTC()).build();
  }

  /** An SQS JSON-protocol request ({@code AmazonSQS.<operation>}) to the node at {@code endpoint}. */
  public static HttpRequest sqs(String endpoint, String operation, String jsonBody) {
    return sign("POST", URI.create(endpoint + "/"), Map.of("Content-Type", "application/x-amz-json-1.0",
        "X-Amz-Target", "AmazonSQS." + operation), jsonBody.getBytes(StandardCharsets.UTF_8), "sqs", ACCESS_KEY_ID,
        SECRET_ACCESS_KEY, Clock.systemUTC()).build();
  }

  /**
   * A request signed by the SDK's signer with any key, service and signing clock (a clock in the
   * past makes an expired signature). The returned builder can still be changed — after signing,
   * which is how a test tampers with a signed request.
   */
  public static HttpRequest.Builder sign(String method, URI uri, Map<String, String> headers, byte[] body,
      String service, String accessKeyId, String secret, Clock clock) {
    SdkHttpFullRequest.Builder unsigned = SdkHttpFullRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri);
    headers.forEach(unsigned::putHeader);
    SdkHttpRequest signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(AwsCredentialsIdentity.create(accessKeyId, secret))
        .request(unsigned.build())
        .payload(ContentStreamProvider.fromByteArray(body))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
        .putProperty(HttpSigner.SIGNING_CLOCK, clock)).request();
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).method(method,
        body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    Map<String, String> all = new LinkedHashMap<>();
    signed.forEachHeader((name, values) -> all.put(name, String.join(",", values)));
    // java.net.http sets Host (and Content-Length) itself, from the same URI the signer used.
    all.remove("Host");
    all.forEach(request::header);
    return request;
  }

  /** Sends {@code request}; the body as a string. */
  public static HttpResponse<String> send(HttpRequest request) {
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Sends {@code request}; the body as bytes. */
  public static HttpResponse<byte[]> sendForBytes(HttpRequest request) {
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
