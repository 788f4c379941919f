package dev.lamina.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.registry.AliasConfig;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Turns CreateAlias / UpdateAlias bodies into alias values, with the constraint checks Lambda
 * makes before looking at the function (the rules that need its versions are the registry's).
 */
final class AliasRequests {

  /** UpdateAlias members; null keeps the current value, {@code weights} empty removes routing. */
  record Update(String functionVersion, String description, Map<String, Double> weights, String revisionId) {}

  private static final String NAME_PATTERN = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";
  private static final Pattern NAME = Pattern.compile(NAME_PATTERN);
  private static final Pattern VERSION = Pattern.compile("(\\$LATEST|[0-9]+)");
  private static final Pattern WEIGHT_KEY = Pattern.compile("[0-9]+");

  private AliasRequests() {}

  static AliasConfig create(JsonNode body) {
    Violations violations = new Violations();
    String name = FunctionRequests.text(body, "Name");
    String version = FunctionRequests.text(body, "FunctionVersion");
    if (name == null) {
      violations.add("Value null at 'name' failed to satisfy constraint: Member must not be null");
    } else {
      nameViolation(name, violations);
    }
    if (version == null) {
      violations.add("Value null at 'functionVersion' failed to satisfy constraint: Member must not be null");
    } else {
      versionViolation(version, violations);
    }
    String description = description(body, violations);
    Map<String, Double> weights = weights(body, violations);
    violations.throwIfAny();
    checkCount(weights);
    return new AliasConfig(name, version, description, weights, null);
  }

  static Update update(JsonNode body) {
    Violations violations = new Violations();
    String version = FunctionRequests.text(body, "FunctionVersion");
    if (version != null) {
      versionViolation(version, violations);
    }
    String description = description(body, violations);
    Map<String, Double> weights = weights(body, violations);
    violations.throwIfAny();
    checkCount(weights);
    return new Update(version, description, weights, FunctionRequests.text(body, "RevisionId"));
  }

  /** An alias name from a path: the same constraint as in a body. */
  static void checkName(String name) {
    Violations violations = new Violations();
    nameViolation(name, violations);
    violations.throwIfAny();
  }

  static void checkFunctionVersion(String version) {
    Violations violations = new Violations();
    versionViolation(version, violations);
    violations.throwIfAny();
  }

  private static void nameViolation(String name, Violations violations) {
    if (name.isEmpty() || name.length() > 128) {
      violations.add("Value '" + name + "' at 'name' failed to satisfy constraint: Member must have length "
          + (name.isEmpty() ? "greater than or equal to 1" : "less than or equal to 128"));
    } else if (!NAME.matcher(name).matches()) {
      violations.add("Value '" + name + "' at 'name' failed to satisfy constraint: Member must satisfy regular "
          + "expression pattern: " + NAME_PATTERN);
    }
  }

  private static void versionViolation(String version, Violations violations) {
    if (version.isEmpty() || version.length() > 1024) {
      violations.add("Value '" + version + "' at 'functionVersion' failed to satisfy constraint: Member must have "
          + "length " + (version.isEmpty() ? "greater than or equal to 1" : "less than or equal to 1024"));
    } else if (!VERSION.matcher(version).matches()) {
      violations.add("Value '" + version + "' at 'functionVersion' failed to satisfy constraint: Member must "
          + "satisfy regular expression pattern: (\\$LATEST|[0-9]+)");
    }
  }

  private static String description(JsonNode body, Violations violations) {
    String description = FunctionRequests.text(body, "Description");
    if (description != null && description.length() > 256) {
      violations.add("Value '" + description + "' at 'description' failed to satisfy constraint: Member must have "
          + "length less than or equal to 256");
    }
    return description;
  }

  /**
   * {@code RoutingConfig.AdditionalVersionWeights}, or null when {@code RoutingConfig} is absent;
   * empty when it is given without weights.
   */
  private static Map<String, Double> weights(JsonNode body, Violations violations) {
    JsonNode routing = body.get("RoutingConfig");
    if (routing == null || routing.isNull()) {
      return null;
    }
    if (!routing.isObject()) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Could not parse request body into json: RoutingConfig must be an object");
    }
    JsonNode weights = routing.get("AdditionalVersionWeights");
    Map<String, Double> map = new LinkedHashMap<>();
    if (weights == null || weights.isNull()) {
      return map;
    }
    if (!weights.isObject()) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Could not parse request body into json: AdditionalVersionWeights must be an object");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = weights.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isNumber()) {
        throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
            "Could not parse request body into json: the weight of version " + e.getKey() + " must be a number");
      }
      map.put(e.getKey(), e.getValue().asDouble());
    }
    String shown = map.toString();   // Lambda prints the map as {2=0.5}
    if (!map.keySet().stream().allMatch(k -> !k.isEmpty() && k.length() <= 1024 && WEIGHT_KEY.matcher(k).matches())) {
      violations.add("Value '" + shown + "' at 'routingConfig.additionalVersionWeights' failed to satisfy "
          + "constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
          + "Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: "
          + "[0-9]+, Member must not be null]");
    } else if (!map.values().stream().allMatch(w -> w >= 0.0 && w <= 1.0)) {
      violations.add("Value '" + shown + "' at 'routingConfig.additionalVersionWeights' failed to satisfy "
          + "constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
          + "Member must have value greater than or equal to 0.0, Member must not be null]");
    }
    return map;
  }

  private static void checkCount(Map<String, Double> weights) {
    if (weights != null && weights.size() > 1) {
      throw LambdaError.invalid("Number of items in AdditionalVersionWeights cannot be greater than 1");
    }
  }
}
