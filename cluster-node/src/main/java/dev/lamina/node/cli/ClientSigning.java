package dev.lamina.node.cli;

import dev.lamina.node.auth.AccessKey;
import dev.lamina.node.auth.CredentialsFile;
import dev.lamina.node.auth.SigV4Signer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * How the {@code lamina} commands sign what they send to a node, as the AWS CLI would. The key:
 *
 * <ol>
 *   <li>{@code --data-dir DIR} given: the node's credentials file {@code DIR/credentials};
 *   <li>else {@code AWS_ACCESS_KEY_ID} and {@code AWS_SECRET_ACCESS_KEY} from the environment;
 *   <li>else {@code ./lamina-data/credentials} (what {@code ./lamina serve} generates here);
 *   <li>else none: the request goes unsigned and the node answers 403.
 * </ol>
 *
 * The region is {@code AWS_REGION} or {@code AWS_DEFAULT_REGION}, else us-east-1 (a node accepts
 * any).
 */
final class ClientSigning {

  private ClientSigning() {}

  /** The key to sign with, or null when there is none (see the class comment). */
  static AccessKey key(String dataDir) throws IOException {
    if (dataDir != null) {
      return fromFile(Path.of(dataDir, "credentials"), true);
    }
    String id = System.getenv("AWS_ACCESS_KEY_ID");
    String secret = System.getenv("AWS_SECRET_ACCESS_KEY");
    if (id != null && !id.isBlank() && secret != null && !secret.isEmpty()) {
      return new AccessKey(id.strip(), secret);
    }
    return fromFile(Path.of("lamina-data", "credentials"), false);
  }

  private static AccessKey fromFile(Path file, boolean required) throws IOException {
    if (!Files.exists(file)) {
      if (required) {
        throw new IOException(file + " does not exist: the node keeps its keys there only when it generated them "
            + "(set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead)");
      }
      return null;
    }
    List<AccessKey> keys = CredentialsFile.read(file);
    return keys.isEmpty() ? null : keys.get(0);
  }

  /**
   * A request to {@code uri} with {@code headers} and {@code body}, signed with {@code key} for
   * {@code service} ({@code lambda}, {@code sqs}); unsigned when {@code key} is null.
   */
  static HttpRequest.Builder request(String method, URI uri, Map<String, String> headers, byte[] body, AccessKey key,
      String service) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method,
        body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(b::header);
    if (key != null) {
      SigV4Signer.sign(method, uri, headers, body, key, region(), service, Instant.now()).forEach(b::header);
    }
    return b;
  }

  /** On a refused signature, tells the user where keys come from (on stderr). */
  static void explainRefusal(HttpResponse<?> response) {
    if (response.statusCode() == 403 || response.headers().firstValue("x-amzn-query-error").isPresent()) {
      String type = response.headers().firstValue("x-amzn-ErrorType")
          .orElse(response.headers().firstValue("x-amzn-query-error").orElse(""));
      if (type.contains("Authentication") || type.contains("Signature") || type.contains("ClientToken")
          || type.contains("UnrecognizedClient") || type.startsWith("AccessDenied")) {
        System.err.println("The node refused the request's signature. Sign with its keys: set AWS_ACCESS_KEY_ID and "
            + "AWS_SECRET_ACCESS_KEY (./lamina serve prints them), or pass --data-dir with the node's data directory.");
      }
    }
  }

  private static String region() {
    String region = System.getenv("AWS_REGION");
    if (region == null || region.isBlank()) {
      region = System.getenv("AWS_DEFAULT_REGION");
    }
    return region == null || region.isBlank() ? "us-east-1" : region.strip();
  }
}
