package dev.lamina.actors.registry;

import dev.lamina.actors.CborSerializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A function alias: a name pointing at one version, optionally sending a share of the
 * invocations to one additional version.
 *
 * @param functionVersion a published version number or {@code $LATEST}
 * @param additionalVersionWeights version → share of invocations in [0, 1] (at most one entry)
 */
public record AliasConfig(String name, String functionVersion, String description,
    Map<String, Double> additionalVersionWeights, String revisionId) implements CborSerializable {

  public AliasConfig {
    additionalVersionWeights = additionalVersionWeights == null ? Map.of()
        : Collections.unmodifiableMap(new LinkedHashMap<>(additionalVersionWeights));
    description = description == null ? "" : description;
  }

  public AliasConfig withRevision(String revision) {
    return new AliasConfig(name, functionVersion, description, additionalVersionWeights, revision);
  }

  /** True when the alias routes to {@code version}, as its main or additional version. */
  public boolean references(String version) {
    return functionVersion.equals(version) || additionalVersionWeights.containsKey(version);
  }
}
