package dev.lamina.actors.events;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;

/**
 * {@code lamina.events.*}: how asynchronous invocations are queued and retried. Lambda's delays are
 * the defaults; tests shorten them.
 *
 * @param partitions event queue entities per function (each persists and dispatches on its own)
 * @param partitionConcurrency attempts one partition runs at once (it halves on throttles, regrows)
 * @param retryDelays the wait before the 2nd, 3rd, … attempt after a function error
 * @param backoffMin the first wait after a throttle or system error, doubling up to {@code backoffMax}
 * @param finishDelay how long finished events are gathered before one journal write removes them
 */
public record EventSettings(int partitions, int partitionConcurrency, List<Duration> retryDelays,
    Duration backoffMin, Duration backoffMax, Duration finishDelay, int snapshotEvery, Duration idlePassivation,
    int deliveryAttempts) {

  public static EventSettings from(Config config) {
    Config c = config.getConfig("lamina.events");
    return new EventSettings(c.getInt("partitions"), c.getInt("partition-concurrency"),
        c.getDurationList("retry-delays"), c.getDuration("backoff-min"), c.getDuration("backoff-max"),
        c.getDuration("finish-delay"), c.getInt("snapshot-every"), c.getDuration("idle-passivation"),
        c.getInt("delivery-attempts"));
  }

  /** The wait before the attempt after the {@code errors}-th function error (1-based). */
  public Duration retryDelay(int errors) {
    return retryDelays.get(Math.min(errors, retryDelays.size()) - 1);
  }

  /** The wait after the {@code n}-th throttle or system error in a row (1-based). */
  public Duration backoff(int n) {
    long millis = backoffMin.toMillis() << Math.min(n - 1, 30);
    return Duration.ofMillis(Math.min(millis <= 0 ? Long.MAX_VALUE : millis, backoffMax.toMillis()));
  }
}
