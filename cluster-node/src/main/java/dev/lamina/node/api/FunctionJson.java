package dev.lamina.node.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.persistence.code.CodeDigest;

/** Renders configurations in Lambda's FunctionConfiguration shape (member order of the model). */
public final class FunctionJson {

  /**
   * Request bodies carry code as one base64 string of up to ~70 MB: Jackson's default 20 M
   * character limit on a string would refuse valid 15–50 MB packages.
   */
  public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(128 * 1024 * 1024).build())
      .build());

  private final String arnPrefix;

  public FunctionJson(String arnPrefix) {
    this.arnPrefix = arnPrefix;
  }

  public String arn(String name) {
    return arnPrefix + name;
  }

  /**
   * @param qualifiedArn whether FunctionArn carries {@code :version} (ListFunctions with
   *     FunctionVersion=ALL, published versions)
   * @param withState whether to include State/LastUpdateStatus (list operations omit them)
   */
  public ObjectNode configuration(FunctionConfig c, boolean qualifiedArn, boolean withState) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("FunctionName", c.name());
    n.put("FunctionArn", qualifiedArn ? arn(c.name()) + ":" + c.version() : arn(c.name()));
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
}
