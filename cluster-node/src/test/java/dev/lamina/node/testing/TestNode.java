package dev.lamina.node.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.LaminaNode;
import dev.lamina.node.auth.AccessKey;
import dev.lamina.node.auth.CredentialsFile;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
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
 *
 * <p>The node authenticates requests as always. Unless the test configures {@code lamina.auth}
 * itself, its data directory gets a credentials file with the test key
 * ({@link SignedHttp#ACCESS_KEY_ID} / {@link SignedHttp#SECRET_ACCESS_KEY}) before it starts, so
 * the SDK clients here, {@link SignedHttp} and {@code lamina … --data-dir <dataDir>} all sign with
 * a key the node knows.
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
    if (!extra.hasPath("lamina.auth")) {
      writeTestKey(dataDir);
    }
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

  /** Writes the test key into {@code dataDir/credentials} unless a credentials file is there. */
  public static void writeTestKey(Path dataDir) {
    Path file = dataDir.resolve("credentials");
    try {
      if (!Files.exists(file)) {
        CredentialsFile.create(file, new AccessKey(SignedHttp.ACCESS_KEY_ID, SignedHttp.SECRET_ACCESS_KEY));
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
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

  /** An SDK client as a user would build one: endpoint override, the test key, no retries. */
  public static LambdaClient client(String endpoint) {
    return client(endpoint, StaticCredentialsProvider.create(
        AwsBasicCredentials.create(SignedHttp.ACCESS_KEY_ID, SignedHttp.SECRET_ACCESS_KEY)));
  }

  /** The same with other credentials. */
  public static LambdaClient client(String endpoint, AwsCredentialsProvider credentials) {
    return LambdaClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(credentials)
        .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
        .overrideConfiguration(o -> o.retryPolicy(RetryPolicy.none()))
        .build();
  }

  /** The SQS client a user would point at the node's Lamina queues (MD5 checks on, as by default). */
  public static SqsClient sqsClient(String endpoint) {
    return sqsClient(endpoint, StaticCredentialsProvider.create(
        AwsBasicCredentials.create(SignedHttp.ACCESS_KEY_ID, SignedHttp.SECRET_ACCESS_KEY)));
  }

  /** The same with other credentials. */
  public static SqsClient sqsClient(String endpoint, AwsCredentialsProvider credentials) {
    return SqsClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(credentials)
        .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
        .overrideConfiguration(o -> o.retryPolicy(RetryPolicy.none()))
        .build();
  }

  /** The function's log as {@code GET /lamina/logs/<function>} shows it (flushed first); "" when none. */
  public String log(String function) {
    node.logs().flush();
    java.net.http.HttpResponse<String> response = SignedHttp.send(SignedHttp.get(endpoint() + "/lamina/logs/" + function));
    return response.statusCode() == 200 ? response.body() : "";
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
