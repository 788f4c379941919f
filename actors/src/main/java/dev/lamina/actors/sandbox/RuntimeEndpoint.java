package dev.lamina.actors.sandbox;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.lamina.actors.function.Invocation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;

/**
 * The Lambda Runtime API (2018-06-01) of one sandbox, on its own loopback port.
 *
 * <p>It runs on dedicated threads, not on actors: a {@code /next} long poll parks its thread on a
 * queue until the sandbox actor {@link #deliver delivers} an invocation, and a posted result is
 * read, checked against the current request id, paired with the output the runtime wrote during
 * the invocation, and handed to the actor in one message. That keeps the warm path at one thread
 * hop each way between actor and runtime, and keeps all blocking I/O off the actors.
 *
 * <p>Answers follow the contract: {@code /response} and {@code /error} 202, a stale or unknown
 * request id 400 {@code InvalidRequestID}, a response over the limit 413
 * {@code RequestEntityTooLarge} (the body is drained first so the runtime sees the answer).
 */
final class RuntimeEndpoint implements AutoCloseable {

  static {
    // Headers and body go out in separate writes: without this Nagle's algorithm adds ~40 ms.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private static final String PREFIX = "/2018-06-01/runtime/";
  private static final Delivery CLOSED = new Delivery(null, 0);

  /** An invocation waiting for the runtime's {@code /next}; {@code deadlineMs} is epoch millis. */
  record Delivery(Invocation invocation, long deadlineMs) {}

  private final HttpServer server;
  private final ActorRef<SandboxActor.Command> sandbox;
  private final SandboxOutput output;
  private final long maxResponseBytes;
  private final LinkedBlockingDeque<Delivery> deliveries = new LinkedBlockingDeque<>();
  private final AtomicLong nextTicket = new AtomicLong();
  private final AtomicBoolean initialised = new AtomicBoolean();
  private volatile String currentRequestId;
  private volatile int memoryCapMb;

  private RuntimeEndpoint(HttpServer server, ActorRef<SandboxActor.Command> sandbox, SandboxOutput output,
      long maxResponseBytes) {
    this.server = server;
    this.sandbox = sandbox;
    this.output = output;
    this.maxResponseBytes = maxResponseBytes;
  }

  /**
   * Binds 127.0.0.1 on {@code port} (0: a free one) and starts serving. Blocking (bind): not on an
   * actor.
   */
  static RuntimeEndpoint start(ActorRef<SandboxActor.Command> sandbox, SandboxOutput output, long maxResponseBytes,
      int memoryCapMb, ExecutorService handlers, int port) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
    RuntimeEndpoint endpoint = new RuntimeEndpoint(server, sandbox, output, maxResponseBytes);
    endpoint.memoryCapMb = memoryCapMb;
    server.setExecutor(handlers);
    server.createContext("/", exchange -> {
      try {
        endpoint.handle(exchange);
      } catch (IOException | RuntimeException e) {
        exchange.close();  // the runtime went away mid-request
      }
    });
    server.start();
    return endpoint;
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Hands an invocation to the runtime's (pending or next) {@code /next}. Non-blocking. */
  void deliver(Invocation invocation, long deadlineMs) {
    currentRequestId = invocation.requestId();
    deliveries.addLast(new Delivery(invocation, deadlineMs));
  }

  /** No result is accepted any more for the current invocation (it timed out, or the sandbox stops). */
  void abandonCurrent() {
    currentRequestId = null;
  }

  /** Stops serving; parked {@code /next} calls are answered with a 500 and return. */
  @Override
  public void close() {
    currentRequestId = null;
    deliveries.add(CLOSED);
    server.stop(0);
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String method = exchange.getRequestMethod();
    String rest = path.startsWith(PREFIX) ? path.substring(PREFIX.length()) : "";
    if (method.equals("GET") && rest.equals("invocation/next")) {
      next(exchange);
    } else if (method.equals("POST") && rest.equals("init/error")) {
      Body body = read(exchange);
      sandbox.tell(new SandboxActor.InitErrorPosted(errorType(exchange), body.bytes()));
      json(exchange, 202, "{\"status\":\"OK\"}");
    } else if (method.equals("POST") && rest.startsWith("invocation/")) {
      String[] parts = rest.split("/");
      if (parts.length == 3 && (parts[2].equals("response") || parts[2].equals("error"))) {
        result(exchange, parts[1], parts[2].equals("error"));
      } else {
        drain(exchange);
        error(exchange, 404, "NotFound", "Unknown path " + path);
      }
    } else {
      drain(exchange);
      error(exchange, 404, "NotFound", "Unknown path " + path);
    }
  }

  private void next(HttpExchange exchange) throws IOException {
    if (initialised.compareAndSet(false, true)) {
      sandbox.tell(SandboxActor.RuntimeReady.INSTANCE);
    }
    // One /next is served at a time: a runtime that gave up on a long poll (client timeout) and
    // asked again must get the invocation on its new request, not on the abandoned one.
    long ticket = nextTicket.incrementAndGet();
    Delivery d;
    while (true) {
      try {
        d = deliveries.poll(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        exchange.close();
        return;
      }
      if (nextTicket.get() != ticket) {
        if (d != null) {
          deliveries.addFirst(d);  // for the newer /next
        }
        exchange.close();
        return;
      }
      if (d != null) {
        break;
      }
    }
    if (d == CLOSED) {
      deliveries.addFirst(CLOSED);  // let any other parked /next see it too
      error(exchange, 500, "Sandbox.Stopped", "Runtime should exit promptly");
      return;
    }
    Invocation inv = d.invocation();
    var headers = exchange.getResponseHeaders();
    headers.add("Content-Type", "application/json");
    headers.add("Lambda-Runtime-Aws-Request-Id", inv.requestId());
    headers.add("Lambda-Runtime-Deadline-Ms", Long.toString(d.deadlineMs()));
    headers.add("Lambda-Runtime-Invoked-Function-Arn", inv.invokedFunctionArn());
    if (inv.traceId() != null) {
      headers.add("Lambda-Runtime-Trace-Id", inv.traceId());
    }
    if (inv.clientContext() != null) {
      headers.add("Lambda-Runtime-Client-Context", inv.clientContext());
    }
    ByteString payload = inv.payload();
    exchange.sendResponseHeaders(200, payload.size());
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(payload.toArrayUnsafe());  // the request's own bytes: no copy for a compact ByteString
    }
  }

  private void result(HttpExchange exchange, String requestId, boolean isError) throws IOException {
    Body body = read(exchange);
    String current = currentRequestId;
    if (current == null || !current.equals(requestId)) {
      error(exchange, 400, "InvalidRequestID", "Invalid request ID");
      return;
    }
    currentRequestId = null;  // exactly one result per invocation
    long end = System.nanoTime();
    String out = output.take();
    long memory = output.peakMemoryMb(memoryCapMb);
    if (body.tooLarge()) {
      sandbox.tell(new SandboxActor.ResultPosted(requestId, null, true, null, true, out, memory, end));
      error(exchange, 413, "RequestEntityTooLarge",
          "Exceeded maximum allowed payload size (" + maxResponseBytes + " bytes).");
      return;
    }
    sandbox.tell(new SandboxActor.ResultPosted(requestId, body.bytes(), isError, isError ? errorType(exchange) : null,
        false, out, memory, end));
    json(exchange, 202, "{\"status\":\"OK\"}");
  }

  private record Body(ByteString bytes, boolean tooLarge) {}

  /** Reads the request body, keeping at most {@code maxResponseBytes}; the rest is drained. */
  private Body read(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      String length = exchange.getRequestHeaders().getFirst("Content-Length");
      if (length != null) {
        long declared = Long.parseLong(length.trim());
        if (declared > maxResponseBytes) {
          in.transferTo(OutputStream.nullOutputStream());
          return new Body(ByteString.emptyByteString(), true);
        }
        // Known size (the usual case): read straight into the array the reply will carry.
        return new Body(ByteString.fromArrayUnsafe(in.readNBytes((int) declared)), false);
      }
      ByteArrayOutputStream buffer = new ByteArrayOutputStream();
      byte[] chunk = new byte[64 * 1024];
      long total = 0;
      int n;
      while ((n = in.read(chunk)) > 0) {
        total += n;
        if (total <= maxResponseBytes) {
          buffer.write(chunk, 0, n);
        }
      }
      return total > maxResponseBytes ? new Body(ByteString.emptyByteString(), true)
          : new Body(ByteString.fromArrayUnsafe(buffer.toByteArray()), false);
    }
  }

  private static void drain(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      in.transferTo(OutputStream.nullOutputStream());
    }
  }

  private static String errorType(HttpExchange exchange) {
    return exchange.getRequestHeaders().getFirst("Lambda-Runtime-Function-Error-Type");
  }

  private static void error(HttpExchange exchange, int status, String type, String message) throws IOException {
    json(exchange, status, "{\"errorMessage\":" + Json.quote(message) + ",\"errorType\":" + Json.quote(type) + "}");
  }

  private static void json(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}
