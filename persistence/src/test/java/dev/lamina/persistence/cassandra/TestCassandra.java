package dev.lamina.persistence.cassandra;

import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real Cassandra 5.0 server for the tests of every module (this module publishes it in its
 * test-jar), and a keyspace of their own for each test class.
 *
 * <p>{@link #port()} uses whatever speaks CQL on 127.0.0.1:{@code $LAMINA_CASSANDRA_PORT} (default
 * 9142). When nothing does, it runs {@code <repo>/tools/cassandra/cassandra.sh start} (the repository
 * root is the nearest directory above the working directory holding {@code tools/}) and, if this
 * JVM is the one that started the server, stops it again with {@code cassandra.sh stop} when the
 * JVM exits. A server that was already running is left alone.
 */
public final class TestCassandra {

  private static final String HOST = "127.0.0.1";
  private static final int DEFAULT_PORT = 9142;
  private static final Duration START_TIMEOUT = Duration.ofMinutes(5);  // includes resolving the classpath once
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

  private static int port;

  private TestCassandra() {}

  /** The CQL port of a running server on 127.0.0.1, starting one first if needed. */
  public static synchronized int port() {
    if (port != 0) {
      return port;
    }
    int wanted = configuredPort();
    if (!speaksCql(wanted)) {
      start(wanted);
    }
    port = wanted;
    return port;
  }

  /** This module's default settings, pointed at the test server and at {@code keyspace}. */
  public static CassandraSettings settings(String keyspace) {
    return CassandraSettings.from(ConfigFactory.parseMap(Map.of(
            CassandraSettings.PATH + ".contact-points", List.of(HOST + ":" + port()),
            CassandraSettings.PATH + ".keyspace", keyspace))
        .withFallback(ConfigFactory.defaultReference()));
  }

  /** A keyspace name no other test class (nor an earlier run) uses: {@code t_<class>_<random>}. */
  public static String uniqueKeyspace(Class<?> testClass) {
    String name = testClass.getSimpleName().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    return "t_" + name.substring(0, Math.min(name.length(), 36)) + "_" + suffix;
  }

  /** Drops the storage's keyspace (the test's data) and closes the storage. */
  public static void dropAndClose(CassandraStorage storage) {
    try {
      // Else the driver re-reads the schema before the DROP returns: a second longer.
      storage.session().setSchemaMetadataEnabled(false);
      storage.session().execute(SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + storage.settings().keyspace())
          .setTimeout(Duration.ofSeconds(60)));
    } finally {
      storage.close();
    }
  }

  private static int configuredPort() {
    String value = System.getenv("LAMINA_CASSANDRA_PORT");
    return value == null || value.isBlank() ? DEFAULT_PORT : Integer.parseInt(value.trim());
  }

  private static void start(int cqlPort) {
    Path script = repoRoot().resolve("tools/cassandra/cassandra.sh");
    String output = run(script, "start", cqlPort, START_TIMEOUT);
    // The script says "starting (pid N ...)" only when it launched the server itself; "already
    // running" or "waiting" means another process (a parallel build) did, and that one stops it.
    if (output.contains("starting (pid")) {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          run(script, "stop", cqlPort, STOP_TIMEOUT);
        } catch (RuntimeException e) {
          System.err.println("could not stop the test Cassandra: " + e.getMessage());
        }
      }, "stop-test-cassandra"));
    }
    if (!speaksCql(cqlPort)) {
      throw new IllegalStateException(script + " start finished but nothing speaks CQL on " + HOST + ":" + cqlPort
          + "\n" + output);
    }
  }

  /** Runs the script with its output captured; fails with that output when it fails. */
  private static String run(Path script, String command, int cqlPort, Duration timeout) {
    try {
      Path out = Files.createTempFile("lamina-cassandra-" + command, ".log");
      try {
        ProcessBuilder builder = new ProcessBuilder("bash", script.toString(), command)
            .redirectErrorStream(true).redirectOutput(out.toFile());
        builder.environment().put("LAMINA_CASSANDRA_PORT", Integer.toString(cqlPort));
        Process process = builder.start();
        if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new IllegalStateException(script + " " + command + " did not finish within " + timeout.toSeconds()
              + " s:\n" + Files.readString(out));
        }
        String output = Files.readString(out);
        if (process.exitValue() != 0) {
          throw new IllegalStateException(script + " " + command + " failed (exit " + process.exitValue() + "):\n"
              + output);
        }
        return output;
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new IllegalStateException("could not run " + script + " " + command + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + script + " " + command, e);
    }
  }

  private static Path repoRoot() {
    Path start = Path.of("").toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("tools/cassandra/cassandra.sh"))) {
        return dir;
      }
    }
    throw new IllegalStateException("nothing speaks CQL on " + HOST + ":" + configuredPort()
        + " and there is no tools/cassandra/cassandra.sh in " + start + " or above it to start a server; "
        + "start Cassandra yourself or set LAMINA_CASSANDRA_PORT");
  }

  /**
   * True when the port answers a CQL OPTIONS request (protocol v4) with SUPPORTED. An open port
   * alone is not enough: Cassandra opens it only once it serves CQL, but something else may hold it.
   */
  static boolean speaksCql(int cqlPort) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, cqlPort), 1000);
      socket.setSoTimeout(3000);
      OutputStream out = socket.getOutputStream();
      // version 4 request, no flags, stream 0, opcode OPTIONS (5), empty body
      out.write(new byte[] {0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00});
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] header = in.readNBytes(5);
      return header.length == 5 && (header[0] & 0xff) == 0x84 && header[4] == 0x06;  // response v4, SUPPORTED
    } catch (IOException e) {
      return false;
    }
  }
}
