package dev.lamina.node.api;

import dev.lamina.actors.LambdaError;
import dev.lamina.actors.events.EventDispatch;
import dev.lamina.actors.function.Invocation;
import dev.lamina.actors.function.InvocationResult;
import dev.lamina.actors.queue.QueueActor;
import dev.lamina.actors.queue.QueueMessage;
import dev.lamina.actors.registry.EventInvokeConfig;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.registry.RegistryClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.util.ByteString;

/**
 * The node's side of asynchronous invocation ({@link EventDispatch}): an attempt of a queued event
 * runs through the same path as a synchronous invoke (cached resolution, the version's function
 * actor, its sandboxes), and records go to functions (as {@code Event} invocations) or to Lamina
 * queues.
 */
public final class AsyncInvoker implements EventDispatch {

  private static final String RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded";

  private final NodeSettings settings;
  private final RegistryClient registry;
  private final Supplier<InvokeService> invoker;
  private final Function<String, CompletionStage<Integer>> reservedConcurrency;
  private final ClusterSharding sharding;
  private final Clock clock;

  /**
   * {@code invoker} is asked lazily (the invoke service and this dispatcher are wired together at
   * start-up); {@code reservedConcurrency} tells a function's reserved concurrency (null: none).
   */
  public AsyncInvoker(ActorSystem<?> system, NodeSettings settings, RegistryClient registry,
      Supplier<InvokeService> invoker, Function<String, CompletionStage<Integer>> reservedConcurrency, Clock clock) {
    this.settings = settings;
    this.registry = registry;
    this.invoker = invoker;
    this.reservedConcurrency = reservedConcurrency;
    this.sharding = ClusterSharding.get(system);
    this.clock = clock;
  }

  @Override
  public CompletionStage<Attempt> run(String function, String qualifier, String requestId, ByteString payload,
      long acceptedAtMillis) {
    String recordArn = settings.functionArnPrefix() + function + ":" + (qualifier == null ? FunctionConfig.LATEST
        : qualifier);
    String invokedArn = settings.functionArnPrefix() + function + (qualifier == null ? "" : ":" + qualifier);
    CompletionStage<Attempt> attempt = registry.resolve(function, qualifier).thenCompose(resolved -> {
      EventInvokeConfig events = resolved.eventConfig();
      FunctionConfig config = resolved.pick();
      String dlq = config.deadLetterTargetArn();
      int maxAge = events == null ? EventInvokeConfig.DEFAULT_EVENT_AGE_SECONDS : events.eventAgeSeconds();
      if (clock.millis() - acceptedAtMillis > maxAge * 1000L) {
        return CompletableFuture.completedFuture(refusal(Kind.EXPIRED, events, dlq, recordArn, 400,
            "EventAgeExceeded", "The event is older than " + maxAge + " seconds"));
      }
      Invocation invocation = new Invocation(requestId, payload, invokedArn, null, null, false);
      return invoker.get().ask(config, invocation).thenCompose(result -> classify(function, result, events, dlq,
          recordArn));
    });
    return attempt.exceptionally(failure -> {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (cause instanceof LambdaError e && e.code() == LambdaError.Code.ResourceNotFoundException) {
        return refusal(Kind.GONE, null, null, recordArn, 404, e.code().name(), e.getMessage());
      }
      return refusal(Kind.SYSTEM_ERROR, null, null, recordArn, 500, "ServiceException", String.valueOf(cause));
    });
  }

  private CompletionStage<Attempt> classify(String function, InvocationResult result, EventInvokeConfig events,
      String dlq, String recordArn) {
    if (!result.refused()) {
      return CompletableFuture.completedFuture(new Attempt(result.functionError() ? Kind.FUNCTION_ERROR : Kind.SUCCESS,
          events, dlq, recordArn, result.executedVersion(), result.payload(),
          result.functionError() ? "Unhandled" : null, 200, null, null));
    }
    LambdaError.Code code = LambdaError.Code.valueOf(result.errorCode());
    if (code == LambdaError.Code.TooManyRequestsException) {
      Attempt throttled = refusal(Kind.THROTTLED, events, dlq, recordArn, 429, code.name(), result.errorMessage());
      if (!RESERVED.equals(result.errorReason())) {
        return CompletableFuture.completedFuture(throttled);
      }
      return reservedConcurrency.apply(function).handle((reserved, failure) ->
          reserved != null && reserved == 0
              ? refusal(Kind.RESERVED_ZERO, events, dlq, recordArn, 429, code.name(), result.errorMessage())
              : throttled);
    }
    if (code == LambdaError.Code.ResourceNotFoundException) {
      return CompletableFuture.completedFuture(refusal(Kind.GONE, events, dlq, recordArn, 404, code.name(),
          result.errorMessage()));
    }
    return CompletableFuture.completedFuture(refusal(Kind.SYSTEM_ERROR, events, dlq, recordArn, 500, code.name(),
        result.errorMessage()));
  }

  private static Attempt refusal(Kind kind, EventInvokeConfig events, String dlq, String recordArn, int status,
      String code, String message) {
    return new Attempt(kind, events, dlq, recordArn, null, null, null, status, code, message);
  }

  @Override
  public CompletionStage<Void> deliver(String destinationArn, ByteString body, List<Attribute> attributes,
      String sourceArn) {
    if (destinationArn.startsWith(settings.functionArnPrefix())) {
      FunctionName target = FunctionName.parse(destinationArn);
      // Looked up first: a record for a function that is gone must not vanish into a queue nobody runs.
      return registry.resolve(target.name(), target.qualifier())
          .thenCompose(resolved -> invoker.get().enqueue(target.name(), target.qualifier(), body.toArray(),
              UUID.randomUUID().toString()))
          .thenApply(id -> null);
    }
    if (destinationArn.startsWith(settings.queueArnPrefix())) {
      String queue = destinationArn.substring(settings.queueArnPrefix().length());
      List<QueueMessage.Attribute> messageAttributes = attributes.stream()
          .map(a -> new QueueMessage.Attribute(a.name(), a.dataType(), a.value())).toList();
      QueueActor.NewMessage message = new QueueActor.NewMessage("0", body.decodeString(StandardCharsets.UTF_8),
          messageAttributes, null, sourceArn);
      return sharding.entityRefFor(QueueActor.TYPE_KEY, queue)
          .<QueueActor.Reply>ask(replyTo -> new QueueActor.Send(List.of(message), replyTo), Duration.ofSeconds(10))
          .thenApply(reply -> {
            if (reply.errorCode() != null) {
              throw new IllegalStateException(destinationArn + ": " + reply.errorMessage());
            }
            if (!reply.failures().isEmpty()) {
              throw new IllegalStateException(destinationArn + ": " + reply.failures().get(0).message());
            }
            return null;
          });
    }
    return CompletableFuture.failedFuture(new IllegalArgumentException(
        "not a destination Lamina can deliver to: " + destinationArn));
  }
}
