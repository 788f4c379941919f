package dev.lamina.loadtests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTest {

  private static final String NODE_A = """
      # HELP lamina_sandboxes\s
      # TYPE lamina_sandboxes gauge
      lamina_sandboxes{function="f",state="busy",version="$LATEST"} 3.0
      lamina_sandboxes{function="f",state="idle",version="$LATEST"} 2.0
      lamina_sandboxes{function="ff",state="idle",version="$LATEST"} 7.0
      lamina_sandboxes_extra{function="f"} 100.0
      lamina_worker_memory_used_megabytes 512.0
      """;
  private static final String NODE_B = """
      lamina_sandboxes{function="f",state="idle",version="1"} 4.0
      """;

  @Test
  void sumsTheSeriesWhoseLabelsMatchAcrossNodes() {
    assertEquals(9.0, Prometheus.sum(List.of(NODE_A, NODE_B), "lamina_sandboxes", Map.of("function", "f")));
    assertEquals(6.0, Prometheus.sum(List.of(NODE_A, NODE_B), "lamina_sandboxes",
        Map.of("function", "f", "state", "idle")));
    assertEquals(16.0, Prometheus.sum(List.of(NODE_A, NODE_B), "lamina_sandboxes", Map.of()));
  }

  @Test
  void unlabelledMetricsAndMissingNodes() {
    assertEquals(512.0, Prometheus.sum(List.of(NODE_A, ""), "lamina_worker_memory_used_megabytes", Map.of()));
    assertEquals(0.0, Prometheus.sum(List.of(NODE_B), "lamina_worker_memory_used_megabytes", Map.of()));
  }
}
