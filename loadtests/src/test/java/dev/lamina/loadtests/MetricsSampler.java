package dev.lamina.loadtests;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToDoubleFunction;

/**
 * Samples the nodes' metrics on its own thread while a simulation runs: each probe is a named
 * function of the scraped texts (say, the execution environments of one function), recorded with
 * the seconds since {@link #start()}. A scrape of /metrics is one small GET per node.
 */
public final class MetricsSampler implements AutoCloseable {

  private final LaminaApi api;
  private final long periodMillis;
  private final Map<String, ToDoubleFunction<List<String>>> probes = new LinkedHashMap<>();
  private final List<double[]> rows = new ArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean();
  private Thread thread;
  private long startNanos;

  public MetricsSampler(LaminaApi api, long periodMillis) {
    this.api = api;
    this.periodMillis = periodMillis;
  }

  public MetricsSampler probe(String name, ToDoubleFunction<List<String>> probe) {
    probes.put(name, probe);
    return this;
  }

  /** The sum of {@code metric} over the series with {@code labels}, as a probe. */
  public MetricsSampler sum(String name, String metric, Map<String, String> labels) {
    return probe(name, texts -> Prometheus.sum(texts, metric, labels));
  }

  public synchronized MetricsSampler start() {
    startNanos = System.nanoTime();
    running.set(true);
    thread = new Thread(this::run, "metrics-sampler");
    thread.setDaemon(true);
    thread.start();
    return this;
  }

  private void run() {
    long next = System.nanoTime();
    while (running.get()) {
      sampleOnce();
      // A scrape slower than the period is not caught up with: samples never come back to back.
      next = Math.max(next + periodMillis * 1_000_000L, System.nanoTime());
      long wait = next - System.nanoTime();
      if (wait > 0) {
        try {
          Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  /**
   * One sample now (also used for a last sample after the load stops), timed when the scrape is
   * sent. A scrape that fails on any node leaves no row: a missing counter would read as zero.
   */
  public void sampleOnce() {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    List<String> texts = api.metrics();
    if (texts.contains(null)) {
      return;
    }
    double[] row = new double[probes.size() + 1];
    row[0] = seconds;
    int i = 1;
    for (ToDoubleFunction<List<String>> probe : probes.values()) {
      row[i++] = probe.applyAsDouble(texts);
    }
    synchronized (rows) {
      rows.add(row);
    }
  }

  /** {@code nanos} (a {@link System#nanoTime()} value) on this sampler's clock: seconds since its start. */
  public double seconds(long nanos) {
    return (nanos - startNanos) / 1e9;
  }

  /** The probes' names, in column order after the time column. */
  public List<String> names() {
    return List.copyOf(probes.keySet());
  }

  /** Every sample so far: {seconds, probe values…}. */
  public List<double[]> rows() {
    synchronized (rows) {
      return List.copyOf(rows);
    }
  }

  /** Takes a last sample and stops: the table then ends with the state after the load. */
  public void finish() {
    sampleOnce();
    close();
  }

  /** The time (seconds) of the first sample at or after {@code from} where {@code probe} reached {@code atLeast}. */
  public double firstReaching(String probe, double atLeast, double from) {
    int column = names().indexOf(probe) + 1;
    return rows().stream().filter(r -> r[0] >= from && r[column] >= atLeast).mapToDouble(r -> r[0]).findFirst()
        .orElse(Double.NaN);
  }

  /** The largest value a probe reached. */
  public double max(String name) {
    int column = names().indexOf(name) + 1;
    return rows().stream().mapToDouble(r -> r[column]).max().orElse(0);
  }

  /** Stops sampling; a scrape under way finishes (its row is kept), then the thread ends. */
  @Override
  public void close() {
    running.set(false);
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      try {
        t.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
