package dev.lamina.loadtests.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Turns one run's results directory (what {@code loadtests/run} leaves: the simulations' JSON,
 * the floors, the node's memory, Gatling's logs) into {@code report.md} — every figure beside the
 * floor measured in the same run, with their ratio — and the plots: latency percentiles, the
 * concurrency ramp, the cold start split, the async flood. A missing piece (a simulation not run)
 * leaves its rows out.
 *
 * <p>Usage: {@code Report <results dir>}.
 */
public final class Report {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final JsonNode floors;
  private final StringBuilder md = new StringBuilder();

  private Report(Path dir) throws IOException {
    this.dir = dir;
    this.floors = read("floors.json");
  }

  public static void main(String[] args) throws IOException {
    Report report = new Report(Path.of(args[0]));
    report.write();
    System.out.println(report.md);
  }

  private void write() throws IOException {
    Path machine = dir.resolve("machine.txt");
    md.append("Run of ").append(dir.getFileName()).append(" (UTC). ")
        .append(Files.exists(machine) ? Files.readString(machine).trim() : "machine not recorded").append(".\n\n");
    md.append("| measure | value | floor (same run) | × floor |\n|---|---|---|---|\n");
    warmLatency();
    warmThroughput();
    coldBurst();
    manyFunctions();
    concurrencyRamp();
    asyncFlood();
    recovery();
    memory();
    gates();
    Files.writeString(dir.resolve("report.md"), md);
  }

  // ---- the simulations ---------------------------------------------------------------------

  private void warmLatency() throws IOException {
    JsonNode r = read("WarmLatency.json");
    if (r == null) {
      return;
    }
    List<Charts.Series> series = new ArrayList<>();
    for (String runtime : r.path("values").path("runtimes").asText().split(",")) {
      double[] s = samples(r, runtime);
      double[] floor = floorSamples(runtime + ".runtimeApiRoundTrip");
      row("warm invoke, " + runtime + " no-op, one client, p50 / p99 (ms)", pair(s),
          floor.length == 0 ? "—" : "bare Runtime API round trip " + pair(floor),
          floor.length == 0 ? "—" : ratio(pct(s, 50), pct(floor, 50)));
      series.add(new Charts.Series(runtime, null, s));
    }
    double[] dry = samples(r, "dry run");
    if (dry.length > 0) {
      double[] python = samples(r, "python");
      row("  DryRun of the same request through the same client (client signing, loopback, HTTP, SigV4 check, "
              + "validation, cached config; no sandbox), p50 / p99 (ms)",
          pair(dry) + (python.length == 0 ? "" : " (" + fmt(100 * pct(dry, 50) / pct(python, 50), 0)
              + "% of the python warm p50)"), "—", "—");
    }
    for (String runtime : List.of("python", "node")) {
      double[] floor = floorSamples(runtime + ".runtimeApiRoundTrip");
      if (floor.length > 0) {
        series.add(new Charts.Series("floor: bare Runtime API round trip, " + runtime, null, floor));
      }
    }
    Charts.percentiles(dir.resolve("warm-latency.png"),
        "Warm invoke latency, one client, by percentile (" + r.path("values").path("invocations").asInt() + " calls each)",
        "ms", series);
  }

  private void warmThroughput() throws IOException {
    JsonNode r = read("WarmThroughput.json");
    if (r == null) {
      return;
    }
    JsonNode v = r.path("values");
    double[] s = samples(r, "invoke");
    double[] floor = floorSamples("python.runtimeApiRoundTrip");
    row("warm throughput, " + v.path("clients").asInt() + " clients, python no-op (invocations/s)",
        fmt(v.path("invocationsPerSecond").asDouble(), 0),
        floor.length == 0 ? "—" : "one bare Runtime API at a time: " + fmt(1000 / pct(floor, 50), 0) + "/s", "—");
    row("  latency under that load, p50 / p99 (ms); environments used", pair(s) + "; "
        + fmt(v.path("environmentsMax").asDouble(), 0), "—", "—");
  }

