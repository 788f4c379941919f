package dev.lamina.node.auth;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The pieces of AWS Signature Version 4 that the node's verifier and Lamina's own clients (the CLI,
 * presigned code locations) share: the canonical request, the string to sign, the signing key.
 * They follow the AWS SDKs' rules for services other than S3: the path is normalized and
 * URI-encoded a second time (a function ARN sent as {@code arn%3Aaws%3A…} is canonical as
 * {@code arn%253Aaws%253A…}), query names and values are decoded, encoded again and sorted, header
 * values are trimmed with inner runs of spaces collapsed.
 */
public final class SigV4 {

  public static final String ALGORITHM = "AWS4-HMAC-SHA256";
  public static final String TERMINATOR = "aws4_request";
  public static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
  /** SHA-256 of nothing: the payload hash of a request without a body. */
  public static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  /** {@code yyyyMMdd'T'HHmmss'Z'}, ISO-8601's basic format, in UTC: X-Amz-Date. */
  public static final DateTimeFormatter BASIC = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
      .withZone(ZoneOffset.UTC);

  private static final HexFormat HEX = HexFormat.of();
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });
  private static final ThreadLocal<Mac> HMAC = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  private SigV4() {}

  /** {@code <date>/<region>/<service>/aws4_request} */
  public static String scope(String date, String region, String service) {
    return date + "/" + region + "/" + service + "/" + TERMINATOR;
  }

  /**
   * The canonical request. {@code signedHeaders} maps lower-case names, in sorted order, to their
   * canonical values; {@code canonicalUri} and {@code canonicalQuery} come from
   * {@link #canonicalUri} and {@link #canonicalQuery}.
   */
  public static String canonicalRequest(String method, String canonicalUri, String canonicalQuery,
      Map<String, String> signedHeaders, String payloadHash) {
    StringBuilder b = new StringBuilder(256);
    b.append(method).append('\n').append(canonicalUri).append('\n').append(canonicalQuery).append('\n');
    signedHeaders.forEach((name, value) -> b.append(name).append(':').append(value).append('\n'));
    b.append('\n').append(String.join(";", signedHeaders.keySet())).append('\n').append(payloadHash);
    return b.toString();
  }

  public static String stringToSign(String amzDate, String scope, String canonicalRequest) {
    return ALGORITHM + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonicalRequest.getBytes(StandardCharsets.UTF_8));
  }

  /** The key a secret derives for one day, region and service (cache it: four HMACs). */
  public static byte[] signingKey(String secret, String date, String region, String service) {
    byte[] k = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
    k = hmac(k, region);
    k = hmac(k, service);
    return hmac(k, TERMINATOR);
  }

  /** The signature, lower-case hex. */
  public static String signature(byte[] signingKey, String stringToSign) {
    return HEX.formatHex(hmac(signingKey, stringToSign));
  }

  /**
   * The canonical URI of a path as the client sent it (still percent-encoded): dot segments
   * removed, then every octet but unreserved characters and {@code /} encoded again.
   */
  public static String canonicalUri(String rawPath) {
    if (rawPath == null || rawPath.isEmpty()) {
      return "/";
    }
    String path;
    try {
      path = new URI("http://h" + (rawPath.startsWith("/") ? "" : "/") + rawPath).normalize().getRawPath();
    } catch (URISyntaxException e) {
      path = rawPath;   // characters java.net.URI refuses: signed as sent, without normalization
    }
    if (path == null || path.isEmpty()) {
      path = "/";
    }
    String encoded = encode(path, true);
    if (encoded.length() > 1 && encoded.endsWith("/") && !rawPath.endsWith("/")) {
      // Normalizing "/a/b/." leaves a slash the request did not end with.
      encoded = encoded.substring(0, encoded.length() - 1);
    }
    return encoded;
  }

  /**
   * The canonical query string of a raw (percent-encoded) query, without the parameters named in
   * {@code excluded} (a presigned URL's {@code X-Amz-Signature}). Parameters without a name are
   * not signed; {@code +} is a plus sign, not a space.
   */
  public static String canonicalQuery(String rawQuery, String excluded) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return "";
    }
    List<String[]> params = new ArrayList<>();
    for (String part : rawQuery.split("&")) {
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      String name = decode(eq < 0 ? part : part.substring(0, eq));
      if (name.isEmpty() || name.equals(excluded)) {
        continue;
      }
      String value = eq < 0 ? "" : decode(part.substring(eq + 1));
      params.add(new String[] {encode(name, false), encode(value, false)});
    }
    params.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
    StringBuilder b = new StringBuilder();
    for (String[] p : params) {
      if (b.length() > 0) {
        b.append('&');
      }
      b.append(p[0]).append('=').append(p[1]);
    }
    return b.toString();
  }

  /** A header's canonical value: trimmed, each run of white space one space. */
  public static String canonicalHeaderValue(String value) {
    StringBuilder b = new StringBuilder(value.length());
    boolean space = false;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\u000b') {
        space = b.length() > 0;
      } else {
        if (space) {
          b.append(' ');
          space = false;
        }
        b.append(c);
      }
    }
    return b.toString();
  }

  /**
   * AWS's URI encoding: the UTF-8 octets of everything but {@code A-Z a-z 0-9 - _ . ~} (and
   * {@code /} when {@code keepSlash}) as {@code %XX}, upper-case.
   */
  public static String encode(String s, boolean keepSlash) {
    StringBuilder b = null;
    byte[] bytes = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!unreserved(c) && !(keepSlash && c == '/')) {
        bytes = s.getBytes(StandardCharsets.UTF_8);
        break;
      }
    }
    if (bytes == null) {
      return s;
    }
    b = new StringBuilder(bytes.length + 16);
    for (byte octet : bytes) {
      char c = (char) (octet & 0xff);
      if (octet >= 0 && (unreserved(c) || (keepSlash && c == '/'))) {
        b.append(c);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit((octet >> 4) & 0xf, 16)))
            .append(Character.toUpperCase(Character.forDigit(octet & 0xf, 16)));
      }
    }
    return b.toString();
  }

  /** Percent-decoding as UTF-8; a malformed escape stays as it is. */
  public static String decode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[in.length];
    int n = 0;
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '%' && i + 2 < in.length && Character.digit(in[i + 1], 16) >= 0
          && Character.digit(in[i + 2], 16) >= 0) {
        out[n++] = (byte) (Character.digit(in[i + 1], 16) * 16 + Character.digit(in[i + 2], 16));
        i += 2;
      } else {
        out[n++] = in[i];
      }
    }
    return new String(out, 0, n, StandardCharsets.UTF_8);
  }

  private static boolean unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || c == '-' || c == '_' || c == '.' || c == '~';
  }

  public static String sha256Hex(byte[] bytes) {
    MessageDigest d = SHA256.get();
    d.reset();
    return HEX.formatHex(d.digest(bytes));
  }

  /**
   * SHA-256 of a body given as buffers (a Pekko ByteString's, read-only: the digest reads them
   * without copying the whole body).
   */
  public static String sha256Hex(Iterable<ByteBuffer> body) {
    MessageDigest d = SHA256.get();
    d.reset();
    for (ByteBuffer b : body) {
      d.update(b);
    }
    return HEX.formatHex(d.digest());
  }

  public static String basicDate(Instant instant) {
    return BASIC.format(instant);
  }

  static byte[] hmac(byte[] key, String data) {
    Mac mac = HMAC.get();
    try {
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
  }
}
