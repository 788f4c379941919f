package dev.lamina.node.auth;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code lamina.auth}, read once at start-up.
 *
 * @param enabled false: every request is served unsigned (development only)
 * @param credentials the access keys configured in {@code lamina.auth.credentials}
 * @param credentialsFile where keys are kept as an AWS shared-credentials file (relative paths
 *     resolved against the data directory)
 * @param maxClockSkew how far a request's signing time may be from the node's clock (AWS: 15 min)
 */
public record AuthSettings(boolean enabled, List<AccessKey> credentials, Path credentialsFile,
    Duration maxClockSkew) {

  public static AuthSettings from(Config config, Path dataDir) {
    Config a = config.getConfig("lamina.auth");
    List<AccessKey> keys = new ArrayList<>();
    int i = 0;
    for (Config entry : a.getConfigList("credentials")) {
      try {
        keys.add(new AccessKey(entry.getString("access-key-id"), entry.getString("secret-access-key")));
      } catch (ConfigException | IllegalArgumentException e) {
        throw new IllegalArgumentException("lamina.auth.credentials[" + i + "] needs access-key-id and "
            + "secret-access-key (" + e.getMessage() + ")", e);
      }
      i++;
    }
    Duration skew = a.getDuration("max-clock-skew");
    if (skew.isNegative() || skew.isZero()) {
      throw new IllegalArgumentException("lamina.auth.max-clock-skew must be positive, not " + skew);
    }
    return new AuthSettings(a.getBoolean("enabled"), List.copyOf(keys),
        dataDir.resolve(a.getString("credentials-file")).toAbsolutePath().normalize(), skew);
  }
}
