package dev.lamina.loadtests;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * What a simulation runs against and how, from system properties (the Gatling plugin passes
 * {@code -D} options through): {@code lamina.url} (several, comma-separated, for a cluster: the
 * virtual users spread over them), the key to sign with ({@code lamina.accessKeyId} /
 * {@code lamina.secretAccessKey}, else the AWS_* environment variables, as the CLI reads them),
 * where results go ({@code lamina.results}) and where the example functions are
 * ({@code lamina.examples}). Each simulation reads its own knobs through {@link #intOption} and
 * {@link #durationOption}, so a smoke run and a full run are the same code.
 */
public record Target(List<String> urls, String accessKeyId, String secretAccessKey, String region, Path results,
    Path examples) {

  public static Target fromSystemProperties() {
    List<String> urls = Arrays.stream(System.getProperty("lamina.url", "http://127.0.0.1:9000").split(","))
        .map(String::trim).filter(u -> !u.isEmpty()).map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u)
        .toList();
    for (String url : urls) {
      URI.create(url); // a malformed URL fails here, before any set-up
    }
    String key = option("lamina.accessKeyId", System.getenv("AWS_ACCESS_KEY_ID"));
    String secret = option("lamina.secretAccessKey", System.getenv("AWS_SECRET_ACCESS_KEY"));
    if (key == null || secret == null) {
      throw new IllegalStateException("no credentials: set -Dlamina.accessKeyId and -Dlamina.secretAccessKey "
          + "(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the key the node prints on its first start");
    }
    String region = option("lamina.region", System.getenv().getOrDefault("AWS_DEFAULT_REGION", "us-east-1"));
    Path results = Path.of(option("lamina.results", "target/loadtests"));
    return new Target(urls, key, secret, region, results, examplesDir());
  }

  /** The first URL: where a simulation does its set-up (functions are shared by every node). */
  public String url() {
    return urls.get(0);
  }

  public static int intOption(String name, int fallback) {
    String v = System.getProperty(name);
    return v == null || v.isBlank() ? fallback : Integer.parseInt(v.trim());
  }

  /** A duration in seconds, e.g. {@code -Dduration=30}. */
  public static Duration durationOption(String name, Duration fallback) {
    String v = System.getProperty(name);
    return v == null || v.isBlank() ? fallback : Duration.ofMillis(Math.round(Double.parseDouble(v.trim()) * 1000));
  }

  public static String option(String name, String fallback) {
    String v = System.getProperty(name);
    return v == null || v.isBlank() ? fallback : v.trim();
  }

  private static Path examplesDir() {
    String configured = System.getProperty("lamina.examples");
    if (configured != null) {
      return Path.of(configured);
    }
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("examples/python/noop"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("examples/ not found above " + Path.of("").toAbsolutePath()
          + "; set -Dlamina.examples");
    }
    return p.resolve("examples");
  }
}
