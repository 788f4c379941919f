package dev.lamina.actors.sandbox;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/** JSON string quoting for the few documents the platform writes itself (error payloads). */
public final class Json {

  private Json() {}

  public static String quote(String s) {
    return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s == null ? "" : s)) + "\"";
  }

  /** {@code {"errorType":…,"errorMessage":…}}, the shape of platform-made function errors. */
  public static String error(String type, String message) {
    return "{\"errorType\":" + quote(type) + ",\"errorMessage\":" + quote(message) + "}";
  }
}
