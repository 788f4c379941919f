package dev.lamina.loadtests;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.bodyString;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.forAll;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.PopulationBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Warm latency: one client, sequential invocations of a warm no-op function per runtime, each
 * function warmed first ({@code warmup} calls outside Gatling's statistics: a node runs for days,
 * and its first thousands of calls run partly interpreted). Every answer must be 200 with the
 * function's {@code {}} and no function error. A DryRun of the same request follows (204): the
 * front end's share of a warm invocation, measured through the same client. {@code -Dp99Ms=5} adds a p99 assertion per runtime
 * (off by default: a shared CI machine's p99 says more about its neighbours than about Lamina).
 */
public class WarmLatency extends LaminaSimulation {

  private final List<Runtimes> runtimes = Runtimes.selected();
  private final int invocations = Target.intOption("invocations", 2000);
  private final int warmup = Target.intOption("warmup", 1000);

  {
    List<PopulationBuilder> chain = new ArrayList<>();
    for (Runtimes r : runtimes) {
      chain.add(scenario("warm " + r.key()).repeat(invocations).on(timed(r.key(), exec(
          invoke("invoke " + r.key(), name(r), "{}")
              .check(status().is(200), header("X-Amz-Function-Error").notExists(), bodyString().is("{}")))))
          .injectOpen(atOnceUsers(1)));
    }
    // The same request as a DryRun on the first runtime's function: HTTP, signature check,
    // validation and the cached configuration — the front end's share, no sandbox.
    chain.add(scenario("dry run").repeat(invocations).on(timed("dry run", exec(
        invoke("dry run", name(runtimes.get(0)), "{}").header("X-Amz-Invocation-Type", "DryRun")
            .check(status().is(204))))).injectOpen(atOnceUsers(1)));
    PopulationBuilder first = chain.get(0);
    for (PopulationBuilder next : chain.subList(1, chain.size())) {
      first = first.andThen(next);
    }
    List<Assertion> assertions = new ArrayList<>(List.of(forAll().failedRequests().count().is(0L)));
    int p99 = Target.intOption("p99Ms", 0);
    if (p99 > 0) {
      for (Runtimes r : runtimes) {
        assertions.add(details("invoke " + r.key()).responseTime().percentile(99.0).lt(p99));
      }
    }
    setUp(first).protocols(protocol()).assertions(assertions);
  }

  private static String name(Runtimes r) {
    return "lt-noop-" + r.key();
  }

  @Override
  public void before() {
    for (Runtimes r : runtimes) {
      api.recreate(r.noop(api, name(r), 512));
      for (int i = 0; i < warmup; i++) {
        api.invoke(name(r), "{}", Map.of());
      }
    }
    results.put("invocations", invocations).put("warmup", warmup)
        .put("runtimes", String.join(",", runtimes.stream().map(Runtimes::key).toList()));
  }

  @Override
  public void after() {
    super.after();
    runtimes.forEach(r -> api.delete(name(r)));
  }
}