  private void coldBurst() throws IOException {
    JsonNode r = read("ColdBurst.json");
    if (r == null) {
      return;
    }
    JsonNode v = r.path("values");
    double[] client = samples(r, "cold single");
    double[] init = samples(r, "init single");
    double[] handler = samples(r, "handler single");
    double[] platform = new double[Math.min(client.length, Math.min(init.length, handler.length))];
    for (int i = 0; i < platform.length; i++) {
      platform[i] = client[i] - init[i] - handler[i];
    }
    double[] bootstrap = floorSamples("python.bootstrapCold");
    double[] start = floorSamples("python.processStart");
    row("cold start, python no-op, first invocation as the client sees it, p50 / p99 (ms)", pair(client),
        bootstrap.length == 0 ? "—" : "bare bootstrap to first /next " + pair(bootstrap),
        bootstrap.length == 0 ? "—" : ratio(pct(client, 50), pct(bootstrap, 50)));
    row("  of which runtime init (REPORT Init Duration), p50 (ms)", fmt(pct(init, 50), 1),
        bootstrap.length == 0 ? "—" : "bare bootstrap " + fmt(pct(bootstrap, 50), 1)
            + (start.length == 0 ? "" : " (`python3 -S -c pass` " + fmt(pct(start, 50), 1) + ")"),
        bootstrap.length == 0 ? "—" : ratio(pct(init, 50), pct(bootstrap, 50)));
    row("  of which the platform (client − init − handler), p50 / p99 (ms)", pair(platform), "—", "—");
    int burst = v.path("burst").asInt();
    double cold = v.path("burstColdStarts").asDouble();
    int cores = floors == null ? Runtime.getRuntime().availableProcessors()
        : floors.path("machine").path("cores").asInt(Runtime.getRuntime().availableProcessors());
    double perCore = bootstrap.length == 0 ? Double.NaN : cold * pct(bootstrap, 50) / cores;
    row("burst of " + burst + " at once on an idle python function (each call sleeps "
            + fmt(v.path("burstSleepSeconds").asDouble() * 1000, 0) + " ms): cold starts / warm / throttled",
        fmt(cold, 0) + " / " + fmt(v.path("burstWarm").asDouble(), 0) + " / " + fmt(v.path("burstThrottles").asDouble(), 0),
        "—", "—");
    row("  time until all its environments were up: metrics (50 ms samples) / last cold answer minus the "
            + fmt(v.path("burstSleepSeconds").asDouble() * 1000, 0) + " ms sleep (ms)",
        fmt(v.path("burstEnvironmentsUpMs").asDouble(), 0) + " / " + fmt(v.path("burstLastColdReadyMs").asDouble(), 0),
        Double.isNaN(perCore) ? "—" : fmt(cold, 0) + " bare bootstraps on " + cores + " cores: " + fmt(perCore, 0),
        Double.isNaN(perCore) ? "—" : ratio(v.path("burstLastColdReadyMs").asDouble(), perCore));
    Charts.bars(dir.resolve("cold-start.png"), "Python cold start, p50 (ms)", "ms",
        List.of("Lamina: first invocation", "floor: bare bootstrap to first /next"),
        List.of(new double[] {pct(platform, 50), pct(init, 50), pct(handler, 50)},
            new double[] {0, bootstrap.length == 0 ? 0 : pct(bootstrap, 50), 0}),
        List.of("platform", "runtime init", "handler"));
  }

  private void manyFunctions() throws IOException {
    JsonNode r = read("ManyFunctions.json");
    if (r == null) {
      return;
    }
    JsonNode v = r.path("values");
    double[] s = samples(r, "invoke");
    row(v.path("clients").asInt() + " clients round-robin over " + v.path("functions").asInt() + " functions of "
            + v.path("memoryMb").asInt() + " MB (node offers " + fmt(v.path("capacityMb").asDouble(), 0)
            + " MB): invocations / cold starts / throttled",
        s.length + " / " + fmt(v.path("coldStarts").asDouble(), 0) + " / " + fmt(v.path("throttles").asDouble(), 0),
        "—", "—");
    row("  cold starts per second, each evicting an idle environment when the memory is full",
        fmt(v.path("coldStarts").asDouble() / v.path("seconds").asDouble(), 1), "—", "—");
    row("  latency with " + v.path("clients").asInt() + " cold starts at a time, p50 / p99 (ms)", pair(s), "—", "—");
  }

