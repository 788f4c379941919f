package dev.lamina.loadtests;

import java.util.List;
import java.util.Map;

/**
 * Reads the node's {@code /metrics} (Prometheus text format) the way a dashboard does: the sum of
 * one metric over the series whose labels match, across the nodes of a cluster.
 */
public final class Prometheus {

  private Prometheus() {}

  /** The sum of {@code metric} over every series of every text whose labels include {@code labels}. */
  public static double sum(List<String> texts, String metric, Map<String, String> labels) {
    double sum = 0;
    for (String text : texts) {
      sum += sum(text, metric, labels);
    }
    return sum;
  }

  static double sum(String text, String metric, Map<String, String> labels) {
    double sum = 0;
    int at = 0;
    while (at < text.length()) {
      int end = text.indexOf('\n', at);
      if (end < 0) {
        end = text.length();
      }
      String line = text.substring(at, end);
      at = end + 1;
      if (line.startsWith(metric) && matches(line, metric, labels)) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  private static boolean matches(String line, String metric, Map<String, String> labels) {
    char next = line.length() > metric.length() ? line.charAt(metric.length()) : ' ';
    if (next == ' ') {
      return labels.isEmpty();
    }
    if (next != '{') {
      return false; // another metric sharing the prefix (lamina_sandboxes_x)
    }
    String body = line.substring(metric.length() + 1, line.lastIndexOf('}'));
    for (Map.Entry<String, String> label : labels.entrySet()) {
      if (!body.contains(label.getKey() + "=\"" + label.getValue() + "\"")) {
        return false;
      }
    }
    return true;
  }
}
