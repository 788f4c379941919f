package dev.lamina.loadtests;

import io.gatling.http.client.Request;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * Signature Version 4 with the AWS SDK for Java v2's own signer, for Gatling's requests and the
 * set-up client alike: a node that accepts these accepts what a Lambda client sends. Signing
 * costs the client ~30 µs a request (measured in the invoke benchmark); the simulations pay it on
 * Gatling's threads, as a real client would.
 */
public final class Sigv4 {

  private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
  private final AwsCredentialsIdentity identity;
  private final String region;

  public Sigv4(Target target) {
    this.identity = AwsCredentialsIdentity.create(target.accessKeyId(), target.secretAccessKey());
    this.region = target.region();
  }

  /** The headers to add to {@code method uri} with {@code headers} and {@code body} for {@code service}. */
  public Map<String, List<String>> sign(String method, URI uri, Map<String, String> headers, byte[] body,
      String service) {
    SdkHttpFullRequest.Builder unsigned = SdkHttpFullRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri);
    headers.forEach(unsigned::putHeader);
    SdkHttpRequest signed = signer.sign(r -> r.identity(identity).request(unsigned.build())
        .payload(ContentStreamProvider.fromByteArray(body))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
        .putProperty(AwsV4HttpSigner.REGION_NAME, region)).request();
    return signed.headers();
  }

  /** Gatling's hook ({@code http.sign(...)}): signs each request just before it is sent. */
  public Function<Request, Request> forGatling() {
    return request -> {
      try {
        URI uri = request.getUri().toJavaNetURI();
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, String> h : request.getHeaders()) {
          String name = h.getKey().toLowerCase(java.util.Locale.ROOT);
          if (name.startsWith("x-amz-") || name.equals("content-type")) {
            headers.put(h.getKey(), h.getValue());
          }
        }
        byte[] body = request.getBody() == null ? new byte[0] : request.getBody().getBytes();
        sign(request.getMethod().name(), uri, headers, body, "lambda").forEach((name, values) -> {
          if (!name.equalsIgnoreCase("Host")) { // Gatling writes Host from the same URI
            request.getHeaders().set(name, String.join(",", values));
          }
        });
        return request;
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException(e);
      }
    };
  }
}