  private void concurrencyRamp() throws IOException {
    JsonNode r = read("ConcurrencyRamp.json");
    if (r == null) {
      return;
    }
    JsonNode v = r.path("values");
    double[] s = samples(r, "invoke");
    double sleep = v.path("sleepSeconds").asDouble() * 1000;
    row("ramp 0 → " + v.path("peak").asInt() + " clients in " + fmt(v.path("rampSeconds").asDouble(), 0)
            + " s of a " + fmt(sleep, 0) + " ms sleeper: most environments at once",
        fmt(v.path("environmentsMax").asDouble(), 0), v.path("peak").asInt() + " clients", "—");
    row("  its invocations, p50 / p99 (ms)", pair(s), "the sleep: " + fmt(sleep, 0), ratio(pct(s, 50), sleep));
    JsonNode table = v.path("scale");
    List<Charts.Series> lines = new ArrayList<>();
    for (int c = 1; c < table.path("columns").size() + 1; c++) {
      lines.add(column(table, c));
    }
    Charts.lines(dir.resolve("concurrency-ramp.png"), "Scale-out: clients in flight and environments running",
        "seconds", "count", lines);
  }

  private void asyncFlood() throws IOException {
    JsonNode r = read("AsyncFlood.json");
    if (r == null) {
      return;
    }
    JsonNode v = r.path("values");
    double[] accept = samples(r, "accept");
    double[] first = samples(r, "accept, first 5 s");
    double[] lag = samples(r, "lag");
    row("Event invocations offered at " + v.path("rate").asInt() + "/s for " + fmt(v.path("seconds").asDouble(), 0)
        + " s: accepted per second", fmt(v.path("acceptedPerSecond").asDouble(), 0), "—", "—");
    double[] warm = samples(read("WarmLatency.json"), "python");
    row("  accept (202, durable) in the first 5 s, while the function scales out, p50 / p99 (ms); environments, cold starts",
        pair(first) + "; " + fmt(v.path("environmentsMax").asDouble(), 0) + ", " + fmt(v.path("coldStarts").asDouble(), 0),
        "—", "—");
    row("  accept (202, durable) after that, p50 / p99 (ms)", pair(accept), warm.length == 0 ? "—" : "warm sync invoke " + pair(warm),
        warm.length == 0 ? "—" : ratio(pct(accept, 50), pct(warm, 50)));
    row("  accepted → completed lag, p50 / p99 / max (ms, 50 ms resolution); drain after the last accept (ms)",
        fmt(pct(lag, 50), 0) + " / " + fmt(pct(lag, 99), 0) + " / " + fmt(pct(lag, 100), 0) + "; "
            + fmt(v.path("drainAfterLastAcceptMs").asDouble(), 0), "—", "—");
    JsonNode table = v.path("events");
    Charts.lines(dir.resolve("async-flood.png"), "Event invocations: accepted and completed", "seconds", "events",
        List.of(column(table, 1), column(table, 2)));
  }

  private void recovery() throws IOException {
    JsonNode r = read("Recovery.json");
    if (r == null) {
      return;
    }
    double[] warm = samples(read("WarmLatency.json"), "python");
    double[] cold = samples(read("ColdBurst.json"), "cold single");
    for (String kind : List.of("throw", "timeout", "crash")) {
      double[] s = samples(r, "after " + kind);
      double[] floor = kind.equals("throw") ? warm : cold;
      row("next invocation after the function's " + kind + " (" + r.path("values").path("rounds").asInt()
              + " rounds; checked to run in " + (kind.equals("throw") ? "the same" : "a new") + " environment), p50 / max (ms)",
          fmt(pct(s, 50), 1) + " / " + fmt(pct(s, 100), 1),
          floor.length == 0 ? "—" : (kind.equals("throw") ? "warm invoke " : "cold start ") + fmt(pct(floor, 50), 1),
          floor.length == 0 ? "—" : ratio(pct(s, 50), pct(floor, 50)));
    }
  }

