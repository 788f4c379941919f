package dev.lamina.loadtests;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.forAll;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Churn: {@code clients} clients (default 8) round-robin over {@code functions} python no-ops
 * (default 120) of {@code memoryMb} each (default 1024) for {@code duration} seconds: more
 * functions than the node's sandbox memory holds warm, so idle environments are evicted to make
 * room and many invocations are cold starts. Each answer says (REPORT line) whether it was cold;
 * the sampler follows the node's environments and sandbox memory. Every answer must be 200 or a
 * throttle (429, when no idle environment could be reclaimed in time — counted).
 */
public class ManyFunctions extends LaminaSimulation {

  private final int functions = Target.intOption("functions", 120);
  private final int clients = Target.intOption("clients", 8);
  private final int memoryMb = Target.intOption("memoryMb", 1024);
  private final Duration duration = Target.durationOption("duration", Duration.ofSeconds(60));
  private final String prefix = "lt-many-";
  private final AtomicLong next = new AtomicLong();
  private final AtomicInteger cold = new AtomicInteger();
  private final AtomicInteger warm = new AtomicInteger();
  private final AtomicInteger throttles = new AtomicInteger();
  private MetricsSampler sampler;

  {
    var churn = scenario("round robin").during(duration).on(
        exec(session -> session.set("function", prefix + (next.getAndIncrement() % functions)))
            .exec(timed("invoke", exec(invokeOrThrottle("invoke", "#{function}", "{}"))))
            .exec(session -> {
              switch (answer(session)) {
                case THROTTLED -> throttles.incrementAndGet();
                case WARM -> warm.incrementAndGet();
                case COLD -> cold.incrementAndGet();
              }
              return session;
            }));
    setUp(churn.injectOpen(atOnceUsers(clients))).protocols(protocol())
        .assertions(forAll().failedRequests().count().is(0L));
  }

  @Override
  public void before() {
    byte[] zip = api.zipExample("python/noop");
    for (int i = 0; i < functions; i++) {
      api.recreate(new LaminaApi.FunctionSpec(prefix + i, "python3.12", "noop.handler", zip, memoryMb, 30));
    }
    sampler = new MetricsSampler(api, 250)
        .probe("environments", texts -> Prometheus.sum(texts, "lamina_sandboxes", Map.of()))
        .sum("sandbox memory used (MB)", "lamina_worker_memory_used_megabytes", Map.of())
        .sum("sandbox memory capacity (MB)", "lamina_worker_memory_capacity_megabytes", Map.of())
        .start();
  }

  @Override
  public void after() {
    sampler.finish();
    results.put("functions", functions).put("clients", clients).put("memoryMb", memoryMb)
        .put("seconds", duration.toMillis() / 1000.0)
        .put("coldStarts", cold.get()).put("warm", warm.get()).put("throttles", throttles.get())
        .put("environmentsMax", sampler.max("environments"))
        .put("capacityMb", sampler.max("sandbox memory capacity (MB)"))
        .table("memory", sampler.names(), sampler.rows());
    super.after();
    for (int i = 0; i < functions; i++) {
      api.delete(prefix + i);
    }
  }
}
