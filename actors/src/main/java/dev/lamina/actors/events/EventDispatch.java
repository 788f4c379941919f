package dev.lamina.actors.events;

import dev.lamina.actors.registry.EventInvokeConfig;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.util.ByteString;

/**
 * What an {@link EventQueue} needs from the node: running one attempt of an event through the
 * synchronous invoke path, and delivering records to destinations (a function's event queue or a
 * Lamina queue). Implemented by the node, which owns the registry cache and the invoke path.
 */
public interface EventDispatch {

  /** How an attempt ended, as far as retries are concerned. */
  enum Kind {
    /** The function ran and returned normally. */
    SUCCESS,
    /** The function ran and failed (error, timeout, crash): retried {@code MaximumRetryAttempts} times. */
    FUNCTION_ERROR,
    /** Throttled (429): retried with backoff until the event is too old. */
    THROTTLED,
    /** The platform failed (5xx, no answer in time): retried like a throttle. */
    SYSTEM_ERROR,
    /** The function's reserved concurrency is 0: no attempt, straight to failure handling. */
    RESERVED_ZERO,
    /** The function (or the qualifier) no longer exists: the event is dropped. */
    GONE,
    /** Older than {@code MaximumEventAgeInSeconds} before it could run. */
    EXPIRED
  }

  /**
   * One attempt. {@code config} is the qualifier's event invoke config (null: defaults),
   * {@code deadLetterArn} the version's DLQ (or null), {@code functionArn} the ARN records name.
   * For a function that ran, {@code response} is its payload and {@code functionError} its
   * {@code X-Amz-Function-Error}; for a refusal, {@code errorCode}/{@code errorMessage}.
   */
  record Attempt(Kind kind, EventInvokeConfig config, String deadLetterArn, String functionArn,
      String executedVersion, ByteString response, String functionError, int statusCode, String errorCode,
      String errorMessage) {}

  /**
   * Runs the event once, unless it is older than its qualifier's maximum age (then
   * {@link Kind#EXPIRED}). Never completes exceptionally: failures are attempts of kind
   * {@link Kind#SYSTEM_ERROR}.
   */
  CompletionStage<Attempt> run(String function, String qualifier, String requestId, ByteString payload,
      long acceptedAtMillis);

  /** A message attribute of a DLQ message (SQS shape: String or Number). */
  record Attribute(String name, String dataType, String value) {}

  /**
   * Delivers {@code body} to the destination ARN: a function (an {@code Event} invocation of it) or a
   * Lamina queue (a message with {@code attributes}; {@code sourceArn} is where a redrive without a
   * destination sends it back to). Completes exceptionally when the destination does not exist or
   * did not accept it.
   */
  CompletionStage<Void> deliver(String destinationArn, ByteString body, List<Attribute> attributes, String sourceArn);
}
