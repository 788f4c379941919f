package dev.lamina.node.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.registry.FunctionConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns CreateFunction / UpdateFunctionConfiguration bodies into configurations, enforcing the
 * limits and constraints that Lambda enforces server-side, with Lambda's own messages. Smithy
 * constraint failures are collected and reported together, as AWS does
 * ({@code 2 validation errors detected: …; …}).
 */
final class FunctionRequests {

  private static final Pattern ROLE = Pattern.compile("arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
  private static final Pattern HANDLER = Pattern.compile("[^\\s]+");
  private static final Pattern ENV_KEY = Pattern.compile("[a-zA-Z]([a-zA-Z0-9_])+");
  private static final Set<String> DEPRECATED_RUNTIMES = Set.of(
      "python2.7", "python3.6", "python3.7", "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10",
      "nodejs10.x", "nodejs12.x", "nodejs14.x", "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",
      "dotnetcore3.1", "dotnet6", "dotnet5.0", "ruby2.5", "ruby2.7", "go1.x");
  private static final Set<String> LAMBDA_ONLY_RUNTIMES = Set.of(
      "dotnet8", "dotnet10", "ruby3.2", "ruby3.3", "ruby3.4");
  private static final Set<String> RESERVED_ENV = Set.of(
      "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR");

  private final NodeSettings settings;
  private final Violations violations = new Violations();

  private FunctionRequests(NodeSettings settings) {
    this.settings = settings;
  }

  /**
   * A validated CreateFunction: the configuration (without code, layers, revision and
   * timestamps), the zip bytes, the layer version ARNs given and whether to publish version 1.
   */
  record Create(FunctionConfig config, byte[] zip, List<String> layers, boolean publish) {}

  static Create create(NodeSettings settings, String name, JsonNode body) {
    return new FunctionRequests(settings).parseCreate(name, body);
  }

  /** UpdateFunctionConfiguration: {@code current} with the members present in {@code body}. */
  static FunctionConfig updateConfiguration(NodeSettings settings, FunctionConfig current, JsonNode body) {
    return new FunctionRequests(settings).parseUpdate(current, body);
  }

  /** The zip of an UpdateFunctionCode body. */
  static byte[] updateCode(NodeSettings settings, JsonNode body) {
    rejectUnsupported(body);
    byte[] zip = CodeUploads.zipFile(settings, body);
    if (zip == null) {
      throw LambdaError.invalid("Please provide a source for function code.");
    }
    return zip;
  }

  private Create parseCreate(String name, JsonNode body) {
    rejectUnsupported(body);
    if (body.hasNonNull("PackageType") && !"Zip".equals(body.get("PackageType").asText())) {
      throw LambdaError.invalid("Lamina runs Zip packages only; PackageType " + body.get("PackageType").asText()
          + " is not supported.");
    }
    String role = text(body, "Role");
    if (role == null) {
      violations.add("Value null at 'role' failed to satisfy constraint: Member must not be null");
    } else if (!ROLE.matcher(role).matches()) {
      violations.add("Value '" + role + "' at 'role' failed to satisfy constraint: Member must satisfy regular "
          + "expression pattern: " + ROLE.pattern());
    }
    if (!body.hasNonNull("Code")) {
      violations.add("Value null at 'code' failed to satisfy constraint: Member must not be null");
    }
    String runtime = text(body, "Runtime");
    String handler = text(body, "Handler");
    checkRuntime(runtime);
    checkHandler(handler);
    String description = text(body, "Description");
    checkDescription(description);
    int timeout = intMember(body, "Timeout", "timeout", 1, settings.maxTimeoutSeconds(), settings.defaultTimeoutSeconds());
    int memory = intMember(body, "MemorySize", "memorySize", settings.minMemoryMb(), settings.maxMemoryMb(),
        settings.defaultMemoryMb());
    int ephemeral = ephemeral(body, settings.defaultEphemeralMb());
    String architecture = architecture(body);
    String tracing = tracing(body, "PassThrough");
    violations.throwIfAny();
    if (runtime == null || handler == null) {
      throw LambdaError.invalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
    }
    Map<String, String> environment = environment(body, Map.of());
    List<String> layers = layers(body);
    byte[] zip = CodeUploads.zipFile(settings, body.get("Code"));
    if (zip == null) {
      throw LambdaError.invalid("Please provide a source for function code.");
    }
    String logGroup = logGroup(body, "/aws/lambda/" + name);
    FunctionConfig config = new FunctionConfig(name, FunctionConfig.LATEST, runtime, role, handler,
        description == null ? "" : description, timeout, memory, ephemeral, environment, null, zip.length, 0, null,
        null, architecture, tracing, deadLetter(body, null), logFormat(body, "Text"), logGroup, tags(body), List.of());
    return new Create(config, zip, layers == null ? List.of() : layers, body.path("Publish").asBoolean(false));
  }

  private FunctionConfig parseUpdate(FunctionConfig c, JsonNode body) {
    rejectUnsupported(body);
    String role = body.has("Role") ? text(body, "Role") : c.role();
    if (role != null && !ROLE.matcher(role).matches()) {
      violations.add("Value '" + role + "' at 'role' failed to satisfy constraint: Member must satisfy regular "
          + "expression pattern: " + ROLE.pattern());
    }
    String runtime = body.hasNonNull("Runtime") ? text(body, "Runtime") : c.runtime();
    if (body.hasNonNull("Runtime")) {
      checkRuntime(runtime);
    }
    String handler = body.hasNonNull("Handler") ? text(body, "Handler") : c.handler();
    checkHandler(handler);
    String description = body.hasNonNull("Description") ? text(body, "Description") : c.description();
    checkDescription(description);
    int timeout = intMember(body, "Timeout", "timeout", 1, settings.maxTimeoutSeconds(), c.timeoutSeconds());
    int memory = intMember(body, "MemorySize", "memorySize", settings.minMemoryMb(), settings.maxMemoryMb(),
        c.memorySizeMb());
    int ephemeral = ephemeral(body, c.ephemeralStorageMb());
    String tracing = tracing(body, c.tracingMode());
    violations.throwIfAny();
    return new FunctionConfig(c.name(), c.version(), runtime, role, handler, description, timeout, memory, ephemeral,
        environment(body, c.environment()), c.codeSha256Hex(), c.codeSize(), c.codeUnzippedSize(), c.lastModified(),
        c.revisionId(), c.architecture(), tracing, deadLetter(body, c.deadLetterTargetArn()),
        logFormat(body, c.logFormat()), logGroup(body, c.logGroup()), c.tags(), c.layers());
  }

  /**
   * The {@code Layers} member: the layer version ARNs in order, or null when absent (an update
   * then keeps the function's layers; an empty list removes them).
   */
  static List<String> layers(JsonNode body) {
    JsonNode layers = body.get("Layers");
    if (layers == null || layers.isNull()) {
      return null;
    }
    if (!layers.isArray()) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Could not parse request body into json: Layers must be a list of layer version ARNs");
    }
    List<String> arns = new ArrayList<>();
    layers.forEach(l -> arns.add(l.isNull() ? null : l.asText()));
    return arns;
  }

