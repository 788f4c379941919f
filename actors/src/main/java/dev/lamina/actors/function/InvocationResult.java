package dev.lamina.actors.function;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.LambdaError;
import org.apache.pekko.util.ByteString;

/**
 * The outcome of one invocation, as the caller will see it.
 *
 * <p>Either the function ran ({@code payload}, with {@code functionError} set when the payload
 * is an error document, which Lambda still answers with HTTP 200), or the platform refused or
 * failed the invocation ({@code errorCode} names a {@link LambdaError.Code}).
 *
 * @param logResult base64 of the last 4 KB of the invocation's log, when the caller asked for it
 */
public record InvocationResult(
    String requestId,
    ByteString payload,
    boolean functionError,
    String executedVersion,
    String logResult,
    String errorCode,
    String errorMessage,
    String errorReason)
    implements CborSerializable {

  public static InvocationResult ran(String requestId, ByteString payload, boolean functionError,
      String executedVersion, String logResult) {
    return new InvocationResult(requestId, payload, functionError, executedVersion, logResult, null, null, null);
  }

  public static InvocationResult refused(String requestId, LambdaError.Code code, String message, String reason) {
    return new InvocationResult(requestId, null, false, null, null, code.name(), message, reason);
  }

  public boolean refused() {
    return errorCode != null;
  }
}
