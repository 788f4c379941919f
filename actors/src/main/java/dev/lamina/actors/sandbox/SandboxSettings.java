package dev.lamina.actors.sandbox;

import com.typesafe.config.Config;
import dev.lamina.actors.sandbox.isolation.IsolationSettings;
import java.nio.file.Path;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The {@code lamina.sandbox} block, read once at start-up.
 *
 * @param isolation how sandboxes are confined ({@code lamina.sandbox.isolation} and {@code confinement})
 * @param keepAlive how long an idle sandbox stays warm
 * @param maxLifetime after this a sandbox is recycled: it finishes the invocation it runs, then stops
 * @param initTimeout the limit on a runtime's init phase (Lambda: 10 s)
 * @param maxResponseBytes the largest function response (Lambda: 6 MB + 100 bytes)
 * @param javaByVersion java executables by Java feature version (17, 21, 25, …)
 */
public record SandboxSettings(
    Path dataDir,
    IsolationSettings isolation,
    Duration keepAlive,
    Duration maxLifetime,
    Duration initTimeout,
    long maxResponseBytes,
    String python,
    String node,
    NavigableMap<Integer, String> javaByVersion,
    String region,
    String accountId) {

  public static SandboxSettings from(Config config, Path dataDir) {
    Config c = config.getConfig("lamina.sandbox");
    return new SandboxSettings(
        dataDir,
        IsolationSettings.from(c),
        c.getDuration("keep-alive"),
        c.getDuration("max-lifetime"),
        c.getDuration("init-timeout"),
        c.getBytes("max-response-bytes"),
        c.getString("python"),
        c.getString("node"),
        javas(c.getString("java"), c.getStringList("jdk-search-path")),
        config.getString("lamina.region"),
        config.getString("lamina.account-id"));
  }

  /**
   * The java executable for a Java runtime: the oldest JDK that runs the runtime's version
   * ({@code java21} needs 21 or newer), else the newest there is.
   */
  public String javaFor(String runtime) {
    int wanted = javaVersionOf(runtime);
    Map.Entry<Integer, String> fit = javaByVersion.ceilingEntry(wanted);
    return (fit != null ? fit : javaByVersion.lastEntry()).getValue();
  }

  static int javaVersionOf(String runtime) {
    String digits = runtime.replaceAll("^java(\\d+).*$", "$1");
    try {
      return Integer.parseInt(digits);
    } catch (NumberFormatException e) {
      return 17;
    }
  }

  /**
   * {@code java = auto}: the node's own JVM plus every JDK found under the search path (their
   * {@code release} files name the version). Anything else: that executable for every runtime.
   */
  static NavigableMap<Integer, String> javas(String setting, List<String> searchPath) {
    NavigableMap<Integer, String> found = new TreeMap<>();
    if (!setting.equals("auto")) {
      found.put(0, setting);
      return found;
    }
    found.put(Runtime.version().feature(), Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String root : searchPath) {
      try (Stream<Path> homes = Files.list(Path.of(root))) {
        for (Path home : homes.sorted().toList()) {
          Path java = home.resolve("bin/java");
          Integer version = releaseVersion(home.resolve("release"));
          if (version != null && Files.isExecutable(java)) {
            found.putIfAbsent(version, java.toString());
          }
        }
      } catch (IOException e) {
        // no JDKs there
      }
    }
    return found;
  }

  private static Integer releaseVersion(Path release) {
    try {
      for (String line : Files.readAllLines(release)) {
        if (line.startsWith("JAVA_VERSION=")) {
          String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
          String major = v.startsWith("1.") ? v.substring(2).split("\\.")[0] : v.split("[.+-]")[0];
          return Integer.parseInt(major);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not a JDK home
    }
    return null;
  }
}
