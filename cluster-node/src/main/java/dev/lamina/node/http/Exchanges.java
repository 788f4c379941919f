package dev.lamina.node.http;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;

/**
 * The requests of one HTTP connection, answered one at a time by the handler, with a deadline on
 * the wait for the next request's head (method, target, headers).
 *
 * <p>Pekko HTTP has no "time to receive the request head" timeout: its idle-timeout is reset by
 * every byte, so a client trickling one header byte at a time (slowloris) holds a connection for
 * as long as it likes, and the idle-timeout must exceed the 900 s a synchronous invocation may
 * run silently anyway. This stage runs a timer whenever no request is in progress on the
 * connection (after it opened, after each response): when the next request's head has not
 * arrived whole when it fires, the connection is closed. That bounds slow headers and idle
 * keep-alive connections alike; it never interrupts a request in progress, whose body and
 * answer have their own limits ({@link HttpApi}'s body timeouts, request-timeout).
 *
 * <p>One request at a time per connection, as Pekko's {@code bind(handler)} does by default.
 */
final class Exchanges extends GraphStage<FlowShape<HttpRequest, HttpResponse>> {

  private static final String HEAD_TIMER = "request-head";

  private final Inlet<HttpRequest> in = Inlet.create("Exchanges.requests");
  private final Outlet<HttpResponse> out = Outlet.create("Exchanges.responses");
  private final FlowShape<HttpRequest, HttpResponse> shape = FlowShape.of(in, out);
  private final Function<HttpRequest, CompletionStage<HttpResponse>> handler;
  private final BiFunction<HttpRequest, Throwable, HttpResponse> onFailure;
  private final Duration headTimeout;

  /**
   * @param onFailure the answer when {@code handler} fails instead of answering (it should not)
   * @param headTimeout how long a connection may wait for the head of its next request
   */
  Exchanges(Function<HttpRequest, CompletionStage<HttpResponse>> handler,
      BiFunction<HttpRequest, Throwable, HttpResponse> onFailure, Duration headTimeout) {
    this.handler = handler;
    this.onFailure = onFailure;
    this.headTimeout = headTimeout;
  }

  @Override
  public FlowShape<HttpRequest, HttpResponse> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new TimerGraphStageLogic(shape) {
      private AsyncCallback<HttpResponse> answered;
      private HttpResponse pending;
      private boolean busy;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            cancelTimer(HEAD_TIMER);
            busy = true;
            HttpRequest request = grab(in);
            CompletionStage<HttpResponse> response;
            try {
              response = handler.apply(request);
            } catch (RuntimeException e) {
              answered.invoke(onFailure.apply(request, e));
              return;
            }
            response.whenComplete((r, failure) -> answered.invoke(r != null ? r : onFailure.apply(request, failure)));
          }

          @Override
          public void onUpstreamFinish() {
            if (!busy) {
              completeStage();   // the client is done; an answer in progress is still sent first
            }
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            if (pending != null) {
              HttpResponse r = pending;
              pending = null;
              respond(r);
            }
          }
        });
      }

      @Override
      public void preStart() {
        answered = createAsyncCallback(r -> {
          if (isAvailable(out)) {
            respond(r);
          } else {
            pending = r;
          }
        });
        awaitNext();
      }

      private void respond(HttpResponse response) {
        push(out, response);
        busy = false;
        awaitNext();
      }

      private void awaitNext() {
        if (isClosed(in)) {
          completeStage();
          return;
        }
        pull(in);
        scheduleOnce(HEAD_TIMER, headTimeout);
      }

      @Override
      public void onTimer(Object key) {
        completeStage();   // no request head in time: the connection closes
      }
    };
  }
}
