package dev.lamina.actors.testing;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** The system clock plus an offset a test moves forward (timers still run in real time). */
public final class MovableClock extends Clock {

  private final AtomicLong skew = new AtomicLong();

  public void advanceMillis(long millis) {
    skew.addAndGet(millis);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(System.currentTimeMillis() + skew.get());
  }
}
