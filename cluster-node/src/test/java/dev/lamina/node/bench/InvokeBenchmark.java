package dev.lamina.node.bench;

import static dev.lamina.node.bench.Floors.ms;
import static dev.lamina.node.bench.Floors.row;

import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.SdkBytes;

/**
 * What users feel, beside the physical floors measured in the same run (not a test: run it with
 * {@code bench/invoke-benchmark}). Prints a Markdown table for BENCHMARKS.md.
 *
 * <ul>
 *   <li>the python floors of {@link Floors}: bare {@code python3 -S -c pass} process start;
 *       Lamina's python bootstrap against a minimal Runtime API endpoint (JDK HttpServer, no
 *       platform in between) — cold start to first {@code /next}, and the warm event→response
 *       round trip;
 *   <li>Lamina: cold invoke of a python no-op through the HTTP API (client-observed, and the
 *       REPORT's Init Duration), warm invoke p50/p99 through the HTTP API.
 * </ul>
 */
public final class InvokeBenchmark {

  private static final int COLD_FUNCTIONS = 15;
  private static final int WARM_UP = 3000;

  public static void main(String[] args) throws Exception {
    int warm = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    boolean floors = args.length < 2 || !args[1].equals("--no-floors");
    List<String[]> rows = new ArrayList<>();

    if (floors) {
      try (Floors measuring = Floors.prepare(Floors.DEFAULT_MEMORY_MB)) {
        Floors.Counts d = Floors.Counts.defaults(Floors.Family.PYTHON);
        Floors.Measured python = measuring.measure(Floors.Family.PYTHON,
            new Floors.Counts(d.starts(), d.colds(), d.warmUp(), warm));
        rows.add(row("floor: `python3 -S -c pass` process start", python.processStart().samples()));
        rows.add(row("floor: bootstrap cold start to first `/next`, minimal endpoint, no sandbox",
            python.bootstrapCold().samples()));
        rows.add(row("floor: warm Runtime API round trip (event → response), minimal endpoint",
            python.runtimeApiRoundTrip().samples()));
      }
    }

    // -D overrides (e.g. dispatcher settings) reach the node, for experiments.
    try (TestNode node = TestNode.start(Files.createTempDirectory("lamina-bench-"), true,
        com.typesafe.config.ConfigFactory.systemProperties())) {
      SdkBytes noop = Examples.zipOf("python/noop");
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      List<Double> cold = new ArrayList<>();
      List<Double> init = new ArrayList<>();
      for (int i = 0; i < COLD_FUNCTIONS; i++) {
        String name = "cold-" + i;
        Functions.create(node.lambda(), name, "python3.12", "noop.handler", noop);
        long t = System.nanoTime();
        HttpResponse<String> r = invoke(http, node.endpoint(), name, true);
        cold.add(ms(t));
        String log = new String(java.util.Base64.getDecoder().decode(
            r.headers().firstValue("X-Amz-Log-Result").orElseThrow()), StandardCharsets.UTF_8);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Init Duration: ([0-9.]+) ms").matcher(log);
        if (m.find()) {
          init.add(Double.parseDouble(m.group(1)));
        }
      }
      rows.add(row("Lamina: cold invoke, python no-op, client-observed via HTTP (" + node.node().launcher() + ")", cold));
      rows.add(row("Lamina: REPORT Init Duration of those cold starts", init));

      Functions.create(node.lambda(), "warm", "python3.12", "noop.handler", noop);
      rows.add(row("Lamina: warm invoke, python no-op, via HTTP API (sequential, one client)",
          warmInvokes(http, node.endpoint(), "warm", warm)));

      // Through an alias sending 10% to a second version: resolution and the weighted pick are
      // cached per alias; the two versions have warm sandboxes of their own.
      node.lambda().publishVersion(p -> p.functionName("warm"));
      node.lambda().updateFunctionConfiguration(u -> u.functionName("warm").description("second version"));
      node.lambda().publishVersion(p -> p.functionName("warm"));
      node.lambda().createAlias(a -> a.functionName("warm").name("live").functionVersion("1")
          .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.1))));
      rows.add(row("Lamina: warm invoke through an alias weighted 90/10 between two versions",
          warmInvokes(http, node.endpoint(), "warm:live", warm)));

      // The same request as DryRun: parsing, validation and the cached config, no sandbox.
      List<Double> dryRun = new ArrayList<>();
      for (int i = 0; i < warm; i++) {
        long t = System.nanoTime();
        HttpResponse<String> r = http.send(SignedHttp.request("POST", node.endpoint()
            + "/2015-03-31/functions/warm/invocations", Map.of("X-Amz-Invocation-Type", "DryRun"), "{}"),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 204) {
          throw new IllegalStateException("DryRun failed: " + r.statusCode());
        }
        dryRun.add(ms(t));
      }
      rows.add(row("Lamina: DryRun invoke via HTTP API (front end only, no sandbox)", dryRun));

      // What concurrency accounting costs per invocation: the same warm no-op on this node and
      // on a second one with accounting bypassed, alternating call by call so that both see the
      // same JIT state and the same noise.
      try (TestNode bare = TestNode.start(Files.createTempDirectory("lamina-bench-bare-"), true,
          com.typesafe.config.ConfigFactory.parseString("lamina.concurrency.accounting = off")
              .withFallback(com.typesafe.config.ConfigFactory.systemProperties()))) {
        Functions.create(bare.lambda(), "warm", "python3.12", "noop.handler", noop);
        for (int i = 0; i < WARM_UP; i++) {
          invoke(http, bare.endpoint(), "warm", false);
        }
        List<Double> on = new ArrayList<>();
        List<Double> off = new ArrayList<>();
        for (int i = 0; i < warm; i++) {
          long t = System.nanoTime();
          invoke(http, node.endpoint(), "warm", false);
          on.add(ms(t));
          t = System.nanoTime();
          invoke(http, bare.endpoint(), "warm", false);
          off.add(ms(t));
        }
        rows.add(row("Lamina: warm invoke, accounting on (alternating with the next row)", on));
        rows.add(row("Lamina: warm invoke, accounting off, second node (alternating)", off));
      }

      // What authentication costs: DryRun signed to this node and unsigned to a node with
      // lamina.auth.enabled = false, alternating; and the client's signing alone (no network).
      try (TestNode open = TestNode.start(Files.createTempDirectory("lamina-bench-open-"), true,
          com.typesafe.config.ConfigFactory.parseString("lamina.auth.enabled = false")
              .withFallback(com.typesafe.config.ConfigFactory.systemProperties()))) {
        Functions.create(open.lambda(), "warm", "python3.12", "noop.handler", noop);
        String signedUrl = node.endpoint() + "/2015-03-31/functions/warm/invocations";
        HttpRequest unsigned = HttpRequest.newBuilder(URI.create(open.endpoint() + "/2015-03-31/functions/warm/invocations"))
            .header("X-Amz-Invocation-Type", "DryRun").POST(HttpRequest.BodyPublishers.ofString("{}")).build();
        List<Double> signedRows = new ArrayList<>();
        List<Double> unsignedRows = new ArrayList<>();
        List<Double> signing = new ArrayList<>();
        for (int i = 0; i < WARM_UP + warm; i++) {
          long t = System.nanoTime();
          HttpRequest request = SignedHttp.request("POST", signedUrl, Map.of("X-Amz-Invocation-Type", "DryRun"), "{}");
          double signMs = ms(t);
          int a = http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
          double signedMs = ms(t);
          t = System.nanoTime();
          int b = http.send(unsigned, HttpResponse.BodyHandlers.ofString()).statusCode();
          double unsignedMs = ms(t);
          if (a != 204 || b != 204) {
            throw new IllegalStateException("DryRun failed: " + a + " / " + b);
          }
          if (i >= WARM_UP) {
            signing.add(signMs);
            signedRows.add(signedMs);
            unsignedRows.add(unsignedMs);
          }
        }
        rows.add(row("Lamina: DryRun, signed by the client and verified (alternating with the next row)", signedRows));
        rows.add(row("Lamina: DryRun, unsigned, node with lamina.auth.enabled = false (alternating)", unsignedRows));
        rows.add(row("client only: signing that request (the AWS SDK v2 signer), within the first row", signing));
      }
    }

    System.out.println("| what | n | p50 ms | p99 ms | min ms |");
    System.out.println("|---|---|---|---|---|");
    for (String[] r : rows) {
      System.out.println("| " + String.join(" | ", r) + " |");
    }
  }

  /**
   * Times {@code n} sequential invocations of {@code name} after {@link #WARM_UP} untimed ones: a
   * node runs for days, so measure after the JIT has compiled the invoke path.
   */
  private static List<Double> warmInvokes(HttpClient http, String endpoint, String name, int n)
      throws IOException, InterruptedException {
    for (int i = 0; i < WARM_UP; i++) {
      invoke(http, endpoint, name, false);
    }
    List<Double> samples = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long t = System.nanoTime();
      invoke(http, endpoint, name, false);
      samples.add(ms(t));
    }
    return samples;
  }

  private static HttpResponse<String> invoke(HttpClient http, String endpoint, String name, boolean tail)
      throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(SignedHttp.request("POST", endpoint + "/2015-03-31/functions/" + name
        + "/invocations", tail ? Map.of("X-Amz-Log-Type", "Tail") : Map.of(), "{}"), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200 || r.headers().firstValue("X-Amz-Function-Error").isPresent()) {
      throw new IllegalStateException("invoke failed: " + r.statusCode() + " " + r.body());
    }
    return r;
  }
}
