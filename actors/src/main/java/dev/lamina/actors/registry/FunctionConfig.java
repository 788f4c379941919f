package dev.lamina.actors.registry;

import dev.lamina.actors.CborSerializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The configuration of one function version as Lambda reports it. Immutable; every update
 * produces a new value with a new {@code revisionId}. A published version's configuration never
 * changes at all.
 *
 * @param version {@code $LATEST} or a published version number
 * @param timeoutSeconds 1–900
 * @param memorySizeMb 128–10240
 * @param ephemeralStorageMb 512–10240
 * @param codeSha256Hex SHA-256 of the zip, hex (Lambda shows it base64)
 * @param codeSize zip size in bytes
 * @param codeUnzippedSize bytes of content in the zip (counted with the layers' against 250 MB)
 * @param lastModified Lambda's string form, e.g. {@code 2026-11-27T03:10:57.123+0000}
 * @param layers the layer versions extracted to {@code /opt}, in order (later ones win)
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
    long codeUnzippedSize,
    String lastModified,
    String revisionId,
    String architecture,
    String tracingMode,
    String deadLetterTargetArn,
    String logFormat,
    String logGroup,
    Map<String, String> tags,
    List<LayerRef> layers)
    implements CborSerializable {

  public static final String LATEST = "$LATEST";

  public FunctionConfig {
    // Insertion order is kept: users see their variables in the order they gave them.
    environment = environment == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(environment));
    tags = tags == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(tags));
    layers = layers == null ? List.of() : List.copyOf(layers);
  }

  /** The sandbox pool key: sandboxes of one revision never serve another. */
  public String sandboxKey() {
    return name + ":" + version + ":" + revisionId;
  }

  public boolean isLatest() {
    return LATEST.equals(version);
  }

  /** This configuration with other code. */
  public FunctionConfig withCode(String sha256Hex, long size, long unzippedSize) {
    return new FunctionConfig(name, version, runtime, role, handler, description, timeoutSeconds, memorySizeMb,
        ephemeralStorageMb, environment, sha256Hex, size, unzippedSize, lastModified, revisionId, architecture,
        tracingMode, deadLetterTargetArn, logFormat, logGroup, tags, layers);
  }

  /** This configuration with other layers. */
  public FunctionConfig withLayers(List<LayerRef> newLayers) {
    return new FunctionConfig(name, version, runtime, role, handler, description, timeoutSeconds, memorySizeMb,
        ephemeralStorageMb, environment, codeSha256Hex, codeSize, codeUnzippedSize, lastModified, revisionId,
        architecture, tracingMode, deadLetterTargetArn, logFormat, logGroup, tags, newLayers);
  }

  /** This configuration with a new modification time and revision. */
  public FunctionConfig stamped(String newLastModified, String newRevisionId) {
    return new FunctionConfig(name, version, runtime, role, handler, description, timeoutSeconds, memorySizeMb,
        ephemeralStorageMb, environment, codeSha256Hex, codeSize, codeUnzippedSize, newLastModified, newRevisionId,
        architecture, tracingMode, deadLetterTargetArn, logFormat, logGroup, tags, layers);
  }

  /** This configuration as published version {@code number}. */
  public FunctionConfig asVersion(String number, String newDescription) {
    return new FunctionConfig(name, number, runtime, role, handler, newDescription, timeoutSeconds, memorySizeMb,
        ephemeralStorageMb, environment, codeSha256Hex, codeSize, codeUnzippedSize, lastModified, revisionId,
        architecture, tracingMode, deadLetterTargetArn, logFormat, logGroup, tags, layers);
  }

  /**
   * True when publishing this configuration would give nothing {@code published} does not
   * already have: same code and same settings (names, versions, revisions and times aside).
   */
  public boolean sameContentAs(FunctionConfig published) {
    return Objects.equals(runtime, published.runtime) && Objects.equals(role, published.role)
        && Objects.equals(handler, published.handler) && Objects.equals(description, published.description)
        && timeoutSeconds == published.timeoutSeconds && memorySizeMb == published.memorySizeMb
        && ephemeralStorageMb == published.ephemeralStorageMb && environment.equals(published.environment)
        && Objects.equals(codeSha256Hex, published.codeSha256Hex) && Objects.equals(architecture, published.architecture)
        && Objects.equals(tracingMode, published.tracingMode)
        && Objects.equals(deadLetterTargetArn, published.deadLetterTargetArn)
        && Objects.equals(logFormat, published.logFormat) && Objects.equals(logGroup, published.logGroup)
        && layers.equals(published.layers);
  }

  /** Content bytes of the code and every layer. */
  public long totalUnzippedSize() {
    return codeUnzippedSize + layers.stream().mapToLong(LayerRef::unzippedSize).sum();
  }

  public static final List<String> SUPPORTED_RUNTIMES = List.of(
      "python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
      "nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x",
      "java8.al2", "java11", "java17", "java21", "java25",
      "provided", "provided.al2", "provided.al2023");
}
