package dev.lamina.loadtests;

import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.forAll;
import static io.gatling.javaapi.core.CoreDsl.rampConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Scale-out: a python function that sleeps {@code sleepSeconds} (default 1) is invoked by a
 * closed population ramping from 0 to {@code peak} concurrent clients (default 200) over
 * {@code ramp} seconds (default 20), then held at the peak for {@code hold} seconds (default 20).
 * Each invocation holds an environment for the whole sleep, so the environments the node runs
 * must follow the clients; the sampler records environments, the function's concurrent
 * executions and the clients in flight every 100 ms (the report plots them). Every answer must be
 * 200 with no function error within 1.5 times the sleep (a call that waited for an environment
 * takes longer): {@code peak} environments of one function running at once.
 */
public class ConcurrencyRamp extends LaminaSimulation {

  static final String FUNCTION = "lt-ramp";
  private final int peak = Target.intOption("peak", 200);
  private final Duration ramp = Target.durationOption("ramp", Duration.ofSeconds(20));
  private final Duration hold = Target.durationOption("hold", Duration.ofSeconds(20));
  private final double sleepSeconds = Double.parseDouble(Target.option("sleepSeconds", "1"));
  private final AtomicInteger inFlight = new AtomicInteger();
  private MetricsSampler sampler;

  {
    var sleeper = scenario("sleepers").exec(session -> {
          inFlight.incrementAndGet();
          return session;
        })
        .exec(timed("invoke", exec(invoke("invoke", FUNCTION, "{\"seconds\": " + sleepSeconds + "}")
            .check(status().is(200), header("X-Amz-Function-Error").notExists()))))
        .exec(session -> {
          inFlight.decrementAndGet();
          return session;
        });
    // Calls that waited for an environment instead of running at once would take longer than the
    // sleep: every one must answer within 1.5 times it.
    setUp(sleeper.injectClosed(rampConcurrentUsers(0).to(peak).during(ramp), constantConcurrentUsers(peak).during(hold)))
        .protocols(protocol())
        .assertions(forAll().failedRequests().count().is(0L),
            forAll().responseTime().max().lt((int) (sleepSeconds * 1500)));
  }

  @Override
  public void before() {
    api.recreate(new LaminaApi.FunctionSpec(FUNCTION, "python3.12", "probe.sleep", api.zipExample("python/probe"),
        128, 30));
    sampler = new MetricsSampler(api, 100)
        .probe("clients in flight", texts -> inFlight.get())
        .sum("environments", "lamina_sandboxes", Map.of("function", FUNCTION))
        .sum("concurrent executions", "lamina_concurrent_executions", Map.of("function", FUNCTION))
        .start();
  }

  @Override
  public void after() {
    sampler.finish();
    results.put("peak", peak).put("rampSeconds", ramp.toMillis() / 1000.0).put("holdSeconds", hold.toMillis() / 1000.0)
        .put("sleepSeconds", sleepSeconds).put("environmentsMax", sampler.max("environments"))
        .table("scale", sampler.names(), sampler.rows());
    super.after();
    if (!Boolean.getBoolean("keepFunction")) { // loadtests/run keeps it to weigh its idle environments
      api.delete(FUNCTION);
    }
  }
}
