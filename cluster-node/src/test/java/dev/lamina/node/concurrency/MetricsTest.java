package dev.lamina.node.concurrency;

import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Functions.invoke;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.TestNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;

/** {@code /metrics} in Prometheus text format counts what users did and shows what runs now. */
@ExtendWith(NodePerClass.class)
class MetricsTest {

  private static final Pattern SAMPLE = Pattern.compile("([a-z_]+)(\\{([^}]*)})? ([-+0-9.eE]+|NaN)");
  private static final Pattern LABEL = Pattern.compile("([a-z_]+)=\"([^\"]*)\"");

  static TestNode node;
  static LambdaClient lambda;

  @Test
  void invocationsErrorsThrottlesColdStartsAndWhatRunsNowAreScraped() throws Exception {
    create(lambda, "m-ok", "python3.12", "probe.echo", Examples.zipOf("python/probe"));
    create(lambda, "m-fail", "python3.12", "probe.fail", Examples.zipOf("python/probe"));
    create(lambda, "m-off", "python3.12", "probe.echo", Examples.zipOf("python/probe"));
    lambda.putFunctionConcurrency(b -> b.functionName("m-off").reservedConcurrentExecutions(0));
    for (int i = 0; i < 3; i++) {
      invoke(lambda, "m-ok", "{}");
    }
    invoke(lambda, "m-fail", "{}");
    assertThrows(TooManyRequestsException.class, () -> invoke(lambda, "m-off", "{}"));

    HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(node.endpoint() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    Map<String, Double> samples = parse(scrape.body());

    assertEquals(200, scrape.statusCode());
    assertTrue(scrape.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
    String ok = "{function=m-ok, version=$LATEST}";
    assertEquals(3.0, samples.get("lamina_invocations_total{function=m-ok, outcome=success, version=$LATEST}"),
        scrape.body());
    assertEquals(1.0, samples.get("lamina_invocations_total{function=m-fail, outcome=function_error, version=$LATEST}"));
    assertEquals(1.0, samples.get(
        "lamina_throttles_total{function=m-off, reason=ReservedFunctionConcurrentInvocationLimitExceeded}"));
    assertEquals(1.0, samples.get("lamina_cold_starts_total" + ok));
    assertEquals(1.0, samples.get("lamina_init_duration_seconds_count" + ok));
    assertEquals(3.0, samples.get("lamina_invocation_duration_seconds_count" + ok));
    assertEquals(0.0, samples.get("lamina_concurrent_executions" + ok), "nothing in flight now");
    assertEquals(1.0, samples.get("lamina_sandboxes{function=m-ok, state=idle, version=$LATEST}"));
    assertEquals(0.0, samples.get("lamina_sandboxes{function=m-ok, state=busy, version=$LATEST}"));
    assertEquals(999.0, samples.get("lamina_scaling_tokens{function=m-ok}"), "one environment added so far");
    assertTrue(samples.containsKey("lamina_account_concurrent_executions{account=000000000000}"), scrape.body());
    assertTrue(samples.get("lamina_worker_lease_age_seconds") > 0, "the host lease's age");
    assertEquals(256.0, samples.get("lamina_worker_memory_used_megabytes"), "two warm 128 MB sandboxes");
    assertEquals(256.0 / 1769, samples.get("lamina_worker_cpus_allotted"), 1e-9);
    assertEquals((double) Runtime.getRuntime().availableProcessors(), samples.get("lamina_worker_cpus"));
    assertTrue(samples.get("lamina_worker_memory_capacity_megabytes") > 256, scrape.body());
  }

  @Test
  void aDeletedFunctionsSeriesLeaveTheScrape() throws Exception {
    create(lambda, "m-gone", "python3.12", "probe.echo", Examples.zipOf("python/probe"));
    invoke(lambda, "m-gone", "{}");
    assertTrue(scrape().contains("function=\"m-gone\""), "its series are there while it exists");

    lambda.deleteFunction(b -> b.functionName("m-gone"));

    String after = scrape();
    assertTrue(!after.contains("function=\"m-gone\""), after);
  }

  private static String scrape() throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(node.endpoint() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** Sample name with its labels sorted ({@code name{a=x, b=y}}) → value. */
  private static Map<String, Double> parse(String text) {
    Map<String, Double> samples = new HashMap<>();
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (line.startsWith("#") || !m.matches()) {
        continue;
      }
      Map<String, String> labels = new TreeMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      samples.put(m.group(1) + (labels.isEmpty() ? "" : labels.toString()), Double.parseDouble(m.group(4)));
    }
    return samples;
  }
}
