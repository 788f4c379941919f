package dev.lamina.node.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * HTTP/1.1 over a plain socket to a node on 127.0.0.1, for requests no well-behaved client sends:
 * any method, any bytes in the request line and headers, bodies that disagree with their headers.
 * Requests are signed with AWS Signature V4 (access key "lamina", secret "lamina", as the node's
 * test configuration knows them) whenever they can be expressed as a signable request, so they
 * reach the API behind authentication; everything else goes unsigned.
 */
public final class RawHttp {

  public static final String ACCESS_KEY = "lamina";
  public static final String SECRET_KEY = "lamina";
  public static final String REGION = "us-east-1";

  private RawHttp() {}

  /** A response as read off the wire; header names lower-cased. */
  public record Response(int status, Map<String, List<String>> headers, byte[] body, long millis) {
    public String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** A request to build: the target is sent as given (ISO-8859-1, one char a byte). */
  public static final class Request {
    final String method;
    final String path;
    final List<String[]> query = new ArrayList<>();
    final List<String[]> headers = new ArrayList<>();
    String rawTarget;
    byte[] body = new byte[0];
    String service = "lambda";
    boolean sign = true;
    boolean close = true;
    Long contentLength;

    /** {@code path} is the encoded path as it goes on the wire, e.g. {@code /2015-03-31/functions/a%3Ab}. */
    public Request(String method, String path) {
      this.method = method;
      this.path = path;
    }

    /** A query parameter, given decoded; it is percent-encoded on the wire and for the signature. */
    public Request query(String name, String value) {
      query.add(new String[] {name, value});
      return this;
    }

    public Request header(String name, String value) {
      headers.add(new String[] {name, value});
      return this;
    }

    public Request body(byte[] bytes) {
      this.body = bytes;
      return this;
    }

    public Request body(String text) {
      return body(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends this request-target instead of path and query (unsigned: it need not be a URI at all). */
    public Request rawTarget(String target) {
      this.rawTarget = target;
      this.sign = false;
      return this;
    }

    /** The service name the signature is for ({@code lambda}, {@code sqs}). */
    public Request service(String name) {
      this.service = name;
      return this;
    }

    public Request unsigned() {
      this.sign = false;
      return this;
    }

    /** Leaves the connection open after the response (no {@code Connection: close}). */
    public Request keepAlive() {
      this.close = false;
      return this;
    }

    /** Declares this Content-Length whatever the body is. */
    public Request contentLength(long length) {
      this.contentLength = length;
      return this;
    }

    /** The bytes that go on the wire: request line, headers (signed when possible), body. */
    public byte[] render(int port) {
      String host = "127.0.0.1:" + port;
      Map<String, String> signed = sign ? signatureHeaders(port) : Map.of();
      StringBuilder head = new StringBuilder();
      head.append(method).append(' ').append(rawTarget != null ? rawTarget : target()).append(" HTTP/1.1\r\n");
      head.append("Host: ").append(host).append("\r\n");
      signed.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      for (String[] h : headers) {
        head.append(h[0]).append(": ").append(h[1]).append("\r\n");
      }
      head.append("Content-Length: ").append(contentLength != null ? contentLength : body.length).append("\r\n");
      head.append(close ? "Connection: close\r\n\r\n" : "\r\n");
      ByteArrayOutputStream out = new ByteArrayOutputStream(head.length() + body.length);
      out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.writeBytes(body);
      return out.toByteArray();
    }

    private String target() {
      if (query.isEmpty()) {
        return path;
      }
      StringBuilder t = new StringBuilder(path).append('?');
      for (int i = 0; i < query.size(); i++) {
        if (i > 0) {
          t.append('&');
        }
        t.append(SdkHttpUtils.urlEncode(query.get(i)[0])).append('=').append(SdkHttpUtils.urlEncode(query.get(i)[1]));
      }
      return t.toString();
    }

    /** The headers SigV4 adds, or none when this request cannot be expressed to the signer. */
    private Map<String, String> signatureHeaders(int port) {
      SdkHttpMethod sdkMethod;
      try {
        sdkMethod = SdkHttpMethod.fromValue(method);
      } catch (IllegalArgumentException e) {
        return Map.of();
      }
      try {
        SdkHttpRequest.Builder unsigned = SdkHttpRequest.builder().protocol("http").host("127.0.0.1").port(port)
            .method(sdkMethod).encodedPath(path);
        for (String[] q : query) {
          unsigned.appendRawQueryParameter(q[0], q[1]);
        }
        for (String[] h : headers) {
          if (isSignable(h[0], h[1])) {
            unsigned.appendHeader(h[0], h[1]);
          }
        }
        SignedRequest signedRequest = AwsV4HttpSigner.create().sign(r -> r
            .identity(AwsCredentialsIdentity.create(ACCESS_KEY, SECRET_KEY))
            .request(unsigned.build())
            .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
            .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
            .putProperty(AwsV4HttpSigner.REGION_NAME, REGION));
        Map<String, String> added = new LinkedHashMap<>();
        signedRequest.request().headers().forEach((name, values) -> {
          if (!name.equalsIgnoreCase("Host") && headers.stream().noneMatch(h -> h[0].equalsIgnoreCase(name))) {
            added.put(name, values.get(0));
          }
        });
        return added;
      } catch (RuntimeException e) {
        return Map.of();  // a path or header the signer cannot take: sent unsigned
      }
    }

    private static boolean isSignable(String name, String value) {
      return name.chars().allMatch(c -> c > 32 && c < 127 && c != ':')
          && value.chars().allMatch(c -> c >= 32 && c < 127);
    }

    public String method() {
      return method;
    }

    public String describe() {
      String target = rawTarget != null ? rawTarget : target();
      String shown = method + " " + (target.length() > 160 ? target.substring(0, 160) + "…" : target);
      return shown + " (" + body.length + " body bytes)";
    }
  }

  /** Sends {@code request} on a new connection and reads the response within {@code timeout}. */
  public static Response send(int port, Request request, Duration timeout) throws IOException {
    return send(port, request.render(port), "HEAD".equals(request.method()), timeout);
  }

  /** Sends raw bytes on a new connection and reads one response within {@code timeout}. */
  public static Response send(int port, byte[] raw, boolean head, Duration timeout) throws IOException {
    long started = System.nanoTime();
    long deadline = started + timeout.toNanos();
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), (int) timeout.toMillis());
      socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
      OutputStream out = socket.getOutputStream();
      try {
        out.write(raw);
        out.flush();
      } catch (IOException e) {
        // The server may answer and close before reading a body it refuses: read what it said.
      }
      Response response = read(socket.getInputStream(), head, deadline);
      return new Response(response.status(), response.headers(), response.body(),
          (System.nanoTime() - started) / 1_000_000);
    }
  }

