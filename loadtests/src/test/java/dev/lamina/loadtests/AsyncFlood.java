package dev.lamina.loadtests;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.forAll;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Asynchronous flood: {@code Event} invocations of a python no-op at a fixed {@code rate} per
 * second (default 200) for {@code duration} seconds (default 30), an open model over one shared
 * connection pool (or a connection per event with {@code -DconnectionPerEvent=true}). Every request must be accepted (202: the event is durable when it returns);
 * accept times of the first 5 s, while the function scales out from one environment, are kept
 * apart from the steady state's. The sampler reads the function's accepted events and finished invocations every
 * 50 ms until every accepted event has run (at most {@code drainSeconds}, default 120): the two
 * curves give the accept rate and, event by event in order, the lag from its acceptance to its
 * completion (the queue is per function and roughly FIFO; the lag's resolution is the 50 ms
 * sampling period).
 */
public class AsyncFlood extends LaminaSimulation {

  private static final String FUNCTION = "lt-async";
  private final int rate = Target.intOption("rate", 200);
  private final Duration duration = Target.durationOption("duration", Duration.ofSeconds(30));
  private final Duration drain = Target.durationOption("drainSeconds", Duration.ofSeconds(120));
  /** The flood's first seconds, while the function scales out from one environment, are reported apart. */
  private static final long WARM_UP_NANOS = 5_000_000_000L;
  private final AtomicLong floodStart = new AtomicLong();
  private MetricsSampler sampler;

  {
    var events = scenario("events")
        .exec(session -> {
          long t0 = System.nanoTime();
          floodStart.compareAndSet(0, t0);
          return session.set("t0", t0);
        })
        .exec(invoke("event", FUNCTION, "{}").header("X-Amz-Invocation-Type", "Event").check(status().is(202)))
        .exec(session -> {
          long t0 = session.getLong("t0");
          if (!session.isFailed()) {
            results.elapsed(t0 - floodStart.get() < WARM_UP_NANOS ? "accept, first 5 s" : "accept", t0);
          }
          return session;
        });
    // One client application with a connection pool (the SDK's way); -DconnectionPerEvent=true
    // opens a new connection per event instead (many small clients).
    setUp(events.injectOpen(constantUsersPerSec(rate).during(duration)))
        .protocols(Boolean.getBoolean("connectionPerEvent") ? protocol() : protocol().shareConnections())
        .assertions(forAll().failedRequests().count().is(0L));
  }

  @Override
  public void before() {
    api.recreate(Runtimes.PYTHON.noop(api, FUNCTION, 128));
    api.invoke(FUNCTION, "{}", Map.of()); // the first environment exists before the flood
    // The first sample is the baseline of the counters (they count per function since it was created).
    sampler = new MetricsSampler(api, 50)
        .sum("accepted", "lamina_events_accepted_total", Map.of("function", FUNCTION))
        .sum("completed", "lamina_invocations_total", Map.of("function", FUNCTION, "outcome", "success"))
        .sum("queued", "lamina_events_queued", Map.of("function", FUNCTION))
        .sum("environments", "lamina_sandboxes", Map.of("function", FUNCTION))
        .sum("cold starts", "lamina_cold_starts_total", Map.of("function", FUNCTION))
        .start();
  }

  @Override
  public void after() {
    int accepted = results.samples("accept").length + results.samples("accept, first 5 s").length;
    double acceptedBase = sampler.rows().get(0)[1];
    double completedBase = sampler.rows().get(0)[2];
    long deadline = System.nanoTime() + drain.toNanos();
    while (System.nanoTime() < deadline && lastValue("completed") < completedBase + accepted) {
      sleep(50);
    }
    sampler.close();
    List<double[]> rows = sampler.rows();
    for (double lag : lags(rows, 1, 2)) {
      results.add("lag", lag);
    }
    double firstAccept = sampler.firstReaching("accepted", acceptedBase + 1, 0);
    double lastAccept = sampler.firstReaching("accepted", acceptedBase + accepted, 0);
    double completed = rows.get(rows.size() - 1)[2] - completedBase;
    results.put("rate", rate).put("seconds", duration.toMillis() / 1000.0).put("accepted", accepted)
        .put("acceptedPerSecond", (accepted - 1) / (lastAccept - firstAccept))
        .put("completed", completed)
        .put("environmentsMax", sampler.max("environments"))
        .put("coldStarts", rows.get(rows.size() - 1)[5] - rows.get(0)[5])
        .put("drainAfterLastAcceptMs",
            (sampler.firstReaching("completed", completedBase + accepted, 0) - lastAccept) * 1000)
        .table("events", sampler.names(), rows);
    super.after();
    api.delete(FUNCTION);
    if (completed < accepted) { // fails the simulation: an accepted event was not run
      throw new IllegalStateException((int) (accepted - completed) + " of " + accepted
          + " accepted events did not run within " + drain.toSeconds() + " s");
    }
  }

  /**
   * Event by event (counted from the first sample's values), the time between the sample where
   * the accepted count (column {@code acceptedColumn}) reached it and the one where the completed
   * count (column {@code doneColumn}) did, in ms; events not completed by the last sample are left out.
   */
  static double[] lags(List<double[]> rows, int acceptedColumn, int doneColumn) {
    List<Double> lags = new ArrayList<>();
    if (rows.isEmpty()) {
      return new double[0];
    }
    double acceptedBase = rows.get(0)[acceptedColumn];
    double doneBase = rows.get(0)[doneColumn];
    double total = rows.get(rows.size() - 1)[acceptedColumn] - acceptedBase;
    int a = 0;
    int d = 0;
    for (int n = 1; n <= total; n++) {
      while (a < rows.size() && rows.get(a)[acceptedColumn] - acceptedBase < n) {
        a++;
      }
      while (d < rows.size() && rows.get(d)[doneColumn] - doneBase < n) {
        d++;
      }
      if (a == rows.size() || d == rows.size()) {
        break;
      }
      lags.add(Math.max(0, rows.get(d)[0] - rows.get(a)[0]) * 1000);
    }
    return lags.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private double lastValue(String probe) {
    sampler.sampleOnce();
    List<double[]> rows = sampler.rows();
    return rows.get(rows.size() - 1)[sampler.names().indexOf(probe) + 1];
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