  /** Members Lamina cannot honour are refused rather than silently ignored. */
  private static void rejectUnsupported(JsonNode body) {
    if (body.hasNonNull("ImageUri")) {
      throw LambdaError.invalid("Lamina runs Zip packages only; ImageUri is not supported.");
    }
    JsonNode vpc = body.get("VpcConfig");
    if (vpc != null && vpc.path("SubnetIds").size() > 0) {
      throw LambdaError.invalid("VpcConfig is not supported by Lamina.");
    }
    if (body.path("FileSystemConfigs").size() > 0) {
      throw LambdaError.invalid("FileSystemConfigs are not supported by Lamina.");
    }
  }

  private void checkRuntime(String runtime) {
    if (runtime == null) {
      return;
    }
    if (DEPRECATED_RUNTIMES.contains(runtime)) {
      throw LambdaError.invalid("The runtime parameter of " + runtime + " is no longer supported for creating or "
          + "updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating "
          + "functions.");
    }
    if (LAMBDA_ONLY_RUNTIMES.contains(runtime)) {
      throw LambdaError.invalid("The runtime " + runtime + " is not available on Lamina. Supported runtimes: "
          + FunctionConfig.SUPPORTED_RUNTIMES);
    }
    if (!FunctionConfig.SUPPORTED_RUNTIMES.contains(runtime)) {
      violations.add("Value '" + runtime + "' at 'runtime' failed to satisfy constraint: Member must satisfy enum "
          + "value set: " + FunctionConfig.SUPPORTED_RUNTIMES + " or be a valid ARN");
    }
  }

