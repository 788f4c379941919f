package dev.lamina.node.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.LaminaNode;
import dev.lamina.node.auth.AccessKey;
import dev.lamina.node.auth.NodeKeys;
import dev.lamina.node.auth.SigV4;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code lamina} command line: start a node, invoke a function, read its logs, work with queues. */
@Command(name = "lamina", mixinStandardHelpOptions = true, version = "lamina 0.1.0",
    description = "A self-hosted, AWS-Lambda-compatible function platform.",
    subcommands = {Main.Serve.class, Main.Invoke.class, Main.Logs.class, QueueCommand.class})
public final class Main implements Callable<Integer> {

  public static void main(String[] args) {
    // Stages chained on Pekko's ask results run on the JDK's common pool. On a 2-CPU machine it has
    // one thread, and below two the JDK starts a new thread for every such stage (one per accepted
    // event, measured: ~18,000 thread starts in 104 s). A pool of 8 keeps them pooled with room to
    // spare should a stage ever wait. Must be set before anything touches the pool.
    if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null
        && Runtime.getRuntime().availableProcessors() < 3) {
      System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism", "8");
    }
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 0;
  }

  @Command(name = "serve", description = "Start a node (embedded storage by default) and keep it running.")
  static final class Serve implements Callable<Integer> {
    @Option(names = "--port", description = "Lambda API port (default 9000)") Integer port;
    @Option(names = "--data-dir", description = "Data directory (default ./lamina-data)") String dataDir;
    @Option(names = "--config", description = "A HOCON file with lamina.* and pekko.* overrides") File config;
    @Option(names = "--profile", description = "embedded (default) or cluster") String profile;
    @Option(names = "--cluster-port", description = "cluster profile: port for the other nodes (default 25520)")
    Integer clusterPort;
    @Option(names = "--seed", split = ",", description = "cluster profile: host:port of nodes to join (none: form a cluster)")
    List<String> seeds;
    @Option(names = "--cassandra", split = ",", description = "cluster profile: Cassandra host:port (default 127.0.0.1:9142)")
    List<String> cassandra;
    @Option(names = "--roles", split = ",", description = "cluster profile: frontend,worker (default both)")
    List<String> roles;
    @Option(names = "--credentials-file", description = "the access keys to accept, an AWS shared-credentials file "
        + "(default <data-dir>/credentials; generated there on an embedded node's first start)")
    File credentialsFile;

    @Override
    public Integer call() throws Exception {
      Map<String, Object> overrides = new HashMap<>();
      if (port != null) {
        overrides.put("lamina.http.port", port);
      }
      if (dataDir != null) {
        overrides.put("lamina.data-dir", dataDir);
      }
      if (profile != null) {
        overrides.put("lamina.profile", profile);
      }
      if (clusterPort != null) {
        overrides.put("lamina.cluster.port", clusterPort);
      }
      if (seeds != null) {
        overrides.put("lamina.cluster.seed-nodes", seeds);
      }
      if (cassandra != null) {
        overrides.put("lamina.cassandra.contact-points", cassandra);
      }
      if (roles != null) {
        overrides.put("lamina.cluster.roles", roles);
      }
      if (credentialsFile != null) {
        overrides.put("lamina.auth.credentials-file", credentialsFile.getAbsolutePath());
      }
      Config c = ConfigFactory.parseMap(overrides);
      if (config != null) {
        c = c.withFallback(ConfigFactory.parseFile(config));
      }
      LaminaNode node = LaminaNode.start(c.withFallback(ConfigFactory.systemProperties()));
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        node.close();
        stopped.countDown();
      }, "lamina-shutdown"));
      System.out.println();
      System.out.println("Lamina is running. Lambda API endpoint: " + node.endpoint());
      printCredentials(node);
      var missing = node.isolation().missing();
      System.out.println("  sandboxes:   " + node.launcher() + ", isolation " + node.isolation().settings().mode().label()
          + (missing.isEmpty() ? " (every layer in force)" : " without " + String.join(", ", missing)));
      System.out.println("  cluster:     " + node.clusterAddress());
      System.out.println("  try:         aws lambda list-functions --endpoint-url " + node.endpoint());
      System.out.println("Press Ctrl-C to stop.");
      stopped.await();
      return 0;
    }
  }

  /** Where the node's access keys come from, and the key to use when it came from a file. */
  private static void printCredentials(LaminaNode node) {
    if (node.accessKeys().isEmpty()) {
      System.out.println("  credentials: none needed, authentication is OFF (lamina.auth.enabled = false: "
          + "development only)");
      return;
    }
    NodeKeys keys = node.accessKeys().get();
    if (keys.file() == null) {
      System.out.println("  credentials: " + keys.keys().size() + " access key(s) from lamina.auth.credentials "
          + "(requests must be signed with one)");
      return;
    }
    System.out.println("  credentials: " + (keys.generated() ? "a new key pair, saved in " : "from ") + keys.file()
        + " (requests must be signed with it)");
    AccessKey key = keys.clientKey();
    System.out.println("    export AWS_ACCESS_KEY_ID=" + key.accessKeyId() + " AWS_SECRET_ACCESS_KEY="
        + key.secretAccessKey() + " AWS_DEFAULT_REGION=us-east-1");
  }

  /** Options of the commands that talk to a node. */
  static class Client {
    @Option(names = "--endpoint", defaultValue = "http://127.0.0.1:9000", description = "the node's API endpoint")
    String endpoint;
    @Option(names = "--data-dir", description = "sign with the keys the node keeps in <dir>/credentials (default: "
        + "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, else ./lamina-data/credentials)")
    String dataDir;
  }

  @Command(name = "invoke", description = "Invoke a function and print its response (--async: queue it as an Event).")
  static final class Invoke extends Client implements Callable<Integer> {
    @Parameters(index = "0", description = "function name, name:qualifier or ARN") String function;
    @Option(names = "--qualifier", description = "version or alias to invoke") String qualifier;
    @Option(names = "--payload", defaultValue = "{}", description = "JSON payload") String payload;
    @Option(names = "--log", description = "also print the invocation's log tail") boolean tail;
    @Option(names = "--async", description = "an Event invocation: queued, answered with its request id")
    boolean async;

    @Override
    public Integer call() throws Exception {
      URI uri = URI.create(endpoint + "/2015-03-31/functions/" + SigV4.encode(function, false) + "/invocations"
          + (qualifier == null ? "" : "?Qualifier=" + SigV4.encode(qualifier, false)));
      Map<String, String> headers = new HashMap<>();
      if (tail) {
        headers.put("X-Amz-Log-Type", "Tail");
      }
      if (async) {
        headers.put("X-Amz-Invocation-Type", "Event");
      }
      HttpResponse<String> response = HttpClient.newHttpClient().send(ClientSigning.request("POST", uri, headers,
          payload.getBytes(StandardCharsets.UTF_8), ClientSigning.key(dataDir), "lambda").build(),
          HttpResponse.BodyHandlers.ofString());
      ClientSigning.explainRefusal(response);
      if (async) {
        if (response.statusCode() != 202) {
          System.err.println(response.body());
          return 1;
        }
        System.out.println("accepted " + response.headers().firstValue("x-amzn-RequestId").orElse(""));
        return 0;
      }
      System.out.println(response.body());
      response.headers().firstValue("X-Amz-Log-Result").ifPresent(l ->
          System.err.print(new String(Base64.getDecoder().decode(l), StandardCharsets.UTF_8)));
      System.err.flush();
      boolean failed = response.statusCode() != 200 || response.headers().firstValue("X-Amz-Function-Error").isPresent();
      return failed ? 1 : 0;
    }
  }

  @Command(name = "logs", description = "Print a function's logs (START/END/REPORT and its output).")
  static final class Logs extends Client implements Callable<Integer> {
    @Parameters(index = "0", description = "function name") String function;
    @Option(names = {"-f", "--follow"}, description = "keep printing new lines") boolean follow;

    @Override
    public Integer call() throws Exception {
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      AccessKey key = ClientSigning.key(dataDir);
      long offset = 0;
      do {
        URI uri = URI.create(endpoint + "/lamina/logs/" + SigV4.encode(function, false) + "?offset=" + offset);
        HttpResponse<String> response = client.send(ClientSigning.request("GET", uri, Map.of(), new byte[0], key,
            "lambda").build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          ClientSigning.explainRefusal(response);
          System.err.println(response.body());
          return 1;
        }
        System.out.print(response.body());
        System.out.flush();
        long next = Long.parseLong(response.headers().firstValue("X-Lamina-Next-Offset").orElse("0"));
        boolean more = next != offset && !response.body().isEmpty();
        offset = next;
        if (follow && !more) {
          Thread.sleep(500);
        }
      } while (follow);
      return 0;
    }
  }
}
