package dev.lamina.node.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.LaminaNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * A real Lamina node started in this JVM on a fresh data directory, loopback only, with an AWS SDK
 * v2 Lambda client pointed at it. Tests stop what they start: {@link #close()} stops the node
 * (which kills and awaits every sandbox process) and deletes the data directory.
 */
public final class TestNode implements AutoCloseable {

  private final Path dataDir;
  private final boolean ownsDataDir;
  private final LaminaNode node;
  private final LambdaClient lambda;

  private TestNode(Path dataDir, boolean ownsDataDir, LaminaNode node) {
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.node = node;
    this.lambda = client(node.endpoint());
  }

  /** A node on a new temporary data directory. */
  public static TestNode start() {
    try {
      return start(Files.createTempDirectory("lamina-test-"), true, ConfigFactory.empty());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A node on {@code dataDir}, which the caller owns (restart tests reuse it). */
  public static TestNode startOn(Path dataDir) {
    return start(dataDir, false, ConfigFactory.empty());
  }

  public static TestNode start(Path dataDir, boolean ownsDataDir, Config extra) {
    openToSandboxes(dataDir);
    Config config = extra.withFallback(ConfigFactory.parseString(
        "lamina.data-dir = \"" + dataDir + "\"\n"
            + "lamina.http.port = 0\n"
            + "pekko.remote.artery.canonical.port = 0\n"));
    try {
      return new TestNode(dataDir, ownsDataDir, LaminaNode.start(config));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Sandboxes run as pool uids that must traverse the path to the data directory (their code is
   * bind-mounted from under it); temporary directories are created 0700. Lets others traverse
   * (not list) the temporary directories on the way.
   */
  public static void openToSandboxes(Path dataDir) {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
    for (Path p = dataDir.toAbsolutePath().normalize(); p != null && p.startsWith(tmp) && !p.equals(tmp);
        p = p.getParent()) {
      try {
        if (Files.isDirectory(p)) {
          var perms = Files.getPosixFilePermissions(p);
          perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
          Files.setPosixFilePermissions(p, perms);
        }
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  public LambdaClient lambda() {
    return lambda;
  }

  public LaminaNode node() {
    return node;
  }

  public String endpoint() {
    return node.endpoint();
  }

  public Path dataDir() {
    return dataDir;
  }

  /** An SDK client as a user would build one: endpoint override, any credentials, no retries. */
  public static LambdaClient client(String endpoint) {
    return LambdaClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("lamina", "lamina")))
        .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
        .overrideConfiguration(o -> o.retryPolicy(RetryPolicy.none()))
        .build();
  }

  /** The SQS client a user would point at the node's Lamina queues (MD5 checks on, as by default). */
  public static SqsClient sqsClient(String endpoint) {
    return SqsClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("lamina", "lamina")))
        .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
        .overrideConfiguration(o -> o.retryPolicy(RetryPolicy.none()))
        .build();
  }

  /** The function's log as {@code GET /lamina/logs/<function>} shows it (flushed first); "" when none. */
  public String log(String function) {
    node.logs().flush();
    try {
      java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(URI.create(endpoint() + "/lamina/logs/" + function)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200 ? response.body() : "";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    lambda.close();
    node.close();
    if (ownsDataDir) {
      deleteTree(dataDir);
    }
  }

  public static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        p.toFile().setWritable(true);
        p.toFile().delete();
      });
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
