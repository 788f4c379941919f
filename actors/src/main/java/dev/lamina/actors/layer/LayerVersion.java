package dev.lamina.actors.layer;

import dev.lamina.actors.CborSerializable;
import java.util.List;

/**
 * One published version of a layer. Immutable.
 *
 * @param createdDate Lambda's timestamp string, e.g. {@code 2026-11-27T03:10:57.123+0000}
 * @param compatibleRuntimes null when not given
 * @param compatibleArchitectures null when not given
 * @param codeSha256Hex SHA-256 of the zip, hex
 * @param unzippedSize bytes of content in the zip
 */
public record LayerVersion(String layerName, int version, String description, String createdDate,
    List<String> compatibleRuntimes, List<String> compatibleArchitectures, String licenseInfo,
    String codeSha256Hex, long codeSize, long unzippedSize) implements CborSerializable {

  public LayerVersion {
    // Null (not given) and empty differ: Lambda shows the lists only when they were given.
    compatibleRuntimes = compatibleRuntimes == null ? null : List.copyOf(compatibleRuntimes);
    compatibleArchitectures = compatibleArchitectures == null ? null : List.copyOf(compatibleArchitectures);
    description = description == null ? "" : description;
  }

  LayerVersion numbered(int number, String created) {
    return new LayerVersion(layerName, number, description, created, compatibleRuntimes, compatibleArchitectures,
        licenseInfo, codeSha256Hex, codeSize, unzippedSize);
  }

  /** True when the filters (null = any) of ListLayers / ListLayerVersions admit this version. */
  public boolean matches(String runtime, String architecture) {
    return (runtime == null || (compatibleRuntimes != null && compatibleRuntimes.contains(runtime)))
        && (architecture == null || (compatibleArchitectures != null && compatibleArchitectures.contains(architecture)));
  }
}
