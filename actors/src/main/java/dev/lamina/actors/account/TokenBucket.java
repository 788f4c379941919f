package dev.lamina.actors.account;

/**
 * A token bucket refilled continuously: at most {@code capacity} tokens, {@code refillPerSecond}
 * added per second of the clock the caller passes in (so tests use manual time). Not
 * thread-safe: owned by one actor.
 */
public final class TokenBucket {

  private final double capacity;
  private final double refillPerNano;
  private double tokens;
  private long lastNanos;

  public TokenBucket(double capacity, double refillPerSecond, long nowNanos) {
    if (capacity <= 0 || refillPerSecond < 0) {
      throw new IllegalArgumentException("capacity must be positive and refill not negative");
    }
    this.capacity = capacity;
    this.refillPerNano = refillPerSecond / 1e9;
    this.tokens = capacity;
    this.lastNanos = nowNanos;
  }

  /** Takes up to {@code wanted} whole tokens and returns how many were taken. */
  public int take(int wanted, long nowNanos) {
    refill(nowNanos);
    int granted = (int) Math.min(wanted, Math.floor(tokens));
    tokens -= granted;
    return Math.max(granted, 0);
  }

  /** Whole tokens available now. */
  public int available(long nowNanos) {
    refill(nowNanos);
    return (int) Math.floor(tokens);
  }

  private void refill(long nowNanos) {
    if (nowNanos > lastNanos) {
      tokens = Math.min(capacity, tokens + (nowNanos - lastNanos) * refillPerNano);
      lastNanos = nowNanos;
    }
  }
}
