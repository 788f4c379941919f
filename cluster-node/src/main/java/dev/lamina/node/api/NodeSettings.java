package dev.lamina.node.api;

import com.typesafe.config.Config;
import java.nio.file.Path;

/**
 * The node's {@code lamina} settings that the API layer needs, read once at start-up.
 *
 * @param maxZippedBytes direct-upload zip limit (Lambda: 52,428,800)
 * @param maxUnzippedBytes unzipped code limit (Lambda: 262,144,000)
 * @param maxSyncPayloadBytes synchronous Invoke request limit (Lambda: 6,291,456)
 * @param maxAsyncPayloadBytes {@code Event} Invoke request limit (Lambda: 262,144; 1 MB since late 2025)
 * @param maxEnvironmentBytes environment variables limit, measured on their JSON (Lambda: 4 KB)
 * @param maxLayersPerFunction layers one function may use (Lambda: 5)
 */
/** {@code frontend}: the node has the frontend role and serves the Lambda and SQS APIs. */
public record NodeSettings(
    Path dataDir,
    String host,
    int port,
    String region,
    String accountId,
    long maxZippedBytes,
    long maxUnzippedBytes,
    long maxCreateRequestBytes,
    long maxSyncPayloadBytes,
    long maxAsyncPayloadBytes,
    int maxEnvironmentBytes,
    int defaultTimeoutSeconds,
    int maxTimeoutSeconds,
    int defaultMemoryMb,
    int minMemoryMb,
    int maxMemoryMb,
    int defaultEphemeralMb,
    int minEphemeralMb,
    int maxEphemeralMb,
    int maxLayersPerFunction,
    boolean frontend) {

  public static NodeSettings from(Config config, Path dataDir) {
    Config l = config.getConfig("lamina");
    Config lim = l.getConfig("limits");
    return new NodeSettings(
        dataDir,
        l.getString("http.host"),
        l.getInt("http.port"),
        l.getString("region"),
        l.getString("account-id"),
        lim.getBytes("zipped-code-bytes"),
        lim.getBytes("unzipped-code-bytes"),
        lim.getBytes("create-request-bytes"),
        lim.getBytes("sync-payload-bytes"),
        lim.getBytes("async-payload-bytes"),
        lim.getBytes("environment-bytes").intValue(),
        lim.getInt("default-timeout-seconds"),
        lim.getInt("max-timeout-seconds"),
        lim.getInt("default-memory-mb"),
        lim.getInt("min-memory-mb"),
        lim.getInt("max-memory-mb"),
        lim.getInt("default-ephemeral-storage-mb"),
        lim.getInt("min-ephemeral-storage-mb"),
        lim.getInt("max-ephemeral-storage-mb"),
        lim.getInt("layers-per-function"),
        config.getStringList("pekko.cluster.roles").contains("frontend"));
  }

  /** {@code arn:aws:lambda:<region>:<account>:function:} */
  public String functionArnPrefix() {
    return "arn:aws:lambda:" + region + ":" + accountId + ":function:";
  }

  /** {@code arn:aws:sqs:<region>:<account>:} */
  public String queueArnPrefix() {
    return "arn:aws:sqs:" + region + ":" + accountId + ":";
  }

  /** {@code arn:aws:lambda:<region>:<account>:event-source-mapping:} */
  public String mappingArnPrefix() {
    return "arn:aws:lambda:" + region + ":" + accountId + ":event-source-mapping:";
  }

  /** {@code arn:aws:lambda:<region>:<account>:layer:} */
  public String layerArnPrefix() {
    return "arn:aws:lambda:" + region + ":" + accountId + ":layer:";
  }
}
