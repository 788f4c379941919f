package dev.lamina.actors.sandbox;

import com.typesafe.config.ConfigFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;

/**
 * The Lambda Runtime API (2018-06-01) of one sandbox, on its own loopback port. It only
 * translates HTTP into {@link SandboxActor} messages: {@code /next} is a long poll that the actor
 * completes when it has an invocation; posted results are read strictly (bounded by the response
 * limit) and handed over by reference.
 */
final class RuntimeApiServer {

  private static final String PREFIX = "/2018-06-01/runtime/";

  private RuntimeApiServer() {}

  static CompletionStage<ServerBinding> bind(ActorSystem<?> system, ActorRef<SandboxActor.Command> sandbox,
      long maxResponseBytes) {
    // A long poll must never time out, and a response may be as large as the response limit.
    ServerSettings settings = ServerSettings.create(ConfigFactory.parseString(
            "pekko.http.server.idle-timeout = infinite\n"
                + "pekko.http.server.request-timeout = infinite\n"
                + "pekko.http.server.parsing.max-content-length = " + (maxResponseBytes + 1024 * 1024) + "\n"
                + "pekko.http.server.remote-address-header = off\n"
                // Small request/response pairs on loopback: Nagle's algorithm would only add delay.
                + "pekko.http.server.socket-options.tcp-no-delay = on\n")
        .withFallback(system.settings().config()));
    Materializer mat = Materializer.matFromSystem(system);
    return Http.get(system).newServerAt("127.0.0.1", 0).withSettings(settings)
        .bind((org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>>)
            request -> handle(request, sandbox, maxResponseBytes, mat));
  }

  private static CompletionStage<HttpResponse> handle(HttpRequest request, ActorRef<SandboxActor.Command> sandbox,
      long maxResponseBytes, Materializer mat) {
    String path = request.getUri().path();
    if (!path.startsWith(PREFIX)) {
      request.discardEntityBytes(mat);
      return CompletableFuture.completedFuture(error(404, "NotFound", "Unknown path " + path));
    }
    String rest = path.substring(PREFIX.length());
    if (request.method() == HttpMethods.GET && rest.equals("invocation/next")) {
      request.discardEntityBytes(mat);
      CompletableFuture<HttpResponse> reply = new CompletableFuture<>();
      sandbox.tell(new SandboxActor.NextRequested(reply));
      return reply;
    }
    if (request.method() == HttpMethods.POST && rest.equals("init/error")) {
      String type = request.getHeader("Lambda-Runtime-Function-Error-Type").map(h -> h.value()).orElse(null);
      return strict(request, maxResponseBytes, mat).thenCompose(body -> {
        CompletableFuture<HttpResponse> reply = new CompletableFuture<>();
        sandbox.tell(new SandboxActor.InitErrorPosted(type, body, reply));
        return reply;
      });
    }
    if (request.method() == HttpMethods.POST && rest.startsWith("invocation/")) {
      String[] parts = rest.split("/");
      if (parts.length == 3 && (parts[2].equals("response") || parts[2].equals("error"))) {
        String requestId = parts[1];
        boolean isError = parts[2].equals("error");
        String type = request.getHeader("Lambda-Runtime-Function-Error-Type").map(h -> h.value()).orElse(null);
        return strict(request, maxResponseBytes, mat).handle((body, failure) -> {
          CompletableFuture<HttpResponse> reply = new CompletableFuture<>();
          if (failure != null) {
            sandbox.tell(new SandboxActor.ResponseTooLarge(requestId, reply));
          } else if (isError) {
            sandbox.tell(new SandboxActor.ErrorPosted(requestId, type, body, reply));
          } else {
            sandbox.tell(new SandboxActor.ResponsePosted(requestId, body, reply));
          }
          return reply;
        }).thenCompose(f -> f);
      }
    }
    request.discardEntityBytes(mat);
    return CompletableFuture.completedFuture(error(404, "NotFound", "Unknown path " + path));
  }

  private static CompletionStage<ByteString> strict(HttpRequest request, long maxBytes, Materializer mat) {
    if (request.entity().getContentLengthOption().orElse(0L) > maxBytes) {
      // Answer only after the body is drained: an early answer makes the server close the
      // connection, and the runtime would see a broken pipe instead of the 413.
      return request.discardEntityBytes(mat).completionStage()
          .thenCompose(done -> CompletableFuture.failedFuture(new IllegalStateException("too large")));
    }
    return request.entity().toStrict(TimeUnit.MINUTES.toMillis(1), maxBytes, mat).thenApply(e -> e.getData());
  }

  static HttpResponse accepted() {
    return HttpResponse.create().withStatus(StatusCodes.ACCEPTED)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "{\"status\":\"OK\"}"));
  }

  static HttpResponse error(int status, String type, String message) {
    String body = "{\"errorMessage\":" + Json.quote(message) + ",\"errorType\":" + Json.quote(type) + "}";
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body));
  }
}
