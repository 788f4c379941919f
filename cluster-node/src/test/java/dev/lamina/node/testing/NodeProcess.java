package dev.lamina.node.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Lamina node running as a separate JVM ({@code lamina serve}), so that a test can kill it with
 * SIGKILL and start it again on the same data directory: a crash, not a shutdown.
 *
 * <p>The child runs this JVM's {@code java} on surefire's classpath (the test classpath, which
 * holds the node and its dependencies; a manifest-only booter jar works too, its manifest lists
 * them). It listens on loopback only and accepts the test key of {@link SignedHttp} (written into
 * its data directory's credentials file unless one is there). Its stdout and stderr go to {@code <logDir>/<label>.out} and
 * {@code .err}, which {@link #tail(int)} prints on failure. {@link #close()} never leaves it running.
 */
public final class NodeProcess implements AutoCloseable {

  private static final Duration READY_LIMIT = Duration.ofSeconds(90);

  private final Process process;
  private final int port;
  private final Path out;
  private final Path err;

  private NodeProcess(Process process, int port, Path out, Path err) {
    this.process = process;
    this.port = port;
    this.out = out;
    this.err = err;
  }

  /**
   * Starts {@code lamina serve} on {@code dataDir} and {@code port} with the HOCON file
   * {@code config}, and waits (bounded) until {@code /health} answers 200.
   */
  public static NodeProcess start(Path dataDir, int port, Path config, Path logDir, String label)
      throws IOException, InterruptedException {
    return start(dataDir, port, config, logDir, label, List.of("-Xmx1g"), List.of(), READY_LIMIT);
  }

  /**
   * The same with the child's heap and other JVM options ({@code jvmOptions}, e.g. {@code -Xmx768m}),
   * further {@code serve} arguments ({@code extraArgs}, e.g. {@code --cluster-port=N}) and how long
   * it may take until {@code /health} answers ({@code healthLimit}).
   */
  public static NodeProcess start(Path dataDir, int port, Path config, Path logDir, String label,
      List<String> jvmOptions, List<String> extraArgs, Duration healthLimit) throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse(
        Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Files.createDirectories(dataDir);
    TestNode.writeTestKey(dataDir);
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(jvmOptions);
    command.addAll(List.of("-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        "dev.lamina.node.cli.Main", "serve",
        "--data-dir=" + dataDir.toAbsolutePath(), "--port=" + port, "--config=" + config.toAbsolutePath()));
    command.addAll(extraArgs);
    Files.createDirectories(dataDir);
    TestNode.openToSandboxes(dataDir);
    Files.createDirectories(logDir);
    Path out = logDir.resolve(label + ".out");
    Path err = logDir.resolve(label + ".err");
    Process process = new ProcessBuilder(command)
        .redirectOutput(out.toFile())
        .redirectError(err.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
    NodeProcess node = new NodeProcess(process, port, out, err);
    try {
      node.awaitHealthy(healthLimit);
    } catch (IOException | RuntimeException | InterruptedException | AssertionError e) {
      node.close();
      throw e;
    }
    return node;
  }

  /** A free loopback port (free when asked; the child binds it moments later). */
  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  private void awaitHealthy(Duration limit) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest health = HttpRequest.newBuilder(URI.create(endpoint() + "/health"))
        .timeout(Duration.ofSeconds(5)).build();
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("the node exited with " + process.exitValue() + " before it was healthy\n" + tail(60));
      }
      try {
        if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the node was not healthy within " + limit + "\n" + tail(60));
  }

  /** SIGKILL (on Linux {@link Process#destroyForcibly()} sends it), and waits until the process is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("node process " + process.pid() + " survived SIGKILL for 30 s");
    }
  }

  /** Sends SIGTERM (the node leaves gracefully) and returns at once; see {@link #awaitExit(Duration)}. */
  public void terminate() {
    process.destroy();
  }

  /** Waits up to {@code limit} for the process to end; true when it has. */
  public boolean awaitExit(Duration limit) throws InterruptedException {
    return process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The exit code of an ended process. */
  public int exitValue() {
    return process.exitValue();
  }

  /** The last {@code lines} lines of the child's stdout and stderr. */
  public String tail(int lines) {
    return "---- " + out + " (tail)\n" + tailOf(out, lines) + "---- " + err + " (tail)\n" + tailOf(err, lines);
  }

  private static String tailOf(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
      StringBuilder b = new StringBuilder();
      all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> b.append(l).append('\n'));
      return b.toString();
    } catch (IOException e) {
      return "(unreadable: " + e + ")\n";
    }
  }

  /** Stops the node if it still runs: SIGTERM (its shutdown stops its sandboxes), SIGKILL after 30 s. */
  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
