package dev.lamina.node.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.node.api.FunctionJson;
import dev.lamina.node.auth.AccessKey;
import dev.lamina.node.auth.SigV4Signer;
import dev.lamina.node.auth.SigV4Verifier;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;

/**
 * Signature Version 4 at the door of the node's API: every request but the operations endpoints
 * ({@code /health}, {@code /ready}, {@code /metrics}) and presigned code downloads must be signed
 * with a key the node knows, for the service it addresses ({@code sqs} for the SQS JSON protocol,
 * {@code lambda} for everything else, Lamina's own {@code /lamina/…} endpoints included).
 *
 * <p>A refused request is answered as AWS answers it: HTTP 403 with {@code x-amzn-ErrorType} and a
 * {@code message} for the Lambda API; {@code __type}, {@code message} and
 * {@code x-amzn-query-error} for SQS (400 for a malformed signature there, as SQS's front door
 * does). A refused body is drained, never buffered. An accepted request goes on with its body
 * made strict (the signature covers it, so it was read whole) and the caller's key as the
 * {@link #CALLER} attribute.
 */
public final class ApiAuthentication {

  /** The access key an accepted request was signed with. */
  public static final AttributeKey<AccessKey> CALLER = AttributeKey.create("lamina-caller", AccessKey.class);
  /** How long the download links in GetFunction and GetLayerVersion work (AWS: 10 minutes). */
  private static final Duration CODE_LINK_EXPIRY = Duration.ofMinutes(10);

  private final SigV4Verifier verifier;
  private final String region;
  private final long maxBodyBytes;
  private final Clock clock;
  private final Materializer mat;

  /** The outcome: the request to serve (body strict, caller attached), or the refusal to send. */
  public record Result(HttpRequest request, HttpResponse refusal) {}

  /**
   * @param region the region presigned links are scoped to (requests may be signed for any)
   * @param maxBodyBytes the largest body the server accepts at all (Pekko's max-content-length)
   */
  public ApiAuthentication(SigV4Verifier verifier, String region, long maxBodyBytes, Clock clock, Materializer mat) {
    this.verifier = verifier;
    this.region = region;
    this.maxBodyBytes = maxBodyBytes;
    this.clock = clock;
    this.mat = mat;
  }

  /**
   * How the API reads a request body (whole, within its deadlines and the route's size limit) and
   * drains a refused one (within the same deadlines: an unsigned client must not hold a
   * connection by trickling a body).
   */
  public interface Bodies {
    CompletionStage<ByteString> read(HttpRequest request);

    CompletionStage<?> drain(HttpRequest request);
  }

  /** The largest body the server accepts at all. */
  public long maxBodyBytes() {
    return maxBodyBytes;
  }

  /** The paths served to anyone: what probes and scrapers call. */
  public static boolean isOpen(String path) {
    return path.equals("/health") || path.equals("/ready") || path.equals("/metrics");
  }

  /**
   * Checks {@code request}'s signature; {@code sqs}: it is an SQS JSON-protocol request. A body
   * that is not strict yet is read with {@code readBody} (the API's own reader, with its deadlines
   * and size limit) once the headers pass.
   */
  public CompletionStage<Result> authenticate(HttpRequest request, boolean sqs, Bodies bodies) {
    PekkoRequest signed = new PekkoRequest(request);
    SigV4Verifier.Verdict verdict = verifier.check(signed, sqs ? "sqs" : "lambda");
    if (verdict instanceof SigV4Verifier.Refused refused) {
      return bodies.drain(request).handle((done, failure) -> new Result(null, refusal(refused, sqs, signed)));
    }
    SigV4Verifier.Pending pending = (SigV4Verifier.Pending) verdict;
    return strictBody(request, bodies).thenApply(strict -> {
      SigV4Verifier.Verdict finished = verifier.finish(pending, buffers(strict.getData()));
      if (finished instanceof SigV4Verifier.Accepted accepted) {
        return new Result(request.withEntity(strict).addAttribute(CALLER, accepted.key()), null);
      }
      return new Result(null, refusal((SigV4Verifier.Refused) finished, sqs, signed));
    });
  }

  /**
   * A link to {@code url} (on this node, no query) that works without signing for 10 minutes,
   * signed with the caller's key; the link itself when the request came without one.
   */
  public String presign(HttpRequest request, String url) {
    Optional<AccessKey> caller = request.getAttribute(CALLER);
    return caller.map(key -> SigV4Signer.presign(URI.create(url), key, region, "lambda", clock.instant(),
        CODE_LINK_EXPIRY)).orElse(url);
  }

  /**
   * The body for hashing without copying it: a compact ByteString's own array (the digest reads a
   * heap buffer's array directly), else its segments.
   */
  private static Iterable<java.nio.ByteBuffer> buffers(ByteString body) {
    return body.isCompact() ? java.util.List.of(java.nio.ByteBuffer.wrap(body.toArrayUnsafe())) : body.getByteBuffers();
  }

  private static CompletionStage<HttpEntity.Strict> strictBody(HttpRequest request, Bodies bodies) {
    if (request.entity() instanceof HttpEntity.Strict strict) {
      return CompletableFuture.completedFuture(strict);
    }
    ContentType type = request.entity().getContentType();
    return bodies.read(request).thenApply(bytes -> HttpEntities.create(type, bytes));
  }

