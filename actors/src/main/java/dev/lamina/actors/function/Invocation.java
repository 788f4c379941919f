package dev.lamina.actors.function;

import dev.lamina.actors.CborSerializable;
import org.apache.pekko.util.ByteString;

/**
 * One synchronous invocation on its way to a sandbox. The payload is passed by reference from the
 * HTTP request to the Runtime API response; nothing on the way copies it.
 *
 * @param clientContext the decoded client context JSON, or null
 * @param traceId the X-Ray trace header, or null
 * @param tailLog whether the caller asked for the last 4 KB of the log ({@code LogType: Tail})
 */
public record Invocation(
    String requestId,
    ByteString payload,
    String invokedFunctionArn,
    String clientContext,
    String traceId,
    boolean tailLog)
    implements CborSerializable {}
