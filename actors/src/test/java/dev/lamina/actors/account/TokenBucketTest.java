package dev.lamina.actors.account;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The scaling-rate bucket with manual time: full at first, then refilled continuously, capped. */
class TokenBucketTest {

  private static final long SECOND = 1_000_000_000L;

  @Test
  void perFunctionPolicyGivesAThousandAtOnceThenAHundredPerSecond() {
    // Lambda today: 1,000 new execution environments per function per 10 seconds.
    TokenBucket bucket = new TokenBucket(1000, 1000 / 10.0, 0);

    assertEquals(1000, bucket.take(1500, 0), "the whole capacity at once, no more");
    assertEquals(0, bucket.take(1, 0));
    assertEquals(50, bucket.take(1000, SECOND / 2), "refilled continuously: 100 per second");
    assertEquals(0, bucket.take(1, SECOND / 2));
    assertEquals(1000, bucket.take(5000, 60 * SECOND), "never more than the capacity, however long it waited");
  }

  @Test
  void accountBurstPolicyGivesTheBurstThenFiveHundredPerMinute() {
    // Lambda before 2023 (us-east-1): a burst of 3,000, then 500 more per minute.
    TokenBucket bucket = new TokenBucket(3000, 500 / 60.0, 0);

    assertEquals(3000, bucket.take(3001, 0));
    assertEquals(249, bucket.take(1000, 30 * SECOND - 1), "249.99 tokens are 249 whole ones");
    assertEquals(501, bucket.take(1000, 90 * SECOND), "750 refilled in 90 s, 249 of them taken before");
  }

  @Test
  void timeGoingBackwardsAddsNothing() {
    TokenBucket bucket = new TokenBucket(2, 1, 10 * SECOND);
    bucket.take(2, 10 * SECOND);

    assertEquals(0, bucket.take(1, 5 * SECOND));
    assertEquals(1, bucket.take(1, 11 * SECOND));
  }
}
