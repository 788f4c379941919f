package dev.lamina.actors.events;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.lamina.actors.events.EventDispatch.Attempt;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * The records an asynchronous invocation leaves behind: the invocation record sent to on-success
 * and on-failure destinations (contract §1.5) and the attributes of a DLQ message (the DLQ
 * message body is the original event).
 */
public final class DestinationRecord {

  private static final JsonFactory JSON = new JsonFactory();
  private static final int DLQ_MESSAGE_LIMIT = 1024;

  private DestinationRecord() {}

  /**
   * <pre>{"version":"1.0","timestamp":…,"requestContext":{requestId, functionArn, condition,
   * approximateInvokeCount},"requestPayload":…,"responseContext":{statusCode, executedVersion,
   * functionError},"responsePayload":…}</pre>
   * The payloads are embedded as JSON when they are JSON (events always are), else as strings.
   * Without a run (throttled, expired, reserved concurrency 0) there are no response members.
   */
  public static ByteString of(String requestId, Attempt a, String condition, int invokeCount, byte[] request,
      Instant now) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + request.length
        + (a.response() == null ? 0 : a.response().size()));
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("version", "1.0");
      g.writeStringField("timestamp", now.truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString());
      g.writeObjectFieldStart("requestContext");
      g.writeStringField("requestId", requestId);
      g.writeStringField("functionArn", a.functionArn());
      g.writeStringField("condition", condition);
      g.writeNumberField("approximateInvokeCount", invokeCount);
      g.writeEndObject();
      g.writeFieldName("requestPayload");
      writePayload(g, request);
      if (a.response() != null) {
        g.writeObjectFieldStart("responseContext");
        g.writeNumberField("statusCode", 200);
        g.writeStringField("executedVersion", a.executedVersion());
        if (a.functionError() != null) {
          g.writeStringField("functionError", a.functionError());
        }
        g.writeEndObject();
        g.writeFieldName("responsePayload");
        writePayload(g, a.response().toArrayUnsafe());
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ByteString.fromArrayUnsafe(out.toByteArray());
  }

  /** {@code RequestID} (String), {@code ErrorCode} (Number: the HTTP status), {@code ErrorMessage} (first 1 KB). */
  public static List<EventDispatch.Attribute> dlqAttributes(String requestId, Attempt a) {
    List<EventDispatch.Attribute> attributes = new ArrayList<>();
    attributes.add(new EventDispatch.Attribute("RequestID", "String", requestId));
    attributes.add(new EventDispatch.Attribute("ErrorCode", "Number",
        Integer.toString(a.response() != null ? 200 : a.statusCode())));
    String message = a.response() != null ? errorMessage(a.response()) : a.errorMessage();
    if (message != null && !message.isEmpty()) {
      byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
      if (bytes.length > DLQ_MESSAGE_LIMIT) {
        int end = DLQ_MESSAGE_LIMIT;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
          end--;  // never cut a character in two
        }
        message = new String(bytes, 0, end, StandardCharsets.UTF_8);
      }
      attributes.add(new EventDispatch.Attribute("ErrorMessage", "String", message));
    }
    return attributes;
  }

  /** The {@code errorMessage} of a function's error document, or null. */
  static String errorMessage(ByteString response) {
    try (JsonParser p = JSON.createParser(response.toArrayUnsafe())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals("errorMessage") && value == JsonToken.VALUE_STRING) {
          return p.getText();
        }
        p.skipChildren();
      }
      return null;
    } catch (IOException e) {
      return null;
    }
  }

  private static void writePayload(JsonGenerator g, byte[] payload) throws IOException {
    if (payload.length > 0 && isJson(payload)) {
      g.writeRawValue(new String(payload, StandardCharsets.UTF_8));
    } else {
      g.writeString(new String(payload, StandardCharsets.UTF_8));
    }
  }

  private static boolean isJson(byte[] payload) {
    try (JsonParser p = JSON.createParser(payload)) {
      if (p.nextToken() == null) {
        return false;
      }
      p.skipChildren();
      return p.nextToken() == null;
    } catch (IOException e) {
      return false;
    }
  }
}
