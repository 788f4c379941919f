package dev.lamina.actors.registry;

import dev.lamina.actors.CborSerializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The configuration of one function version as Lambda reports it. Immutable; every update
 * produces a new value with a new {@code revisionId}.
 *
 * @param timeoutSeconds 1–900
 * @param memorySizeMb 128–10240
 * @param ephemeralStorageMb 512–10240
 * @param codeSha256Hex SHA-256 of the zip, hex (Lambda shows it base64)
 * @param codeSize zip size in bytes
 * @param lastModified Lambda's string form, e.g. {@code 2026-11-27T03:10:57.123+0000}
 */
public record FunctionConfig(
    String name,
    String version,
    String runtime,
    String role,
    String handler,
    String description,
    int timeoutSeconds,
    int memorySizeMb,
    int ephemeralStorageMb,
    Map<String, String> environment,
    String codeSha256Hex,
    long codeSize,
    String lastModified,
    String revisionId,
    String architecture,
    String tracingMode,
    String deadLetterTargetArn,
    String logFormat,
    String logGroup,
    Map<String, String> tags)
    implements CborSerializable {

  public FunctionConfig {
    // Insertion order is kept: users see their variables in the order they gave them.
    environment = environment == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(environment));
    tags = tags == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(tags));
  }

  /** The sandbox pool key: sandboxes of one revision never serve another. */
  public String sandboxKey() {
    return name + ":" + version + ":" + revisionId;
  }

  public static final List<String> SUPPORTED_RUNTIMES = List.of(
      "python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
      "nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x",
      "java8.al2", "java11", "java17", "java21", "java25",
      "provided", "provided.al2", "provided.al2023");
}