  /** Reads one response: status line, headers, then the body by Content-Length, chunks or to the end. */
  public static Response read(InputStream in, boolean head, long deadlineNanos) throws IOException {
    Bounded bounded = new Bounded(in, deadlineNanos);
    Response response;
    do {
      response = readOne(bounded, head);   // 1xx (100 Continue) precede the response proper
    } while (response.status() / 100 == 1);
    return response;
  }

  private static Response readOne(Bounded bounded, boolean head) throws IOException {
    String statusLine = bounded.line();
    if (statusLine == null) {
      throw new IOException("connection closed without a response");
    }
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP response: " + statusLine);
    }
    int status = Integer.parseInt(parts[1]);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String line = bounded.line(); line != null && !line.isEmpty(); line = bounded.line()) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
            .add(line.substring(colon + 1).trim());
      }
    }
    byte[] body;
    List<String> length = headers.get("content-length");
    List<String> encoding = headers.get("transfer-encoding");
    if (head || status == 204 || status == 304 || status / 100 == 1) {
      body = new byte[0];
    } else if (encoding != null && encoding.get(0).equalsIgnoreCase("chunked")) {
      ByteArrayOutputStream chunks = new ByteArrayOutputStream();
      while (true) {
        String size = bounded.line();
        if (size == null) {
          throw new IOException("chunked body cut short");
        }
        int n = Integer.parseInt(size.split(";")[0].trim(), 16);
        if (n == 0) {
          break;
        }
        chunks.writeBytes(bounded.bytes(n));
        bounded.line();
      }
      body = chunks.toByteArray();
    } else if (length != null) {
      body = bounded.bytes(Integer.parseInt(length.get(0)));
    } else {
      body = bounded.rest();
    }
    return new Response(status, headers, body, 0);
  }

  /** Reads from a socket stream, failing once the deadline has passed. */
  private static final class Bounded {
    private final InputStream in;
    private final long deadline;

    Bounded(InputStream in, long deadline) {
      this.in = in;
      this.deadline = deadline;
    }

    int read() throws IOException {
      if (System.nanoTime() > deadline) {
        throw new SocketTimeoutException("no complete response in time");
      }
      return in.read();
    }

    String line() throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      int c;
      while ((c = read()) >= 0) {
        if (c == '\n') {
          byte[] b = line.toByteArray();
          int n = b.length > 0 && b[b.length - 1] == '\r' ? b.length - 1 : b.length;
          return new String(b, 0, n, StandardCharsets.ISO_8859_1);
        }
        line.write(c);
        if (line.size() > 1 << 20) {
          throw new IOException("response line over 1 MB");
        }
      }
      return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    byte[] bytes(int n) throws IOException {
      byte[] b = new byte[n];
      int off = 0;
      while (off < n) {
        if (System.nanoTime() > deadline) {
          throw new SocketTimeoutException("no complete response in time");
        }
        int r = in.read(b, off, n - off);
        if (r < 0) {
          throw new IOException("body cut short after " + off + " of " + n + " bytes");
        }
        off += r;
      }
      return b;
    }

    byte[] rest() throws IOException {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      int r;
      while (true) {
        if (System.nanoTime() > deadline) {
          throw new SocketTimeoutException("no complete response in time");
        }
        r = in.read(buf);
        if (r < 0) {
          return out.toByteArray();
        }
        out.write(buf, 0, r);
      }
    }
  }
}