  private void memory() throws IOException {
    JsonNode idle = read("memory-idle.json");
    if (idle != null) {
      row("node at idle: heap after a full GC / resident set (MB); threads", fmt(kib(idle, "heapUsedKiB") / 1024, 1)
          + " / " + fmt(kib(idle, "rssKiB") / 1024, 0) + "; " + idle.path("threads").asInt(), "—", "—");
    }
    JsonNode with = read("memory-ramp.json");
    JsonNode without = read("memory-after-ramp.json");
    if (with != null && without != null) {
      double n = with.path("idleEnvironments").asDouble() - without.path("idleEnvironments").asDouble();
      if (n > 0) {
        row("node memory per idle environment (" + fmt(n, 0) + " idle, then their function deleted): heap / "
                + "resident set (KB); threads",
            fmt((kib(with, "heapUsedKiB") - kib(without, "heapUsedKiB")) / n, 1) + " / "
                + fmt((kib(with, "rssKiB") - kib(without, "rssKiB")) / n, 1) + "; "
                + fmt((with.path("threads").asDouble() - without.path("threads").asDouble()) / n, 2), "—", "—");
      }
    }
  }

  private static double kib(JsonNode reading, String field) {
    return reading.path(field).asDouble();
  }

  private void gates() throws IOException {
    md.append("\nGatling assertions (no failed request, expected throttles aside): ");
    List<String> gates = new ArrayList<>();
    for (String sim : List.of("WarmLatency", "WarmThroughput", "ColdBurst", "ManyFunctions", "ConcurrencyRamp",
        "AsyncFlood", "Recovery")) {
      Path status = dir.resolve(sim + ".status");
      if (Files.exists(status)) {
        gates.add(sim + " " + Files.readString(status).trim());
      }
    }
    md.append(String.join(", ", gates)).append(".\n");
  }

  // ---- helpers ------------------------------------------------------------------------------

  private JsonNode read(String name) throws IOException {
    Path file = dir.resolve(name);
    return Files.exists(file) ? JSON.readTree(file.toFile()) : null;
  }

  private static double[] samples(JsonNode result, String series) {
    if (result == null) {
      return new double[0];
    }
    JsonNode a = result.path("samples").path(series);
    double[] s = new double[a.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = a.get(i).asDouble();
    }
    return s;
  }

  private double[] floorSamples(String key) {
    if (floors == null) {
      return new double[0];
    }
    for (JsonNode f : floors.path("floors")) {
      if (f.path("key").asText().equals(key)) {
        JsonNode a = f.path("samples");
        double[] s = new double[a.size()];
        for (int i = 0; i < s.length; i++) {
          s[i] = a.get(i).asDouble();
        }
        return s;
      }
    }
    return new double[0];
  }

  private static Charts.Series column(JsonNode table, int c) {
    JsonNode rows = table.path("rows");
    double[] x = new double[rows.size()];
    double[] y = new double[rows.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = rows.get(i).get(0).asDouble();
      y[i] = rows.get(i).get(c).asDouble();
    }
    return new Charts.Series(table.path("columns").get(c - 1).asText(), x, y);
  }

  /** The nearest-rank percentile {@code p} (0–100) of {@code samples}; NaN when there are none. */
  static double pct(double[] samples, double p) {
    if (samples.length == 0) {
      return Double.NaN;
    }
    double[] sorted = samples.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** p50 / p99; with fewer than 100 samples the "p99" is the maximum, so n is shown. */
  private static String pair(double[] s) {
    return fmt(pct(s, 50), 3) + " / " + fmt(pct(s, 99), 2) + (s.length < 100 ? " (n=" + s.length + ")" : "");
  }

  private static String ratio(double value, double floor) {
    return Double.isNaN(value) || Double.isNaN(floor) || floor == 0 ? "—" : fmt(value / floor, 2) + "×";
  }

  static String fmt(double v, int decimals) {
    return Double.isNaN(v) ? "—" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  private void row(String measure, String value, String floor, String ratio) {
    md.append("| ").append(measure).append(" | ").append(value).append(" | ").append(floor).append(" | ")
        .append(ratio).append(" |\n");
  }
}
