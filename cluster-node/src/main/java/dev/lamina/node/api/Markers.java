package dev.lamina.node.api;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Pagination of the list operations: page sizes with Lambda's validation, and opaque markers (the
 * last key of the previous page, base64url-encoded).
 */
final class Markers {

  private Markers() {}

  /**
   * The page size for {@code MaxItems} (null: the default), at most {@code pageSize}; values outside
   * 1–{@code max} are refused as Lambda refuses them.
   */
  static int pageLimit(Integer maxItems, int max, int pageSize) {
    if (maxItems != null && (maxItems < 1 || maxItems > max)) {
      throw new dev.lamina.actors.LambdaError(dev.lamina.actors.LambdaError.Code.ValidationException,
          "1 validation error detected: Value '" + maxItems + "' at 'maxItems' failed to satisfy constraint: Member "
              + "must have value " + (maxItems < 1 ? "greater than or equal to 1" : "less than or equal to " + max));
    }
    return Math.min(maxItems == null ? pageSize : maxItems, pageSize);
  }

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
