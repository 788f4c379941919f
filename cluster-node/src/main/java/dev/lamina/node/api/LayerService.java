package dev.lamina.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.layer.LayerPolicy;
import dev.lamina.actors.layer.LayerRegistry;
import dev.lamina.actors.layer.LayerVersion;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.registry.LayerRef;
import dev.lamina.actors.registry.RegistryClient;
import dev.lamina.persistence.code.CodeDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The layer operations of §1.3 of the contract, and the checks of the layers a function refers
 * to. Content is checked and stored before a version is numbered: a refused request creates
 * nothing.
 */
public final class LayerService {

  /** One page of ListLayers: each layer with its newest version matching the filters. */
  public record LayersPage(List<LayerVersion> latestMatching, String nextMarker) {}

  /** One page of ListLayerVersions, newest first. */
  public record VersionsPage(List<LayerVersion> versions, String nextMarker) {}

  private static final int PAGE_LIMIT = 50;
  private static final String NAME_PATTERN =
      "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";
  private static final Pattern NAME = Pattern.compile(NAME_PATTERN);
  private static final String VERSION_ARN_PATTERN =
      "arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+";
  private static final String FUNCTION_LAYER_PATTERN =
      "(arn:[a-zA-Z0-9-]+:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)"
          + "|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)";
  private static final Pattern LAYER_VERSION_ARN = Pattern.compile(
      "arn:(?<partition>[a-zA-Z0-9-]+):lambda:(?<region>[a-z0-9-]+):(?<account>\\d{12}):layer:"
          + "(?<name>[a-zA-Z0-9-_]+):(?<version>[0-9]+)");
  private static final List<String> ARCHITECTURES = List.of("x86_64", "arm64");
  private static final Pattern STATEMENT_ID = Pattern.compile("([a-zA-Z0-9-_]+)");
  private static final Pattern ACTION = Pattern.compile("lambda:GetLayerVersion");
  private static final Pattern PRINCIPAL = Pattern.compile("\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root");
  private static final Pattern ORGANIZATION = Pattern.compile("o-[a-z0-9]{10,32}");
  /** Runtimes a layer may declare: every Lambda runtime identifier, not only those Lamina runs. */
  private static final List<String> KNOWN_RUNTIMES = Stream.concat(FunctionConfig.SUPPORTED_RUNTIMES.stream(),
      Stream.of("nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x",
          "python2.7", "python3.6", "python3.7", "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",
          "dotnetcore3.1", "dotnet6", "dotnet8", "dotnet10", "nodejs4.3-edge", "go1.x", "ruby2.5", "ruby2.7",
          "ruby3.2", "ruby3.3", "ruby3.4")).toList();

  private final NodeSettings settings;
  private final RegistryClient registry;
  private final CodeUploads uploads;
  private final Executor blocking;

  LayerService(NodeSettings settings, RegistryClient registry, CodeUploads uploads, Executor blocking) {
    this.settings = settings;
    this.registry = registry;
    this.uploads = uploads;
    this.blocking = blocking;
  }

  public CompletionStage<LayerVersion> publish(String rawName, JsonNode body) {
    String name = layerName(rawName);
    Violations violations = new Violations();
    if (!body.hasNonNull("Content")) {
      violations.add("Value null at 'content' failed to satisfy constraint: Member must not be null");
    }
    String description = FunctionRequests.text(body, "Description");
    if (description != null && description.length() > 256) {
      violations.add("Value '" + description + "' at 'description' failed to satisfy constraint: Member must have "
          + "length less than or equal to 256");
    }
    String license = FunctionRequests.text(body, "LicenseInfo");
    if (license != null && license.length() > 512) {
      violations.add("Value '" + license + "' at 'licenseInfo' failed to satisfy constraint: Member must have "
          + "length less than or equal to 512");
    }
    List<String> runtimes = list(body, "CompatibleRuntimes", "compatibleRuntimes", 15, KNOWN_RUNTIMES, violations);
    List<String> architectures = list(body, "CompatibleArchitectures", "compatibleArchitectures", 2, ARCHITECTURES,
        violations);
    violations.throwIfAny();
    return CompletableFuture.supplyAsync(() -> {
      byte[] zip = CodeUploads.zipFile(settings, body.get("Content"));
      if (zip == null) {
        throw LambdaError.invalid("Please provide a source for the layer content: Content.ZipFile.");
      }
      CodeUploads.Upload upload = uploads.inspect(zip);
      CodeDigest digest = uploads.store(upload);
      return new LayerVersion(name, 0, description, null, runtimes, architectures, license, digest.hex(),
          upload.size(), upload.unzippedSize());
    }, blocking).thenCompose(version -> registry.askLayer(name, r -> new LayerRegistry.Publish(version, r)))
        .thenApply(LayerRegistry.Reply::versionOrThrow);
  }

