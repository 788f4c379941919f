package dev.lamina.actors.sandbox;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code lamina.sandbox} block, read once at start-up.
 *
 * @param launcher {@code auto} (bubblewrap when it works here, else plain), {@code bubblewrap}, {@code plain}
 * @param keepAlive how long an idle sandbox stays warm
 * @param initTimeout the limit on a runtime's init phase (Lambda: 10 s)
 * @param maxResponseBytes the largest function response (Lambda: 6 MB + 100 bytes)
 */
public record SandboxSettings(
    Path dataDir,
    String launcher,
    Duration keepAlive,
    Duration initTimeout,
    long maxResponseBytes,
    String python,
    String node,
    String java,
    String region,
    String accountId) {

  public static SandboxSettings from(Config config, Path dataDir) {
    Config c = config.getConfig("lamina.sandbox");
    String launcher = c.getString("launcher");
    if (!launcher.matches("auto|bubblewrap|plain")) {
      throw new IllegalArgumentException("lamina.sandbox.launcher must be auto, bubblewrap or plain, not " + launcher);
    }
    return new SandboxSettings(
        dataDir,
        launcher,
        c.getDuration("keep-alive"),
        c.getDuration("init-timeout"),
        c.getBytes("max-response-bytes"),
        c.getString("python"),
        c.getString("node"),
        c.getString("java"),
        config.getString("lamina.region"),
        config.getString("lamina.account-id"));
  }
}
