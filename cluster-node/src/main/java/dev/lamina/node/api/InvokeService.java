package dev.lamina.node.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.events.EventQueue;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.function.Invocation;
import dev.lamina.actors.function.InvocationResult;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.registry.RegistryClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.util.ByteString;

/**
 * Invoke (§2 of the contract): validates the request, resolves the qualifier to a version
 * (cached: no registry round trip on the warm path; an alias picks one of its versions by weight)
 * and asks that version's {@link FunctionActor}, whose sandbox answers the caller directly. A
 * missing function is reported with its {@code $LATEST}-qualified ARN.
 *
 * <p>An {@code Event} invocation is handed to one partition of the function's {@link EventQueue}
 * instead (round robin) and accepted once it is in the journal; the result then has no payload.
 */
public final class InvokeService {

  /** What the caller asked for besides the payload. */
  public record Options(String invocationType, boolean tailLog, String clientContextBase64, String traceId) {
    public static Options requestResponse() {
      return new Options("RequestResponse", false, null, null);
    }
  }

  private static final ByteString EMPTY_EVENT = ByteString.fromString("{}");
  /**
   * Checks Invoke payloads, which reach the function as they are. Jackson's default limits, set
   * explicitly because they are part of what a caller sees: 1000 levels of nesting (each level
   * costs the parser memory; runtimes' JSON decoders stop near there too), numbers of 1000
   * digits, names of 50,000 characters, strings of 20 M (more than a payload holds).
   */
  private static final JsonFactory JSON = JsonFactory.builder()
      .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
          .maxNestingDepth(1000)
          .maxNumberLength(1000)
          .maxNameLength(50_000)
          .maxStringLength(20_000_000)
          .build())
      .build();
  private static final int MAX_CLIENT_CONTEXT = 3583;

  private final NodeSettings settings;
  private final RegistryClient registry;
  private final ClusterSharding sharding;
  private final Duration initTimeout;
  private final int partitions;
  private static final int ENQUEUE_TRIES = 3;
  private final Duration enqueueTimeout;
  private final java.util.concurrent.atomic.AtomicInteger nextPartition = new java.util.concurrent.atomic.AtomicInteger();

  public InvokeService(ActorSystem<?> system, NodeSettings settings, RegistryClient registry, Duration initTimeout,
      int partitions) {
    this.settings = settings;
    this.registry = registry;
    this.sharding = ClusterSharding.get(system);
    this.initTimeout = initTimeout;
    this.partitions = partitions;
    this.enqueueTimeout = Duration.ofSeconds(10);
  }

  /**
   * Invokes {@code rawName}. A DryRun completes with a null result once the function is known to
   * exist. Request errors are thrown as {@link LambdaError} (possibly inside the stage).
   */
  public CompletionStage<InvocationResult> invoke(String rawName, String qualifierParam, ByteString payload,
      Options options) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = fn.qualifierWith(qualifierParam);
    String type = options.invocationType() == null ? "RequestResponse" : options.invocationType();
    if (!type.equals("RequestResponse") && !type.equals("DryRun") && !type.equals("Event")) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + type
          + "' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: "
          + "[Event, RequestResponse, DryRun]");
    }
    if (type.equals("Event") && payload.size() > settings.maxAsyncPayloadBytes()) {
      throw new LambdaError(LambdaError.Code.RequestEntityTooLargeException, payload.size()
          + " byte payload is too large for the Event invocation type (limit " + settings.maxAsyncPayloadBytes()
          + " bytes)");
    }
    if (payload.size() > settings.maxSyncPayloadBytes()) {
      throw new LambdaError(LambdaError.Code.RequestEntityTooLargeException,
          "Request must be smaller than " + settings.maxSyncPayloadBytes() + " bytes for the InvokeFunction operation");
    }
    ByteString event = payload.isEmpty() ? EMPTY_EVENT : payload;
    checkJson(event);
    String clientContext = decodeClientContext(options.clientContextBase64());
    return registry.resolve(fn.name(), qualifier).thenCompose(resolved -> {
      if (type.equals("DryRun")) {
        return CompletableFuture.completedFuture(null);
      }
      if (type.equals("Event")) {
        String requestId = UUID.randomUUID().toString();
        return enqueue(fn.name(), qualifier, event.toArray(), requestId)
            .thenApply(id -> InvocationResult.ran(id, null, false, null, null));
      }
      String requestId = UUID.randomUUID().toString();
      // Through an alias the runtime sees the alias ARN; the version that runs is chosen here.
      String invokedArn = settings.functionArnPrefix() + fn.name() + (qualifier == null ? "" : ":" + qualifier);
      Invocation invocation = new Invocation(requestId, event, invokedArn, clientContext, options.traceId(),
          options.tailLog());
      return ask(resolved.pick(), invocation);
    });
  }

  /**
   * Puts an event into one partition of the function's queue; completes with its request id once
   * it is durable. The function is not looked up here. A partition that does not answer within
   * 10 s (its node was lost and its shard has not moved yet) is given up for the next one, three
   * tries in all: the partitions are interchangeable. Should the first one write it after all, the
   * event runs twice under the same request id (delivery is at least once).
   */
  public CompletionStage<String> enqueue(String function, String qualifier, byte[] payload, String requestId) {
    return enqueue(function, qualifier, payload, requestId, ENQUEUE_TRIES);
  }

  private CompletionStage<String> enqueue(String function, String qualifier, byte[] payload, String requestId,
      int triesLeft) {
    int partition = Math.floorMod(nextPartition.getAndIncrement(), partitions);
    return sharding.entityRefFor(EventQueue.TYPE_KEY, EventQueue.entityId(function, partition))
        .<EventQueue.Accepted>ask(replyTo -> new EventQueue.Enqueue(requestId, qualifier, payload, replyTo),
            enqueueTimeout)
        .thenApply(EventQueue.Accepted::requestId)
        .exceptionallyCompose(failure -> {
          Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
          return cause instanceof java.util.concurrent.TimeoutException && triesLeft > 1
              ? enqueue(function, qualifier, payload, requestId, triesLeft - 1)
              : CompletableFuture.failedFuture(failure);
        });
  }

  /** Runs {@code invocation} on {@code config}'s version, as a synchronous invoke does. */
  public CompletionStage<InvocationResult> ask(FunctionConfig config, Invocation invocation) {
    Duration timeout = Duration.ofSeconds(config.timeoutSeconds()).plus(initTimeout).plusSeconds(30);
    return sharding.entityRefFor(FunctionActor.TYPE_KEY, FunctionActor.entityId(config.name(), config.version()))
        .<InvocationResult>ask(replyTo -> new FunctionActor.Invoke(config, invocation, replyTo), timeout);
  }

  /** The payload must be one JSON value; parsed as a token stream, nothing is built. */
  private static void checkJson(ByteString payload) {
    try (JsonParser parser = JSON.createParser(payload.toArrayUnsafe())) {
      if (parser.nextToken() == null) {
        throw new JsonProcessingException("No content to map due to end-of-input") {};
      }
      parser.skipChildren();
      if (parser.nextToken() != null) {
        throw new JsonProcessingException("Unexpected trailing content after the JSON value") {};
      }
    } catch (IOException e) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Could not parse request body into json: Could not parse payload into json: " + FunctionJson.parseProblem(e));
    }
  }

  private static String decodeClientContext(String base64) {
    if (base64 == null || base64.isEmpty()) {
      return null;
    }
    if (base64.length() > MAX_CLIENT_CONTEXT) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value at "
          + "'clientContext' failed to satisfy constraint: Member must have length less than or equal to 3583");
    }
    try {
      return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Client context must be a valid Base64-encoded JSON object.");
    }
  }
}
