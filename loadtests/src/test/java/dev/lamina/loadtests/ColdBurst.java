package dev.lamina.loadtests;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.forAll;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cold starts, two ways, with {@code LogType: Tail} so that each answer's REPORT line says whether
 * it was a cold start and how long the runtime's init took:
 * <ol>
 *   <li>{@code coldStarts} single cold starts, one after another: a fresh python no-op function
 *       each (the client-observed first invocation, split into the runtime's init, the handler,
 *       and the platform's share — everything else);
 *   <li>a burst of {@code burst} simultaneous invocations of one idle function that sleeps
 *       {@code burstSleepSeconds} (default 1, so that every call needs an environment of its own):
 *       how many cold starts and throttles (429, expected) it meets, and how long until all its
 *       environments are up (from the nodes' metrics, sampled every 50 ms from the burst's first
 *       request, and from the last cold answer, minus the sleep). Every 200 must carry its log
 *       tail and no function error.
 * </ol>
 * Every single must be a cold start answered 200; every burst answer must be 200 or 429.
 */
public class ColdBurst extends LaminaSimulation {

  private final int singles = Target.intOption("coldStarts", 10);
  private final int burst = Target.intOption("burst", 100);
  private final double burstSleep = Double.parseDouble(Target.option("burstSleepSeconds", "1"));
  private final String prefix = "lt-cold-" + Long.toString(System.currentTimeMillis(), 36) + "-";
  private final AtomicInteger nextSingle = new AtomicInteger();
  private final AtomicInteger burstCold = new AtomicInteger();
  private final AtomicInteger burstWarm = new AtomicInteger();
  private final AtomicInteger throttles = new AtomicInteger();
  private final AtomicLong burstStart = new AtomicLong();
  private final AtomicLong lastColdAnswer = new AtomicLong();
  private MetricsSampler sampler;

  {
    var single = scenario("cold singles").repeat(singles).on(
        exec(session -> session.set("function", prefix + nextSingle.getAndIncrement()))
            .exec(timed("cold single", exec(invoke("cold single", "#{function}", "{}")
                .header("X-Amz-Log-Type", "Tail")
                .check(status().is(200), header("X-Amz-Function-Error").notExists(),
                    header("X-Amz-Log-Result").transform(h -> !Double.isNaN(initDuration(logTail(h)))).is(true),
                    header("X-Amz-Log-Result").saveAs("log")))))
            .exec(session -> {
              String tail = logTail(session.getString("log"));
              results.add("init single", initDuration(tail));
              results.add("handler single", duration(tail));
              return session;
            }));
    var burstOf = scenario("burst").exec(session -> {
          if (burstStart.compareAndSet(0, System.nanoTime())) {
            sampler.start();
          }
          return session;
        })
        .exec(timed("burst", exec(invokeOrThrottle("burst", prefix + "burst", "{\"seconds\": " + burstSleep + "}"))))
        .exec(session -> {
          switch (answer(session)) {
            case THROTTLED -> throttles.incrementAndGet();
            case WARM -> burstWarm.incrementAndGet();
            case COLD -> {
              burstCold.incrementAndGet();
              results.add("init burst", initDuration(logTail(session.getString("log"))));
              lastColdAnswer.accumulateAndGet(System.nanoTime(), Math::max);
            }
          }
          return session;
        });
    setUp(single.injectOpen(atOnceUsers(1)).andThen(burstOf.injectOpen(atOnceUsers(burst))))
        .protocols(protocol())
        .assertions(forAll().failedRequests().count().is(0L));
  }

  @Override
  public void before() {
    for (int i = 0; i < singles; i++) {
      api.recreate(Runtimes.PYTHON.noop(api, prefix + i, 128));
    }
    api.recreate(new LaminaApi.FunctionSpec(prefix + "burst", "python3.12", "probe.sleep",
        api.zipExample("python/probe"), 128, 30));
    sampler = new MetricsSampler(api, 50)
        .sum("environments", "lamina_sandboxes", Map.of("function", prefix + "burst"));
  }

  @Override
  public void after() {
    sampler.finish();
    double max = sampler.max("environments");
    double allUp = sampler.firstReaching("environments", max, 0);
    results.put("singles", singles).put("burst", burst).put("burstSleepSeconds", burstSleep)
        .put("burstColdStarts", burstCold.get()).put("burstWarm", burstWarm.get()).put("burstThrottles", throttles.get())
        .put("burstEnvironmentsMax", max)
        .put("burstEnvironmentsUpMs", allUp * 1000)
        .put("burstLastColdReadyMs", burstStart.get() == 0 || lastColdAnswer.get() == 0 ? Double.NaN
            : (lastColdAnswer.get() - burstStart.get()) / 1e6 - burstSleep * 1000)
        .table("environments", sampler.names(), sampler.rows());
    super.after();
    for (int i = 0; i < singles; i++) {
      api.delete(prefix + i);
    }
    api.delete(prefix + "burst");
  }
}
