package dev.lamina.node.api;

import dev.lamina.actors.LambdaError;
import java.util.ArrayList;
import java.util.List;

/**
 * The constraint failures found in one request, reported together as AWS does:
 * {@code 1 validation error detected: …} or {@code 2 validation errors detected: …; …}.
 */
final class Violations {

  private final List<String> found = new ArrayList<>();

  void add(String violation) {
    found.add(violation);
  }

  /** Throws the ValidationException listing every violation, if there is any. */
  void throwIfAny() {
    if (found.isEmpty()) {
      return;
    }
    String head = found.size() == 1 ? "1 validation error detected: " : found.size() + " validation errors detected: ";
    throw new LambdaError(LambdaError.Code.ValidationException, head + String.join("; ", found));
  }
}
