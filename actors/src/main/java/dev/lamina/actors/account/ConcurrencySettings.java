package dev.lamina.actors.account;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The account's concurrency limits and scaling policy ({@code lamina.concurrency}), read once.
 *
 * @param accounting false bypasses concurrency accounting (benchmarks compare both)
 * @param accountLimit concurrent executions of the account (Lambda: 1,000)
 * @param minUnreserved what reserved concurrency must leave to the other functions (Lambda: 100)
 * @param leaseWindow how long a function actor keeps units it did not need before returning them:
 *     the longest a unit freed by one function stays unusable by another
 * @param scaling {@code per-function} or {@code account-burst}
 * @param perFunctionEnvironments new execution environments per function per {@code perFunctionPeriod}
 * @param burst the account-wide burst pool of the {@code account-burst} policy
 * @param burstRefillPerMinute its refill
 */
public record ConcurrencySettings(
    boolean accounting,
    int accountLimit,
    int minUnreserved,
    Duration leaseWindow,
    String scaling,
    int perFunctionEnvironments,
    Duration perFunctionPeriod,
    int burst,
    int burstRefillPerMinute) {

  public static final String PER_FUNCTION = "per-function";
  public static final String ACCOUNT_BURST = "account-burst";

  public ConcurrencySettings {
    if (!scaling.equals(PER_FUNCTION) && !scaling.equals(ACCOUNT_BURST)) {
      throw new IllegalArgumentException("lamina.concurrency.scaling must be per-function or account-burst, not "
          + scaling);
    }
    if (accountLimit < 1 || minUnreserved < 0 || minUnreserved > accountLimit) {
      throw new IllegalArgumentException("lamina.concurrency.account-limit must be at least 1 and at least "
          + "min-unreserved (" + minUnreserved + "), not " + accountLimit);
    }
  }

  public static ConcurrencySettings from(Config config) {
    Config c = config.getConfig("lamina.concurrency");
    return new ConcurrencySettings(
        c.getBoolean("accounting"),
        c.getInt("account-limit"),
        c.getInt("min-unreserved"),
        c.getDuration("lease-window"),
        c.getString("scaling"),
        c.getInt("per-function.environments"),
        c.getDuration("per-function.period"),
        c.getInt("account-burst.burst"),
        c.getInt("account-burst.refill-per-minute"));
  }
}
