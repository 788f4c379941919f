package dev.lamina.loadtests;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.forAll;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Warm throughput: {@code clients} concurrent clients (default 32), each invoking a warm python
 * no-op back to back for {@code duration} seconds (default 30), on a function warmed first by the
 * same number of concurrent callers (so that its environments exist before the clock starts).
 * Throughput = answers / the time between the first request and the last answer; every answer
 * must be 200 without a function error (a throttle here would be a failure: nothing limits 32).
 */
public class WarmThroughput extends LaminaSimulation {

  private static final String FUNCTION = "lt-throughput";
  private final int clients = Target.intOption("clients", 32);
  private final Duration duration = Target.durationOption("duration", Duration.ofSeconds(30));
  private final AtomicLong first = new AtomicLong();
  private final AtomicLong last = new AtomicLong();
  private MetricsSampler sampler;

  {
    var load = scenario("throughput").during(duration).on(
        exec(session -> {
          first.compareAndSet(0, System.nanoTime());
          return session;
        })
        .exec(timed("invoke", exec(invoke("invoke", FUNCTION, "{}")
            .check(status().is(200), header("X-Amz-Function-Error").notExists()))))
        .exec(session -> {
          last.accumulateAndGet(System.nanoTime(), Math::max);
          return session;
        }));
    setUp(load.injectOpen(atOnceUsers(clients))).protocols(protocol())
        .assertions(forAll().failedRequests().count().is(0L));
  }

  @Override
  public void before() {
    api.recreate(Runtimes.PYTHON.noop(api, FUNCTION, 128));
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<?>> callers = new ArrayList<>();
      long until = System.nanoTime() + Duration.ofSeconds(Target.intOption("warmupSeconds", 5)).toNanos();
      for (int c = 0; c < clients; c++) {
        callers.add(pool.submit(() -> {
          while (System.nanoTime() < until) {
            api.invoke(FUNCTION, "{}", Map.of());
          }
        }));
      }
      for (Future<?> f : callers) {
        f.get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("warm-up failed", e);
    } finally {
      pool.shutdownNow();
    }
    sampler = new MetricsSampler(api, 500)
        .sum("environments", "lamina_sandboxes", Map.of("function", FUNCTION))
        .start();
  }

  @Override
  public void after() {
    sampler.close();
    int answers = results.samples("invoke").length;
    double seconds = (last.get() - first.get()) / 1e9;
    results.put("clients", clients).put("seconds", seconds).put("answers", answers)
        .put("invocationsPerSecond", answers / seconds)
        .put("environmentsMax", sampler.max("environments"));
    super.after();
    api.delete(FUNCTION);
  }
}