  private void checkHandler(String handler) {
    if (handler == null) {
      return;
    }
    if (handler.length() > 128) {
      violations.add("Value '" + handler + "' at 'handler' failed to satisfy constraint: Member must have length "
          + "less than or equal to 128");
    } else if (!HANDLER.matcher(handler).matches()) {
      violations.add("Value '" + handler + "' at 'handler' failed to satisfy constraint: Member must satisfy "
          + "regular expression pattern: [^\\s]+");
    }
  }

  private void checkDescription(String description) {
    if (description != null && description.length() > 256) {
      violations.add("Value '" + description + "' at 'description' failed to satisfy constraint: Member must have "
          + "length less than or equal to 256");
    }
  }

  private int intMember(JsonNode body, String member, String path, int min, int max, int dflt) {
    JsonNode n = body.get(member);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.canConvertToInt() || !n.isIntegralNumber()) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Could not parse request body into json: Could not parse payload into json: " + member + " must be an integer");
    }
    int v = n.intValue();
    if (v < min) {
      violations.add("Value '" + v + "' at '" + path + "' failed to satisfy constraint: Member must have value "
          + "greater than or equal to " + min);
    } else if (v > max) {
      violations.add("Value '" + v + "' at '" + path + "' failed to satisfy constraint: Member must have value "
          + "less than or equal to " + max);
    }
    return v;
  }

  private int ephemeral(JsonNode body, int dflt) {
    JsonNode e = body.get("EphemeralStorage");
    if (e == null || e.isNull()) {
      return dflt;
    }
    if (!e.hasNonNull("Size")) {
      violations.add("Value null at 'ephemeralStorage.size' failed to satisfy constraint: Member must not be null");
      return dflt;
    }
    return intMember(e, "Size", "ephemeralStorage.size", settings.minEphemeralMb(), settings.maxEphemeralMb(), dflt);
  }

  private String architecture(JsonNode body) {
    JsonNode a = body.get("Architectures");
    if (a == null || a.isNull() || a.size() == 0) {
      return "x86_64";
    }
    if (a.size() > 1) {
      violations.add("Value '" + a + "' at 'architectures' failed to satisfy constraint: Member must have length "
          + "less than or equal to 1");
      return "x86_64";
    }
    String arch = a.get(0).asText();
    if (!arch.equals("x86_64") && !arch.equals("arm64")) {
      violations.add("Value '[" + arch + "]' at 'architectures' failed to satisfy constraint: Member must satisfy "
          + "constraint: [Member must satisfy enum value set: [x86_64, arm64]]");
    } else if (arch.equals("arm64")) {
      throw LambdaError.invalid("Lamina runs on x86_64 hosts; the arm64 architecture is not available.");
    }
    return arch;
  }

  private String tracing(JsonNode body, String dflt) {
    String mode = body.path("TracingConfig").path("Mode").asText(null);
    if (mode == null) {
      return dflt;
    }
    if (!mode.equals("Active") && !mode.equals("PassThrough")) {
      violations.add("Value '" + mode + "' at 'tracingConfig.mode' failed to satisfy constraint: Member must "
          + "satisfy enum value set: [Active, PassThrough]");
    }
    return mode;
  }

  private Map<String, String> environment(JsonNode body, Map<String, String> dflt) {
    JsonNode env = body.get("Environment");
    if (env == null || env.isNull()) {
      return dflt;
    }
    JsonNode vars = env.get("Variables");
    if (vars == null || vars.isNull()) {
      return Map.of();
    }
    if (!vars.isObject()) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Could not parse request body into json: Environment.Variables must be an object");
    }
    Map<String, String> map = new LinkedHashMap<>();
    List<String> reserved = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = vars.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!ENV_KEY.matcher(e.getKey()).matches()) {
        throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value at "
            + "'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must "
            + "satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]");
      }
      if (RESERVED_ENV.contains(e.getKey())) {
        reserved.add(e.getKey());
      }
      String value = e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString();
      if (value.indexOf('\0') >= 0) {
        // No process environment can carry a NUL: refuse it here, not at every cold start.
        throw LambdaError.invalid("The value of environment variable " + e.getKey() + " contains a NUL character.");
      }
      map.put(e.getKey(), value);
    }
    if (!reserved.isEmpty()) {
      throw LambdaError.invalid("Lambda was unable to configure your environment variables because the environment "
          + "variables you have provided contains reserved keys that are currently not supported for modification. "
          + "Reserved keys used in this request: " + String.join(", ", reserved));
    }
    String measured;
    try {
      measured = FunctionJson.MAPPER.writeValueAsString(map);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    if (measured.getBytes(StandardCharsets.UTF_8).length > settings.maxEnvironmentBytes()) {
      throw LambdaError.invalid("Lambda was unable to configure your environment variables because the environment "
          + "variables you have provided exceeded the 4KB limit. String measured: " + measured);
    }
    return map;
  }

  private static String deadLetter(JsonNode body, String dflt) {
    JsonNode d = body.get("DeadLetterConfig");
    if (d == null || d.isNull()) {
      return dflt;
    }
    String arn = d.path("TargetArn").asText("");
    if (!arn.isEmpty() && !DEAD_LETTER_ARN.matcher(arn).matches()) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + arn
          + "' at 'deadLetterConfig.targetArn' failed to satisfy constraint: Member must satisfy regular expression "
          + "pattern: (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()");
    }
    return arn.isEmpty() ? null : arn;
  }

  private static final Pattern DEAD_LETTER_ARN = Pattern.compile("(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()");

  private static String logFormat(JsonNode body, String dflt) {
    String f = body.path("LoggingConfig").path("LogFormat").asText(null);
    if (f == null) {
      return dflt;
    }
    if (!f.equals("Text") && !f.equals("JSON")) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + f
          + "' at 'loggingConfig.logFormat' failed to satisfy constraint: Member must satisfy enum value set: [JSON, Text]");
    }
    return f;
  }

  private static String logGroup(JsonNode body, String dflt) {
    String g = body.path("LoggingConfig").path("LogGroup").asText(null);
    return g == null || g.isEmpty() ? dflt : g;
  }

  private static Map<String, String> tags(JsonNode body) {
    Map<String, String> tags = new LinkedHashMap<>();
    body.path("Tags").fields().forEachRemaining(e -> tags.put(e.getKey(), e.getValue().asText()));
    return tags;
  }

  /**
   * A required integer member of at least {@code min}, with Lambda's messages ({@code path} is the
   * member's name as validation messages spell it, e.g. {@code reservedConcurrentExecutions}).
   */
  static int requiredInt(JsonNode body, String member, String path, int min) {
    JsonNode value = body.get(member);
    if (value == null || value.isNull()) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value null at '"
          + path + "' failed to satisfy constraint: Member must not be null");
    }
    if (!value.canConvertToInt() || !value.isIntegralNumber()) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Could not parse request body into json: " + member + " must be an integer");
    }
    int v = value.intValue();
    if (v < min) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + v
          + "' at '" + path + "' failed to satisfy constraint: Member must have value greater than or equal to " + min);
    }
    return v;
  }

  /** A member's text, or null when it is absent or null. */
  static String text(JsonNode body, String member) {
    JsonNode n = body.get(member);
    return n == null || n.isNull() ? null : n.asText();
  }
}
