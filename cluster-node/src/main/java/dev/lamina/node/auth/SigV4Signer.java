package dev.lamina.node.auth;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Signs requests as the AWS SDKs do, for Lamina's own clients: the {@code lamina} command line
 * (header signatures) and the node's download links for function and layer code (presigned URLs,
 * as AWS hands out presigned S3 links in GetFunction's {@code Code.Location}).
 */
public final class SigV4Signer {

  private SigV4Signer() {}

  /**
   * The headers to add to a request so that it is signed: {@code Authorization}, {@code X-Amz-Date}
   * and {@code x-amz-content-sha256}. {@code headers} are the other headers the request will carry
   * (all of them are signed); the {@code Host} header is the URI's authority, as HTTP clients send
   * it.
   */
  public static Map<String, String> sign(String method, URI uri, Map<String, String> headers, byte[] body,
      AccessKey key, String region, String service, Instant now) {
    String amzDate = SigV4.basicDate(now);
    String payloadHash = SigV4.sha256Hex(body);
    Map<String, String> signed = new TreeMap<>();
    headers.forEach((name, value) -> signed.put(name.toLowerCase(Locale.ROOT), SigV4.canonicalHeaderValue(value)));
    signed.put("host", hostHeader(uri));
    signed.put("x-amz-date", amzDate);
    signed.put("x-amz-content-sha256", payloadHash);
    String scope = SigV4.scope(amzDate.substring(0, 8), region, service);
    String canonical = SigV4.canonicalRequest(method, SigV4.canonicalUri(uri.getRawPath()),
        SigV4.canonicalQuery(uri.getRawQuery(), null), signed, payloadHash);
    String signature = SigV4.signature(SigV4.signingKey(key.secretAccessKey(), amzDate.substring(0, 8), region, service),
        SigV4.stringToSign(amzDate, scope, canonical));
    Map<String, String> added = new LinkedHashMap<>();
    added.put("X-Amz-Date", amzDate);
    added.put("x-amz-content-sha256", payloadHash);
    added.put("Authorization", SigV4.ALGORITHM + " Credential=" + key.accessKeyId() + "/" + scope
        + ", SignedHeaders=" + String.join(";", signed.keySet()) + ", Signature=" + signature);
    return added;
  }

  /**
   * {@code url} (no query of its own) presigned for a GET with {@code key}, valid for
   * {@code expiry} from {@code now}; only the Host header is signed.
   */
  public static String presign(URI url, AccessKey key, String region, String service, Instant now, Duration expiry) {
    String amzDate = SigV4.basicDate(now);
    String scope = SigV4.scope(amzDate.substring(0, 8), region, service);
    String query = "X-Amz-Algorithm=" + SigV4.ALGORITHM
        + "&X-Amz-Credential=" + SigV4.encode(key.accessKeyId() + "/" + scope, false)
        + "&X-Amz-Date=" + amzDate
        + "&X-Amz-Expires=" + expiry.toSeconds()
        + "&X-Amz-SignedHeaders=host";
    String canonical = SigV4.canonicalRequest("GET", SigV4.canonicalUri(url.getRawPath()),
        SigV4.canonicalQuery(query, null), Map.of("host", hostHeader(url)), SigV4.UNSIGNED_PAYLOAD);
    String signature = SigV4.signature(SigV4.signingKey(key.secretAccessKey(), amzDate.substring(0, 8), region, service),
        SigV4.stringToSign(amzDate, scope, canonical));
    return url + "?" + query + "&X-Amz-Signature=" + signature;
  }

  /** The Host header an HTTP client sends for {@code uri}: the port only when it is not the scheme's. */
  static String hostHeader(URI uri) {
    int port = uri.getPort();
    boolean defaultPort = port == -1 || ("http".equalsIgnoreCase(uri.getScheme()) && port == 80)
        || ("https".equalsIgnoreCase(uri.getScheme()) && port == 443);
    return defaultPort ? uri.getHost() : uri.getHost() + ":" + port;
  }
}
