package dev.lamina.actors.registry;

import dev.lamina.actors.CborSerializable;

/**
 * How asynchronous ({@code Event}) invocations of one qualifier of a function are handled
 * (FunctionEventInvokeConfig): retries of function errors, the oldest event still run, and where
 * records of successes and failures go. Null members are not set; the defaults (2 retries, 6 hours)
 * then apply.
 *
 * @param lastModified epoch seconds with a fraction, as Lambda shows it
 */
public record EventInvokeConfig(String qualifier, Integer maximumRetryAttempts, Integer maximumEventAgeInSeconds,
    String onSuccess, String onFailure, double lastModified) implements CborSerializable {

  public static final int DEFAULT_RETRY_ATTEMPTS = 2;
  public static final int DEFAULT_EVENT_AGE_SECONDS = 21600;

  public int retryAttempts() {
    return maximumRetryAttempts == null ? DEFAULT_RETRY_ATTEMPTS : maximumRetryAttempts;
  }

  public int eventAgeSeconds() {
    return maximumEventAgeInSeconds == null ? DEFAULT_EVENT_AGE_SECONDS : maximumEventAgeInSeconds;
  }

  /** UpdateFunctionEventInvokeConfig: the members {@code change} sets win, the others stay. */
  public EventInvokeConfig mergedWith(EventInvokeConfig change) {
    return new EventInvokeConfig(qualifier,
        change.maximumRetryAttempts != null ? change.maximumRetryAttempts : maximumRetryAttempts,
        change.maximumEventAgeInSeconds != null ? change.maximumEventAgeInSeconds : maximumEventAgeInSeconds,
        change.onSuccess != null ? change.onSuccess : onSuccess,
        change.onFailure != null ? change.onFailure : onFailure,
        change.lastModified);
  }
}