  public CompletionStage<LayerVersion> get(String rawName, String rawVersion) {
    String name = layerName(rawName);
    long version = versionNumber(rawVersion);
    if (version > Integer.MAX_VALUE) {
      throw LambdaError.notFound("The resource you requested does not exist.");
    }
    return registry.askLayer(name, r -> new LayerRegistry.Get((int) version, r))
        .thenApply(LayerRegistry.Reply::versionOrThrow);
  }

  /** GetLayerVersionByArn ({@code GET /2018-10-31/layers?find=LayerVersion&Arn=…}). */
  public CompletionStage<LayerVersion> getByArn(String arn) {
    Matcher m = arn == null ? null : LAYER_VERSION_ARN.matcher(arn);
    if (arn == null || arn.length() > 140 || !Pattern.matches(VERSION_ARN_PATTERN, arn) || !m.matches()) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + arn
          + "' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: "
          + VERSION_ARN_PATTERN);
    }
    if (!ours(m)) {
      throw LambdaError.notFound("The resource you requested does not exist.");
    }
    return get(m.group("name"), m.group("version"));
  }

  public CompletionStage<Void> delete(String rawName, String rawVersion) {
    String name = layerName(rawName);
    long version = versionNumber(rawVersion);
    if (version > Integer.MAX_VALUE) {
      return CompletableFuture.completedFuture(null);  // never published: already deleted
    }
    return registry.askLayer(name, r -> new LayerRegistry.Delete((int) version, r)).thenApply(reply -> {
      reply.versionOrThrow();
      return null;
    });
  }

  public CompletionStage<VersionsPage> listVersions(String rawName, String runtime, String architecture,
      String marker, Integer maxItems) {
    String name = layerName(rawName);
    int limit = Markers.pageLimit(maxItems, PAGE_LIMIT, PAGE_LIMIT);
    checkFilters(runtime, architecture);
    Integer after = marker == null || marker.isEmpty() ? null : markerVersion(marker);
    return registry.askLayer(name, LayerRegistry.ListVersions::new).thenApply(reply -> {
      List<LayerVersion> matching = reply.versions().stream()
          .filter(v -> v.matches(runtime, architecture))
          .filter(v -> after == null || v.version() < after)
          .toList();
      List<LayerVersion> page = matching.subList(0, Math.min(limit, matching.size()));
      String next = matching.size() > limit ? Markers.encode(Integer.toString(page.get(page.size() - 1).version()))
          : null;
      return new VersionsPage(List.copyOf(page), next);
    });
  }

  public CompletionStage<LayersPage> list(String runtime, String architecture, String marker, Integer maxItems) {
    int limit = Markers.pageLimit(maxItems, PAGE_LIMIT, PAGE_LIMIT);
    checkFilters(runtime, architecture);
    String after = marker == null || marker.isEmpty() ? null : Markers.decode(marker);
    return registry.allLayerNames().thenCompose(names -> {
      List<String> remaining = names.stream().filter(n -> after == null || n.compareTo(after) > 0).toList();
      List<CompletableFuture<LayerVersion>> asks = remaining.stream()
          .map(n -> registry.askLayer(n, LayerRegistry.ListVersions::new)
              .thenApply(r -> r.versions().stream().filter(v -> v.matches(runtime, architecture)).findFirst()
                  .orElse(null))
              .toCompletableFuture())
          .toList();
      return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(v -> {
        List<LayerVersion> found = asks.stream().map(f -> f.getNow(null)).filter(x -> x != null).toList();
        List<LayerVersion> page = found.subList(0, Math.min(limit, found.size()));
        String next = found.size() > limit ? Markers.encode(page.get(page.size() - 1).layerName()) : null;
        return new LayersPage(List.copyOf(page), next);
      });
    });
  }

  /**
   * AddLayerVersionPermission: a {@code lambda:GetLayerVersion} grant added to the version's
   * policy (kept and shown, not enforced: a node serves one account). {@code revisionId} is the
   * precondition on the policy's revision, or null.
   */
  public CompletionStage<LayerPolicy> addPermission(String rawName, String rawVersion, JsonNode body,
      String revisionId) {
    String name = layerName(rawName);
    long version = versionNumber(rawVersion);
    Violations violations = new Violations();
    String sid = required(body, "StatementId", "statementId", STATEMENT_ID, 100, violations);
    required(body, "Action", "action", ACTION, 22, violations);
    String principal = required(body, "Principal", "principal", PRINCIPAL, 256, violations);
    String organization = FunctionRequests.text(body, "OrganizationId");
    if (organization != null) {
      check(organization, "organizationId", ORGANIZATION, 34, violations);
    }
    violations.throwIfAny();
    if (version > Integer.MAX_VALUE) {
      throw LambdaError.notFound("Layer version " + settings.layerArnPrefix() + name + ":" + version
          + " does not exist.");
    }
    LayerPolicy.Statement statement = new LayerPolicy.Statement(sid, principal, organization);
    return registry.askLayer(name, r -> new LayerRegistry.AddPermission((int) version, statement, revisionId, r))
        .thenApply(LayerRegistry.Reply::policyOrThrow);
  }

  public CompletionStage<LayerPolicy> policy(String rawName, String rawVersion) {
    String name = layerName(rawName);
    long version = versionNumber(rawVersion);
    if (version > Integer.MAX_VALUE) {
      throw LambdaError.notFound("Layer version " + settings.layerArnPrefix() + name + ":" + version
          + " does not exist.");
    }
    return registry.askLayer(name, r -> new LayerRegistry.GetPolicy((int) version, r))
        .thenApply(LayerRegistry.Reply::policyOrThrow);
  }

  public CompletionStage<Void> removePermission(String rawName, String rawVersion, String sid, String revisionId) {
    String name = layerName(rawName);
    long version = versionNumber(rawVersion);
    Violations violations = new Violations();
    check(sid, "statementId", STATEMENT_ID, 100, violations);
    violations.throwIfAny();
    if (version > Integer.MAX_VALUE) {
      throw LambdaError.notFound("Layer version " + settings.layerArnPrefix() + name + ":" + version
          + " does not exist.");
    }
    return registry.askLayer(name, r -> new LayerRegistry.RemovePermission((int) version, sid, revisionId, r))
        .thenApply(reply -> {
          reply.policyOrThrow();
          return null;
        });
  }

  private static String required(JsonNode body, String member, String path, Pattern pattern, int max,
      Violations violations) {
    String value = FunctionRequests.text(body, member);
    if (value == null) {
      violations.add("Value null at '" + path + "' failed to satisfy constraint: Member must not be null");
      return null;
    }
    check(value, path, pattern, max, violations);
    return value;
  }

  private static void check(String value, String path, Pattern pattern, int max, Violations violations) {
    if (value.length() > max) {
      violations.add("Value '" + value + "' at '" + path + "' failed to satisfy constraint: Member must have length "
          + "less than or equal to " + max);
    } else if (!pattern.matcher(value).matches()) {
      violations.add("Value '" + value + "' at '" + path + "' failed to satisfy constraint: Member must satisfy "
          + "regular expression pattern: " + pattern.pattern());
    }
  }

  /**
   * The layers of a CreateFunction / UpdateFunctionConfiguration, checked as Lambda checks them
   * and resolved to what a sandbox needs. An unknown version is an InvalidParameterValue.
   */
  CompletionStage<List<LayerRef>> resolve(List<String> arns) {
    if (arns.stream().anyMatch(a -> a == null || a.isEmpty() || a.length() > 140
        || !Pattern.matches(FUNCTION_LAYER_PATTERN, a))) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + arns
          + "' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must have length "
          + "less than or equal to 140, Member must have length greater than or equal to 1, Member must satisfy "
          + "regular expression pattern: " + FUNCTION_LAYER_PATTERN + ", Member must not be null]");
    }
    if (arns.size() > settings.maxLayersPerFunction()) {
      throw LambdaError.invalid("Cannot reference more than " + settings.maxLayersPerFunction() + " layers.");
    }
    Map<String, String> byLayer = new HashMap<>();
    List<Matcher> parsed = new ArrayList<>();
    for (String arn : arns) {
      Matcher m = LAYER_VERSION_ARN.matcher(arn);
      if (!m.matches()) {
        throw LambdaError.invalid("Layer version " + arn + " does not exist.");  // an AWS-managed awslayer ARN
      }
      // Keyed on what names the layer, so that spelling the partition differently is no way around.
      String layer = m.group("region") + ":" + m.group("account") + ":" + m.group("name");
      String earlier = byLayer.putIfAbsent(layer, arn);
      if (earlier != null) {
        throw LambdaError.invalid("Two different versions of the same layer are not allowed to be referenced in the "
            + "same function. " + earlier + " and " + arn + " are versions of the same layer.");
      }
      if (!m.group("region").equals(settings.region())) {
        throw LambdaError.invalid("Layers are not in the same region as the function. Layers are expected to be in "
            + "region " + settings.region() + ".");
      }
      parsed.add(m);
    }
    List<CompletableFuture<LayerRef>> asks = new ArrayList<>();
    for (Matcher m : parsed) {
      String arn = m.group();
      LambdaError missing = LambdaError.invalid("Layer version " + arn + " does not exist.");
      if (!ours(m) || !fitsInt(m.group("version"))) {
        asks.add(CompletableFuture.failedFuture(missing));
        continue;
      }
      int version = Integer.parseInt(m.group("version"));
      asks.add(registry.askLayer(m.group("name"), r -> new LayerRegistry.Get(version, r)).thenApply(reply -> {
        if (reply.errorCode() != null) {
          throw missing;
        }
        LayerVersion v = reply.versions().get(0);
        return new LayerRef(arn, v.codeSize(), v.codeSha256Hex(), v.unzippedSize());
      }).toCompletableFuture());
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .thenApply(v -> asks.stream().map(CompletableFuture::join).toList());
  }

  private boolean ours(Matcher m) {
    return m.group("partition").equals("aws") && m.group("region").equals(settings.region())
        && m.group("account").equals(settings.accountId());
  }

  /**
   * A LayerName path member: a name, or a layer ARN, which must be of this node's region and
   * account (layers elsewhere do not exist here).
   */
  private String layerName(String raw) {
    if (raw == null || raw.isEmpty() || raw.length() > 140 || !NAME.matcher(raw).matches()) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + raw
          + "' at 'layerName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
          + NAME_PATTERN);
    }
    int at = raw.lastIndexOf(":layer:");
    if (at < 0) {
      return raw;
    }
    if (!raw.startsWith(settings.layerArnPrefix())) {
      throw LambdaError.notFound("The resource you requested does not exist.");
    }
    return raw.substring(at + ":layer:".length());
  }

  private static long versionNumber(String raw) {
    long v;
    try {
      v = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + raw
          + "' at 'versionNumber' failed to satisfy constraint: Member must be a number");
    }
    if (v < 1) {
      throw LambdaError.invalid("Layer Version Cannot be less than 1");
    }
    return v;
  }

  private static int markerVersion(String marker) {
    String decoded = Markers.decode(marker);
    if (!fitsInt(decoded)) {
      throw LambdaError.invalid("Invalid Marker: " + marker);
    }
    return Integer.parseInt(decoded);
  }

  private static boolean fitsInt(String digits) {
    return !digits.isEmpty() && digits.length() <= 9 && digits.chars().allMatch(Character::isDigit);
  }

  private static void checkFilters(String runtime, String architecture) {
    if (runtime != null && !KNOWN_RUNTIMES.contains(runtime)) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + runtime
          + "' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: "
          + KNOWN_RUNTIMES);
    }
    if (architecture != null && !ARCHITECTURES.contains(architecture)) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '"
          + architecture + "' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum "
          + "value set: " + ARCHITECTURES);
    }
  }

  /** A list of enum strings, or null when the member is absent. */
  private static List<String> list(JsonNode body, String member, String path, int max, List<String> allowed,
      Violations violations) {
    JsonNode n = body.get(member);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isArray()) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Could not parse request body into json: " + member + " must be a list");
    }
    List<String> values = new ArrayList<>();
    n.forEach(v -> values.add(v.asText()));
    if (values.size() > max) {
      violations.add("Value '" + values + "' at '" + path + "' failed to satisfy constraint: Member must have length "
          + "less than or equal to " + max);
    } else if (!Set.copyOf(allowed).containsAll(values)) {
      violations.add("Value '" + values + "' at '" + path + "' failed to satisfy constraint: Member must satisfy "
          + "constraint: [Member must satisfy enum value set: " + allowed + "]");
    }
    return values;
  }
}
