package dev.lamina.loadtests;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one simulation measured beyond Gatling's own statistics, written to
 * {@code <lamina.results>/<Simulation>.json} for the report: latency samples with sub-millisecond
 * resolution (Gatling keeps whole milliseconds, too coarse for a 0.6 ms target), counts
 * (cold starts, throttles), scalars and sampled time series. Recording is thread-safe and cheap
 * enough for Gatling's event loops (an array append under a per-series lock).
 */
public final class Results {

  private final String simulation;
  private final Path dir;
  private final Map<String, Samples> samples = new ConcurrentHashMap<>();
  private final ObjectNode values = LaminaApi.JSON.createObjectNode();

  public Results(Target target, String simulation) {
    this.simulation = simulation;
    this.dir = target.results();
  }

  /** Milliseconds since {@code startNanos} (from {@link System#nanoTime()}), as a sample of {@code series}. */
  public void elapsed(String series, long startNanos) {
    add(series, (System.nanoTime() - startNanos) / 1e6);
  }

  public void add(String series, double value) {
    samples.computeIfAbsent(series, s -> new Samples()).add(value);
  }

  public double[] samples(String series) {
    Samples s = samples.get(series);
    return s == null ? new double[0] : s.toArray();
  }

  public synchronized Results put(String key, double value) {
    values.put(key, value);
    return this;
  }

  public synchronized Results put(String key, String value) {
    values.put(key, value);
    return this;
  }

  /** A sampled time series: column names and rows (the first column is seconds). */
  public synchronized Results table(String key, List<String> columns, List<double[]> rows) {
    ObjectNode table = values.putObject(key);
    ArrayNode names = table.putArray("columns");
    columns.forEach(names::add);
    ArrayNode data = table.putArray("rows");
    for (double[] row : rows) {
      ArrayNode r = data.addArray();
      for (double v : row) {
        r.add(v);
      }
    }
    return this;
  }

  /** Writes everything recorded; the file is replaced, so the report always reads the latest run. */
  public synchronized Path write() {
    ObjectNode root = LaminaApi.JSON.createObjectNode().put("simulation", simulation)
        .put("finished", java.time.Instant.now().toString());
    root.set("values", values);
    ObjectNode series = root.putObject("samples");
    samples.forEach((name, s) -> {
      ArrayNode a = series.putArray(name);
      for (double v : s.toArray()) {
        a.add(Math.round(v * 1000) / 1000.0);
      }
    });
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve(simulation + ".json");
      LaminaApi.JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A growable array of doubles. */
  private static final class Samples {
    private double[] values = new double[1024];
    private int size;

    synchronized void add(double v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }

    synchronized double[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