  private static HttpResponse refusal(SigV4Verifier.Refused refused, boolean sqs, PekkoRequest request) {
    if (sqs) {
      return switch (refused.failure()) {
        case MissingAuthenticationTokenException -> SqsApi.frontDoorError("AccessDeniedException", "AccessDenied", 403,
            "Access to the resource " + request.resource() + " is denied.");
        case UnrecognizedClientException -> SqsApi.frontDoorError("UnrecognizedClientException", "InvalidClientTokenId",
            403, refused.message());
        case InvalidSignatureException -> SqsApi.frontDoorError("InvalidSignatureException", "SignatureDoesNotMatch",
            403, refused.message());
        case IncompleteSignatureException -> SqsApi.frontDoorError("IncompleteSignatureException",
            "IncompleteSignature", 400, refused.message());
      };
    }
    ObjectNode body = FunctionJson.MAPPER.createObjectNode().put("message", refused.message());
    return HttpResponse.create().withStatus(403)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()))
        .addHeader(RawHeader.create("x-amzn-ErrorType", refused.failure().name()));
  }

  /** A Pekko request as the verifier reads it: path and query as sent (Raw-Request-URI), headers as sent. */
  private static final class PekkoRequest implements SigV4Verifier.SignedRequest {
    private final HttpRequest request;
    private final String rawPath;
    private final String rawQuery;

    PekkoRequest(HttpRequest request) {
      this.request = request;
      String target = request.getHeader("Raw-Request-URI").map(HttpHeader::value).orElse(null);
      if (target == null) {
        // Without the raw target (pekko.http.server.raw-request-uri-header off) Pekko's rendering is
        // the best there is; it differs from the client's only for escapes Pekko normalizes.
        target = request.getUri().path() + request.getUri().rawQueryString().map(q -> "?" + q).orElse("");
      } else if (!target.startsWith("/")) {
        // absolute-form (http://host/path?q): the path starts after the authority
        int scheme = target.indexOf("://");
        int slash = scheme < 0 ? -1 : target.indexOf('/', scheme + 3);
        target = slash < 0 ? "/" : target.substring(slash);
      }
      int q = target.indexOf('?');
      this.rawPath = q < 0 ? target : target.substring(0, q);
      this.rawQuery = q < 0 ? null : target.substring(q + 1);
    }

    @Override
    public String method() {
      return request.method().value();
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
    public String header(String name) {
      switch (name) {
        case "content-type":
          // Pekko keeps Content-Type and Content-Length on the entity, not among the headers.
          return request.entity().getContentType().toString();
        case "content-length":
          return request.entity().getContentLengthOption().isPresent()
              ? Long.toString(request.entity().getContentLengthOption().getAsLong()) : null;
        case "transfer-encoding":
          if (request.entity().isChunked()) {
            return "chunked";
          }
          break;
        default:
          break;
      }
      StringBuilder values = null;
      for (HttpHeader h : request.getHeaders()) {
        if (h.lowercaseName().equals(name)) {
          values = values == null ? new StringBuilder(h.value()) : values.append(',').append(h.value());
        }
      }
      return values == null ? null : values.toString();
    }

    /**
     * How the Content-Type may have been written, given Pekko's rendering of it: the charset in
     * lower case, parameters without a space after {@code ;}, and for media types whose charset is
     * fixed (application/json), with the {@code charset} parameter Pekko dropped.
     */
    @Override
    public List<String> spellings(String name) {
      if (!name.equals("content-type")) {
        return List.of();
      }
      ContentType type = request.entity().getContentType();
      String rendered = type.toString();
      String[] parts = rendered.split("; ");
      List<List<String>> paramChoices = new ArrayList<>();
      boolean hasCharset = false;
      for (int i = 1; i < parts.length; i++) {
        if (parts[i].startsWith("charset=")) {
          hasCharset = true;
          paramChoices.add(List.of(parts[i], parts[i].toLowerCase(Locale.ROOT)));
        } else {
          paramChoices.add(List.of(parts[i]));
        }
      }
      if (!hasCharset && !type.binary()) {
        paramChoices.add(0, Arrays.asList(null, "charset=utf-8", "charset=UTF-8"));
      }
      Set<String> spellings = new LinkedHashSet<>();
      for (String separator : List.of("; ", ";")) {
        List<StringBuilder> built = List.of(new StringBuilder(parts[0]));
        for (List<String> choices : paramChoices) {
          List<StringBuilder> next = new ArrayList<>();
          for (StringBuilder b : built) {
            for (String choice : new LinkedHashSet<>(choices)) {
              next.add(choice == null ? new StringBuilder(b) : new StringBuilder(b).append(separator).append(choice));
            }
          }
          built = next;
        }
        built.forEach(b -> spellings.add(b.toString()));
      }
      spellings.remove(rendered);
      return spellings.size() > 16 ? List.copyOf(spellings).subList(0, 16) : List.copyOf(spellings);
    }

    /** {@code http://<host>/}, as SQS names the resource it refuses. */
    String resource() {
      return "http://" + request.getHeader("Host").map(HttpHeader::value).orElse("localhost") + "/";
    }
  }
}
