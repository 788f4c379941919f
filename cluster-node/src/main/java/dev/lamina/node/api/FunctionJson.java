package dev.lamina.node.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.lamina.actors.layer.LayerPolicy;
import dev.lamina.actors.layer.LayerVersion;
import dev.lamina.actors.registry.AliasConfig;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.registry.LayerRef;
import dev.lamina.persistence.code.CodeDigest;

/**
 * Renders functions, aliases and layer versions in Lambda's shapes (member order of the model).
 */
public final class FunctionJson {

  /**
   * Reads request bodies of the management and SQS APIs (and writes responses). The limits are
   * far above any valid request and far below what would cost the node: request bodies carry
   * code as one base64 string of up to ~70 MB (Jackson's default 20 M characters would refuse
   * valid 15–50 MB packages), while their structure is small — a few levels deep (a Lambda body
   * nests 4, an SQS one 5), a few hundred tokens, numbers of a few digits. Without a token limit
   * a 70 MB body of {@code [1,1,1,…]} would build a tree of 35 million nodes.
   */
  public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxStringLength(128 * 1024 * 1024)
          .maxNestingDepth(64)
          .maxTokenCount(100_000)
          .maxNumberLength(100)
          .maxNameLength(16 * 1024)
          .build())
      .build());

  /**
   * What is wrong with an unparsable JSON document, in Jackson's words (as Lambda reports it),
   * without what would show the client Lamina's insides: the Java name of a limit
   * ({@code from `StreamReadConstraints.getMaxNestingDepth()`}), feature names, source
   * descriptions. One line, at most 300 characters.
   */
  public static String parseProblem(java.io.IOException e) {
    String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    if (m == null || m.isBlank()) {
      return "malformed JSON";
    }
    int newline = m.indexOf('\n');
    m = newline < 0 ? m : m.substring(0, newline);
    m = m.replaceAll(",? from `[^`]*`", "")
        .replaceAll("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]", "[line: $1, column: $2]")
        .replaceAll(":? ?(enable|disable) `[^`]*`( to allow)?", "")
        .replaceAll("`[^`]*`", "")
        .trim();
    return m.length() > 300 ? m.substring(0, 300) + "…" : m;
  }

  private final String arnPrefix;
  private final String layerArnPrefix;

  /**
   * @param arnPrefix {@code arn:aws:lambda:<region>:<account>:function:}
   * @param layerArnPrefix {@code arn:aws:lambda:<region>:<account>:layer:}
   */
  public FunctionJson(String arnPrefix, String layerArnPrefix) {
    this.arnPrefix = arnPrefix;
    this.layerArnPrefix = layerArnPrefix;
  }

  public String arn(String name) {
    return arnPrefix + name;
  }

  /**
   * A FunctionConfiguration whose {@code FunctionArn} is qualified as Lambda does it: published
   * versions by their number, {@code $LATEST} not at all.
   */
  public ObjectNode configuration(FunctionConfig c, boolean withState) {
    return configuration(c, c.isLatest() ? null : c.version(), withState);
  }

  /**
   * @param arnQualifier what {@code FunctionArn} ends with after the name ({@code $LATEST} in
   *     version lists, an alias name when read through an alias), or null for the unqualified ARN
   * @param withState whether to include State/LastUpdateStatus (list operations omit them)
   */
  public ObjectNode configuration(FunctionConfig c, String arnQualifier, boolean withState) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("FunctionName", c.name());
    n.put("FunctionArn", arnQualifier != null ? arn(c.name()) + ":" + arnQualifier : arn(c.name()));
    n.put("Runtime", c.runtime());
    n.put("Role", c.role());
    n.put("Handler", c.handler());
    n.put("CodeSize", c.codeSize());
    n.put("Description", c.description());
    n.put("Timeout", c.timeoutSeconds());
    n.put("MemorySize", c.memorySizeMb());
    n.put("LastModified", c.lastModified());
    n.put("CodeSha256", new CodeDigest(c.codeSha256Hex()).base64());
    n.put("Version", c.version());
    if (!c.environment().isEmpty()) {
      ObjectNode vars = n.putObject("Environment").putObject("Variables");
      c.environment().forEach(vars::put);
    }
    if (c.deadLetterTargetArn() != null) {
      n.putObject("DeadLetterConfig").put("TargetArn", c.deadLetterTargetArn());
    }
    n.putObject("TracingConfig").put("Mode", c.tracingMode());
    n.put("RevisionId", c.revisionId());
    if (!c.layers().isEmpty()) {
      ArrayNode layers = n.putArray("Layers");
      for (LayerRef layer : c.layers()) {
        ObjectNode l = layers.addObject();
        l.put("Arn", layer.arn());
        l.put("CodeSize", layer.codeSize());
      }
    }
    if (withState) {
      n.put("State", "Active");
      n.put("LastUpdateStatus", "Successful");
    }
    n.put("PackageType", "Zip");
    n.putArray("Architectures").add(c.architecture());
    n.putObject("EphemeralStorage").put("Size", c.ephemeralStorageMb());
    ObjectNode snap = n.putObject("SnapStart");
    snap.put("ApplyOn", "None");
    snap.put("OptimizationStatus", "Off");
    ObjectNode logging = n.putObject("LoggingConfig");
    logging.put("LogFormat", c.logFormat());
    logging.put("LogGroup", c.logGroup());
    return n;
  }

  /** An AliasConfiguration of {@code function}. */
  public ObjectNode alias(String function, AliasConfig a) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("AliasArn", arn(function) + ":" + a.name());
    n.put("Name", a.name());
    n.put("FunctionVersion", a.functionVersion());
    n.put("Description", a.description());
    if (!a.additionalVersionWeights().isEmpty()) {
      ObjectNode weights = n.putObject("RoutingConfig").putObject("AdditionalVersionWeights");
      a.additionalVersionWeights().forEach(weights::put);
    }
    n.put("RevisionId", a.revisionId());
    return n;
  }

  public String layerArn(String layerName) {
    return layerArnPrefix + layerName;
  }

  public String layerVersionArn(LayerVersion v) {
    return layerArn(v.layerName()) + ":" + v.version();
  }

  /**
   * A layer version as PublishLayerVersion / GetLayerVersion show it; {@code location} is where
   * its zip can be downloaded.
   */
  public ObjectNode layerVersion(LayerVersion v, String location) {
    ObjectNode n = MAPPER.createObjectNode();
    ObjectNode content = n.putObject("Content");
    content.put("Location", location);
    content.put("CodeSha256", new CodeDigest(v.codeSha256Hex()).base64());
    content.put("CodeSize", v.codeSize());
    n.put("LayerArn", layerArn(v.layerName()));
    n.put("LayerVersionArn", layerVersionArn(v));
    layerVersionDetails(n, v);
    return n;
  }

  /** A LayerVersionsListItem (ListLayerVersions, ListLayers' LatestMatchingVersion). */
  public ObjectNode layerVersionItem(LayerVersion v) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("LayerVersionArn", layerVersionArn(v));
    layerVersionDetails(n, v);
    return n;
  }

  /** A layer version policy's statement as IAM shows it, for {@code Resource} = the version's ARN. */
  public ObjectNode layerStatement(String versionArn, LayerPolicy.Statement s) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("Sid", s.sid());
    n.put("Effect", "Allow");
    if (s.principal().equals("*")) {
      n.put("Principal", "*");
    } else {
      String account = s.principal().startsWith("arn:") ? s.principal() : "arn:aws:iam::" + s.principal() + ":root";
      n.putObject("Principal").put("AWS", account);
    }
    n.put("Action", "lambda:GetLayerVersion");
    n.put("Resource", versionArn);
    if (s.organizationId() != null) {
      n.putObject("Condition").putObject("StringEquals").put("aws:PrincipalOrgID", s.organizationId());
    }
    return n;
  }

  /** The whole policy document of a layer version. */
  public ObjectNode layerPolicy(String versionArn, LayerPolicy policy) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("Version", "2012-10-17");
    n.put("Id", "default");
    ArrayNode statements = n.putArray("Statement");
    policy.statements().forEach(s -> statements.add(layerStatement(versionArn, s)));
    return n;
  }

  private static void layerVersionDetails(ObjectNode n, LayerVersion v) {
    n.put("Description", v.description());
    n.put("CreatedDate", v.createdDate());
    n.put("Version", v.version());
    if (v.compatibleRuntimes() != null) {
      ArrayNode runtimes = n.putArray("CompatibleRuntimes");
      v.compatibleRuntimes().forEach(runtimes::add);
    }
    if (v.licenseInfo() != null) {
      n.put("LicenseInfo", v.licenseInfo());
    }
    if (v.compatibleArchitectures() != null) {
      ArrayNode architectures = n.putArray("CompatibleArchitectures");
      v.compatibleArchitectures().forEach(architectures::add);
    }
  }
}
