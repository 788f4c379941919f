package dev.lamina.node.api;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Opaque pagination markers: the last name of the previous page, base64url-encoded. */
final class Markers {

  private Markers() {}

  static String encode(String lastName) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(lastName.getBytes(StandardCharsets.UTF_8));
  }

  static String decode(String marker) {
    try {
      return new String(Base64.getUrlDecoder().decode(marker), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw dev.lamina.actors.LambdaError.invalid("Invalid Marker: " + marker);
    }
  }
}
