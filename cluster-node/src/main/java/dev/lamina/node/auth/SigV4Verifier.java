package dev.lamina.node.auth;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks AWS Signature Version 4 on a request, in an {@code Authorization} header or in the query
 * string (a presigned URL), against the access keys the node knows.
 *
 * <p>Contract: {@link #check} looks at everything but the body — is there a signature, is it
 * well-formed, is its time within {@code maxClockSkew} of the node's clock (or its presigned
 * expiry), is its scope this service's, is its access key known — and answers {@link Refused} or
 * {@link Pending}. Only then does the caller read the body and {@link #finish} compares the
 * signature (in constant time) with the one the key's secret gives for the request and the
 * SHA-256 of that body ({@code UNSIGNED-PAYLOAD} when the client said so in
 * {@code x-amz-content-sha256}). A request that is refused never needs its body read whole.
 *
 * <p>Any region is accepted. The key a secret derives for a day, region and service is cached, so
 * a signed request costs one SHA-256 of its body, one of its canonical request, and one HMAC.
 * {@code X-Amz-Security-Token} is signed like any header and otherwise ignored: the node issues no
 * session credentials. Thread-safe.
 */
public final class SigV4Verifier {

  private static final Logger log = LoggerFactory.getLogger(SigV4Verifier.class);
  private static final int SIGNING_KEY_CACHE = 256;
  private static final long MAX_PRESIGNED_EXPIRY_SECONDS = 7 * 24 * 3600;

  /** What is wrong with a request, named as AWS names it. */
  public enum Failure {
    /** Neither an AWS4 Authorization header nor a presigned query. */
    MissingAuthenticationTokenException,
    /** The signature's parts are malformed or missing. */
    IncompleteSignatureException,
    /** The access key id is unknown. */
    UnrecognizedClientException,
    /** The signature does not match, or its time or scope is wrong. */
    InvalidSignatureException
  }

  /** What a request presents: raw path and query as sent, and its headers. */
  public interface SignedRequest {
    String method();

    /** The path as the client sent it, still percent-encoded. */
    String rawPath();

    /** The query string as sent (without {@code ?}), or null. */
    String rawQuery();

    /** The values of the header named {@code lowerCaseName} as sent, joined by commas; null if absent. */
    String header(String lowerCaseName);

    /**
     * Other spellings the header may have had on the wire, for a server that keeps only a parsed
     * form of it (Pekko re-renders Content-Type: {@code charset=utf-8} becomes {@code UTF-8}, and
     * {@code application/json} loses its charset). Tried only when the signature does not match.
     */
    default List<String> spellings(String lowerCaseName) {
      return List.of();
    }
  }

  public sealed interface Verdict permits Refused, Pending, Accepted {}

  /** The request is refused: AWS's error code and message for it. */
  public record Refused(Failure failure, String message) implements Verdict {}

  /** The request signed in with {@code key}. */
  public record Accepted(AccessKey key) implements Verdict {}

  /** Everything but the signature itself holds; {@link #finish} decides with the body. */
  public static final class Pending implements Verdict {
    private final AccessKey key;
    private final String method;
    private final String canonicalUri;
    private final String canonicalQuery;
    private final Map<String, String> signedHeaders;
    private final String amzDate;
    private final String scope;
    private final byte[] signingKey;
    private final String signature;
    private final boolean unsignedPayload;
    private final boolean presigned;
    private final java.util.function.Supplier<Map<String, List<String>>> spellings;

    private Pending(AccessKey key, String method, String canonicalUri, String canonicalQuery,
        Map<String, String> signedHeaders, String amzDate, String scope, byte[] signingKey, String signature,
        boolean unsignedPayload, boolean presigned, java.util.function.Supplier<Map<String, List<String>>> spellings) {
      this.spellings = spellings;
      this.key = key;
      this.method = method;
      this.canonicalUri = canonicalUri;
      this.canonicalQuery = canonicalQuery;
      this.signedHeaders = signedHeaders;
      this.amzDate = amzDate;
      this.scope = scope;
      this.signingKey = signingKey;
      this.signature = signature;
      this.unsignedPayload = unsignedPayload;
      this.presigned = presigned;
    }

    public AccessKey key() {
      return key;
    }
  }

  static final String SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you "
      + "provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
  static final String UNKNOWN_KEY = "The security token included in the request is invalid.";
  static final String MISSING = "Missing Authentication Token";

  private final Map<String, AccessKey> keys;
  private final Duration maxClockSkew;
  private final Clock clock;
  private final Map<SigningScope, byte[]> signingKeys = new ConcurrentHashMap<>();

  private record SigningScope(String secret, String date, String region, String service) {}

  public SigV4Verifier(List<AccessKey> keys, Duration maxClockSkew, Clock clock) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("a verifier needs at least one access key");
    }
    this.keys = keys.stream().collect(Collectors.toUnmodifiableMap(AccessKey::accessKeyId, Function.identity(),
        (a, b) -> {
          if (!a.secretAccessKey().equals(b.secretAccessKey())) {
            throw new IllegalArgumentException("access key " + a.accessKeyId() + " is configured twice with "
                + "different secrets");
          }
          return a;
        }));
    this.maxClockSkew = maxClockSkew;
    this.clock = clock;
  }

  /**
   * Everything that needs no body; {@code service} is the signing name the request must be scoped
   * to ({@code lambda}, {@code sqs}).
   */
  public Verdict check(SignedRequest request, String service) {
    String authorization = request.header("authorization");
    Map<String, String> query = presignParameters(request.rawQuery());
    boolean presigned = query.containsKey("X-Amz-Algorithm");
    if (authorization != null && presigned) {
      return invalid("Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.");
    }
    if (presigned) {
      return checkPresigned(request, query, service);
    }
    if (authorization == null || !authorization.strip().startsWith("AWS4-")) {
      return new Refused(Failure.MissingAuthenticationTokenException, MISSING);
    }
    return checkHeader(request, authorization.strip(), service);
  }

  private Verdict checkHeader(SignedRequest request, String authorization, String service) {
    int space = authorization.indexOf(' ');
    String algorithm = space < 0 ? authorization : authorization.substring(0, space);
    Map<String, String> parts = new LinkedHashMap<>();
    if (space >= 0) {
      for (String part : authorization.substring(space + 1).split(",")) {
        String p = part.strip();
        if (p.isEmpty()) {
          continue;
        }
        int eq = p.indexOf('=');
        if (eq < 0) {
          return incomplete("'" + p + "' not a valid key=value pair (missing equal-sign) in Authorization header: '"
              + authorization + "'.");
        }
        parts.put(p.substring(0, eq).strip(), p.substring(eq + 1).strip());
      }
    }
    String amzDate = request.header("x-amz-date");
    String httpDate = amzDate == null ? request.header("date") : null;
    StringBuilder missing = new StringBuilder();
    for (String name : List.of("Credential", "Signature", "SignedHeaders")) {
      if (!parts.containsKey(name) || (!name.equals("SignedHeaders") && parts.get(name).isEmpty())) {
        missing.append("Authorization header requires '").append(name).append("' parameter. ");
      }
    }
    if (amzDate == null && httpDate == null) {
      missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
    }
    if (missing.length() > 0) {
      return incomplete(missing + "Authorization=" + authorization);
    }
    Instant signedAt;
    if (amzDate != null) {
      signedAt = parseBasic(amzDate.strip());
      if (signedAt == null) {
        return incomplete("Date must be in ISO-8601 'basic format'. Got '" + amzDate + "'. See "
            + "http://en.wikipedia.org/wiki/ISO_8601");
      }
    } else {
      try {
        signedAt = ZonedDateTime.parse(httpDate.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      } catch (DateTimeParseException e) {
        return incomplete("Date must be in RFC 1123 format when no X-Amz-Date header is given. Got '" + httpDate
            + "'.");
      }
    }
    String basicDate = SigV4.basicDate(signedAt);
    Verdict timely = withinSkew(signedAt, basicDate);
    if (timely != null) {
      return timely;
    }
    return checkSigned(request, algorithm, parts.get("Credential"), parts.get("SignedHeaders"),
        parts.get("Signature"), basicDate, request.rawQuery(), service, false);
  }

  private Verdict checkPresigned(SignedRequest request, Map<String, String> query, String service) {
    StringBuilder missing = new StringBuilder();
    for (String name : List.of("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders",
        "X-Amz-Date", "X-Amz-Expires")) {
      if (query.get(name) == null || query.get(name).isEmpty()) {
        missing.append("AWS query-string parameters must include '").append(name).append("'. ");
      }
    }
    if (missing.length() > 0) {
      return incomplete(missing + "Re-examine the query-string parameters.");
    }
    Instant signedAt = parseBasic(query.get("X-Amz-Date"));
    if (signedAt == null) {
      return incomplete("Date must be in ISO-8601 'basic format'. Got '" + query.get("X-Amz-Date") + "'. See "
          + "http://en.wikipedia.org/wiki/ISO_8601");
    }
    long expires;
    try {
      expires = Long.parseLong(query.get("X-Amz-Expires"));
    } catch (NumberFormatException e) {
      expires = -1;
    }
    if (expires < 1 || expires > MAX_PRESIGNED_EXPIRY_SECONDS) {
      return incomplete("X-Amz-Expires must be a number of seconds from 1 to " + MAX_PRESIGNED_EXPIRY_SECONDS
          + " (a week), not '" + query.get("X-Amz-Expires") + "'.");
    }
    Instant now = clock.instant();
    String basicDate = SigV4.basicDate(signedAt);
    if (now.isAfter(signedAt.plusSeconds(expires))) {
      return invalid("Signature expired: " + basicDate + " is now earlier than "
          + SigV4.basicDate(now.minusSeconds(expires)) + " (" + SigV4.basicDate(now) + " - " + expires + " sec.)");
    }
    if (signedAt.isAfter(now.plus(maxClockSkew))) {
      return invalid("Signature not yet current: " + basicDate + " is still later than "
          + SigV4.basicDate(now.plus(maxClockSkew)) + " (" + SigV4.basicDate(now) + " + " + minutes(maxClockSkew)
          + ")");
    }
    return checkSigned(request, query.get("X-Amz-Algorithm"), query.get("X-Amz-Credential"),
        query.get("X-Amz-SignedHeaders"), query.get("X-Amz-Signature"), basicDate, request.rawQuery(), service, true);
  }

  private static boolean hasDotSegment(String rawPath) {
    for (String segment : rawPath.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..") || segment.equalsIgnoreCase("%2e")
          || segment.equalsIgnoreCase("%2e%2e") || segment.equalsIgnoreCase(".%2e") || segment.equalsIgnoreCase("%2e.")) {
        return true;
      }
    }
    return false;
  }

  /** What both forms share once the time is known to be good: algorithm, scope, key, signed headers. */
  private Verdict checkSigned(SignedRequest request, String algorithm, String credential, String signedHeaderList,
      String signature, String amzDate, String rawQuery, String service, boolean presigned) {
    List<String> signedNames = List.of(signedHeaderList.toLowerCase(java.util.Locale.ROOT).split(";"));
    if (!signedNames.contains("host")) {
      return invalid("'Host' must be a 'SignedHeader' in the AWS Authorization.");
    }
    for (String mustSign : List.of("x-amz-target", "x-amz-content-sha256")) {
      // The operation of a JSON-protocol request (SQS) and the body hash must not be swappable.
      if (request.header(mustSign) != null && !signedNames.contains(mustSign)) {
        return invalid("'" + mustSign + "' is present but not a 'SignedHeader' in the AWS Authorization.");
      }
    }
    if (presigned && !request.method().equals("GET") && !request.method().equals("HEAD")) {
      // A presigned URL covers no body: it may only fetch.
      return invalid("A presigned URL may only be used with GET or HEAD.");
    }
    if (hasDotSegment(request.rawPath())) {
      // The signature covers the path with dot segments removed, the router the path as sent.
      return invalid("The request path must not contain '.' or '..' segments.");
    }
    if (!algorithm.equals(SigV4.ALGORITHM)) {
      return incomplete("Unsupported AWS 'algorithm': '" + algorithm + "' (only " + SigV4.ALGORITHM + " for now).");
    }
    String[] c = credential.split("/", -1);
    if (c.length != 5) {
      return incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term,"
          + " got '" + credential + "'");
    }
    StringBuilder scopeErrors = new StringBuilder();
    if (c[2].isEmpty()) {
      scopeErrors.append("Credential should be scoped to a valid region, not '").append(c[2]).append("'. ");
    }
    if (!c[3].equals(service)) {
      scopeErrors.append("Credential should be scoped to correct service: '").append(service).append("'. ");
    }
    if (!c[4].equals(SigV4.TERMINATOR)) {
      scopeErrors.append("Credential should be scoped with a valid terminator: '").append(SigV4.TERMINATOR)
          .append("', not '").append(c[4]).append("'. ");
    }
    String day = amzDate.substring(0, 8);
    if (!c[1].equals(day)) {
      scopeErrors.append("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '")
          .append(c[1]).append("' != '").append(day).append("', from '").append(amzDate).append("'.");
    }
    if (scopeErrors.length() > 0) {
      return invalid(scopeErrors.toString().strip());
    }
    AccessKey key = keys.get(c[0]);
    if (key == null) {
      return new Refused(Failure.UnrecognizedClientException, UNKNOWN_KEY);
    }
    Map<String, String> headers = new TreeMap<>();
    for (String name : signedNames) {
      if (name.isEmpty()) {
        continue;
      }
      String value = request.header(name);
      headers.put(name, value == null ? "" : SigV4.canonicalHeaderValue(value));
    }
    // Other spellings of a header are tried only when the signature does not match as received.
    java.util.function.Supplier<Map<String, List<String>>> spellings = () -> {
      Map<String, List<String>> others = new TreeMap<>();
      for (String name : signedNames) {
        List<String> spelled = name.isEmpty() ? List.of() : request.spellings(name);
        if (!spelled.isEmpty()) {
          others.put(name, spelled);
        }
      }
      return others;
    };
    byte[] signingKey = signingKeys.get(new SigningScope(key.secretAccessKey(), c[1], c[2], c[3]));
    if (signingKey == null) {
      signingKey = SigV4.signingKey(key.secretAccessKey(), c[1], c[2], c[3]);
      if (signingKeys.size() >= SIGNING_KEY_CACHE) {
        signingKeys.clear();   // a day's keys are few; anything beyond is churn (odd regions): start over
      }
      signingKeys.put(new SigningScope(key.secretAccessKey(), c[1], c[2], c[3]), signingKey);
    }
    boolean unsigned = !presigned && SigV4.UNSIGNED_PAYLOAD.equals(request.header("x-amz-content-sha256"));
    return new Pending(key, request.method(), SigV4.canonicalUri(request.rawPath()),
        SigV4.canonicalQuery(rawQuery, presigned ? "X-Amz-Signature" : null), headers, amzDate,
        String.join("/", c[1], c[2], c[3], c[4]), signingKey, signature, unsigned, presigned, spellings);
  }

  /** Compares the signature with the one {@code body} gives; {@code body} is the whole request body. */
  public Verdict finish(Pending p, Iterable<ByteBuffer> body) {
    String payloadHash = p.unsignedPayload ? SigV4.UNSIGNED_PAYLOAD : SigV4.sha256Hex(body);
    String canonical = SigV4.canonicalRequest(p.method, p.canonicalUri, p.canonicalQuery, p.signedHeaders, payloadHash);
    if (matches(p, canonical)) {
      return new Accepted(p.key);
    }
    if (p.presigned) {
      // Presigned URLs are signed over UNSIGNED-PAYLOAD by the SDKs' presigners (S3's convention).
      String unsigned = SigV4.canonicalRequest(p.method, p.canonicalUri, p.canonicalQuery, p.signedHeaders,
          SigV4.UNSIGNED_PAYLOAD);
      if (matches(p, unsigned)) {
        return new Accepted(p.key);
      }
    }
    for (Map.Entry<String, List<String>> header : p.spellings.get().entrySet()) {
      for (String spelling : header.getValue()) {
        Map<String, String> respelled = new TreeMap<>(p.signedHeaders);
        respelled.put(header.getKey(), SigV4.canonicalHeaderValue(spelling));
        if (matches(p, SigV4.canonicalRequest(p.method, p.canonicalUri, p.canonicalQuery, respelled, payloadHash))) {
          return new Accepted(p.key);
        }
      }
    }
    if (log.isDebugEnabled()) {
      log.debug("signature mismatch for access key {}; the canonical request was:\n{}", p.key.accessKeyId(), canonical);
    }
    return invalid(SIGNATURE_MISMATCH);
  }

  private static boolean matches(Pending p, String canonical) {
    String expected = SigV4.signature(p.signingKey, SigV4.stringToSign(p.amzDate, p.scope, canonical));
    return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
        p.signature.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
  }

  private Verdict withinSkew(Instant signedAt, String basicDate) {
    Instant now = clock.instant();
    if (signedAt.isBefore(now.minus(maxClockSkew))) {
      return invalid("Signature expired: " + basicDate + " is now earlier than " + SigV4.basicDate(now.minus(maxClockSkew))
          + " (" + SigV4.basicDate(now) + " - " + minutes(maxClockSkew) + ")");
    }
    if (signedAt.isAfter(now.plus(maxClockSkew))) {
      return invalid("Signature not yet current: " + basicDate + " is still later than "
          + SigV4.basicDate(now.plus(maxClockSkew)) + " (" + SigV4.basicDate(now) + " + " + minutes(maxClockSkew) + ")");
    }
    return null;
  }

  /** {@code 15 min.} as AWS writes the skew; seconds when it is not whole minutes. */
  private static String minutes(Duration d) {
    return d.toSecondsPart() == 0 && d.toNanosPart() == 0 ? d.toMinutes() + " min." : d.toSeconds() + " sec.";
  }

  /** The X-Amz-* query parameters, decoded; empty when there are none. */
  private static Map<String, String> presignParameters(String rawQuery) {
    if (rawQuery == null || !rawQuery.contains("X-Amz-")) {
      return Map.of();
    }
    Map<String, String> params = new TreeMap<>();
    for (String part : rawQuery.split("&")) {
      int eq = part.indexOf('=');
      String name = SigV4.decode(eq < 0 ? part : part.substring(0, eq));
      if (name.startsWith("X-Amz-")) {
        params.putIfAbsent(name, eq < 0 ? "" : SigV4.decode(part.substring(eq + 1)));
      }
    }
    return params;
  }

  private static Instant parseBasic(String value) {
    try {
      return SigV4.BASIC.parse(value, Instant::from);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static Refused incomplete(String message) {
    return new Refused(Failure.IncompleteSignatureException, message);
  }

  private static Refused invalid(String message) {
    return new Refused(Failure.InvalidSignatureException, message);
  }
}
