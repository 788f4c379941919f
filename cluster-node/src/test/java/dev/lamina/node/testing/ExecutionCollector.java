package dev.lamina.node.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Where test functions report that they ran: an HTTP server on loopback that a function POSTs
 * ids to, one per line. Sandboxes cannot write host files (bubblewrap: private /tmp, read-only
 * code) but share the host's network, where the node lets them reach this server's port
 * ({@link #nodeConfig()}); it lives in the test JVM, so a node killed with SIGKILL loses none of
 * what reached it.
 *
 * <p>Each id is appended to {@code file} ({@code <life> <id>}) and counted per node life: the
 * test calls {@link #nextLife()} when it kills the node, so a duplicate can be told apart as
 * "across the crash" (allowed) or "within one life" (not).
 *
 * <p>It also keeps a gate that functions may poll before they report ({@code GET <url>gate}
 * answers {@code open} or {@code closed}; open until {@link #closeGate()}), so that a test can
 * hold invocations back and let them run at a moment of its choosing.
 */
public final class ExecutionCollector implements AutoCloseable {

  private final HttpServer server;
  private final ExecutorService threads;
  private final BufferedWriter file;
  private final Map<String, List<Integer>> lives = new ConcurrentHashMap<>();
  private volatile int life = 1;
  private volatile boolean gateOpen = true;

  private ExecutionCollector(HttpServer server, ExecutorService threads, BufferedWriter file) {
    this.server = server;
    this.threads = threads;
    this.file = file;
  }

  public static ExecutionCollector start(Path file) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    ExecutorService threads = Executors.newFixedThreadPool(32);
    ExecutionCollector collector = new ExecutionCollector(server, threads,
        Files.newBufferedWriter(file, StandardCharsets.UTF_8));
    server.createContext("/", exchange -> {
      try (InputStream in = exchange.getRequestBody()) {
        String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        for (String id : body.split("\n")) {
          if (!id.isBlank()) {
            collector.record(id.strip());
          }
        }
        exchange.sendResponseHeaders(204, -1);
      } finally {
        exchange.close();
      }
    });
    server.createContext("/gate", exchange -> {
      try (InputStream in = exchange.getRequestBody()) {
        in.readAllBytes();
        byte[] state = (collector.gateOpen ? "open" : "closed").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, state.length);
        exchange.getResponseBody().write(state);
      } finally {
        exchange.close();
      }
    });
    server.setExecutor(threads);
    server.start();
    return collector;
  }

  /** The URL a function POSTs its ids to. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
  }

  /**
   * Node configuration that lets sandboxes reach this collector: isolated sandboxes may connect
   * to no port of this host except those an operator lists.
   */
  public String nodeConfig() {
    return "\nlamina.sandbox.confinement.reachable-local-ports = [" + server.getAddress().getPort() + "]\n";
  }

  /** The URL functions poll for the gate: {@code open} or {@code closed}. */
  public String gateUrl() {
    return url() + "gate";
  }

  /** Functions that poll the gate wait from now on. */
  public void closeGate() {
    gateOpen = false;
  }

  /** Functions that poll the gate go on. */
  public void openGate() {
    gateOpen = true;
  }

  private void record(String id) {
    int now = life;
    lives.computeIfAbsent(id, k -> java.util.Collections.synchronizedList(new ArrayList<>(2))).add(now);
    synchronized (file) {
      try {
        file.write(now + " " + id + "\n");
        file.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** The node was killed: executions from now on belong to its next life. */
  public void nextLife() {
    life++;
  }

  /** How many times {@code id} ran. */
  public int executions(String id) {
    List<Integer> l = lives.get(id);
    return l == null ? 0 : l.size();
  }

  /** Ran more than once within one node life (not explained by the crash). */
  public boolean duplicatedWithinALife(String id) {
    List<Integer> l = lives.get(id);
    if (l == null) {
      return false;
    }
    synchronized (l) {
      return l.stream().distinct().count() < l.size();
    }
  }

  /** How many of {@code ids} ran at least once. */
  public long executedAmong(Collection<String> ids) {
    return ids.stream().filter(lives::containsKey).count();
  }

  /** How many distinct ids ran. */
  public int distinct() {
    return lives.size();
  }

  /** Every id that ran. */
  public java.util.Set<String> ids() {
    return java.util.Set.copyOf(lives.keySet());
  }

  @Override
  public void close() throws IOException {
    server.stop(0);
    threads.shutdownNow();
    try {
      threads.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (file) {
      file.close();
    }
  }
}
