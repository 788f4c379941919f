package dev.lamina.actors.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.typesafe.config.ConfigFactory;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.metrics.Metrics;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The account's pools with probes standing in for function actors and manual time for the
 * scaling buckets: grants never exceed the limit, short grants carry the throttle reason,
 * reservations are guarantee and cap, stopped holders give their units back.
 */
class AccountActorTest {

  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.persistence.journal.plugin = \"pekko.persistence.journal.inmem\"\n"
          + "pekko.persistence.snapshot-store.plugin = \"\"\n"
          + "pekko.actor.allow-java-serialization = on\n").withFallback(ConfigFactory.load()));
  private static final long SECOND = 1_000_000_000L;

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private final AtomicLong now = new AtomicLong();

  private ActorRef<AccountActor.Command> account(int limit, int minUnreserved, String scaling, int perFunction,
      int burst) {
    ConcurrencySettings settings = new ConcurrencySettings(true, limit, minUnreserved, Duration.ofSeconds(1),
        scaling, perFunction, Duration.ofSeconds(10), burst, 500);
    return kit.spawn(AccountActor.create("acct-" + UUID.randomUUID(), settings, now::get, Metrics.inMemory()));
  }

  @Test
  void grantsWhatIsNeededAndLendsExtraOnlyWhileThePoolHasRoom() {
    ActorRef<AccountActor.Command> account = account(100, 10, ConcurrencySettings.PER_FUNCTION, 1000, 3000);
    TestProbe<FunctionActor.Command> f = kit.createTestProbe();

    account.tell(new AccountActor.Acquire("f", 1, 4, f.getRef()));
    FunctionActor.LeaseGranted roomy = f.expectMessageClass(FunctionActor.LeaseGranted.class);
    account.tell(new AccountActor.Acquire("f", 90, 10, f.getRef()));
    FunctionActor.LeaseGranted tight = f.expectMessageClass(FunctionActor.LeaseGranted.class);

    assertEquals(5, roomy.units(), "1 needed + 4 extra");
    assertNull(roomy.shortReason());
    assertEquals(90, tight.units(), "no extra when lending it would leave under a tenth of the pool");
  }

  @Test
  void aShortGrantCarriesTheReasonAndTheLimitIsNeverExceeded() {
    ActorRef<AccountActor.Command> account = account(5, 1, ConcurrencySettings.PER_FUNCTION, 1000, 3000);
    TestProbe<FunctionActor.Command> a = kit.createTestProbe();
    TestProbe<FunctionActor.Command> b = kit.createTestProbe();

    account.tell(new AccountActor.Acquire("a", 3, 0, a.getRef()));
    account.tell(new AccountActor.Acquire("b", 3, 0, b.getRef()));
    FunctionActor.LeaseGranted toA = a.expectMessageClass(FunctionActor.LeaseGranted.class);
    FunctionActor.LeaseGranted toB = b.expectMessageClass(FunctionActor.LeaseGranted.class);
    account.tell(new AccountActor.Release(a.getRef(), 1));
    account.tell(new AccountActor.Acquire("b", 1, 0, b.getRef()));
    FunctionActor.LeaseGranted again = b.expectMessageClass(FunctionActor.LeaseGranted.class);

    assertEquals(3, toA.units());
    assertEquals(2, toB.units());
    assertEquals("ConcurrentInvocationLimitExceeded", toB.shortReason());
    assertEquals(1, again.units(), "the unit a released is b's now");
    assertNull(again.shortReason());
  }

  @Test
  void aReservationIsBothTheFunctionsGuaranteeAndItsCap() {
    ActorRef<AccountActor.Command> account = account(10, 1, ConcurrencySettings.PER_FUNCTION, 1000, 3000);
    TestProbe<AccountActor.Reply> replies = kit.createTestProbe();
    TestProbe<FunctionActor.Command> reserved = kit.createTestProbe();
    TestProbe<FunctionActor.Command> other = kit.createTestProbe();
    account.tell(new AccountActor.PutReserved("reserved", 4, replies.getRef()));
    replies.expectMessageClass(AccountActor.Reply.class);

    account.tell(new AccountActor.Acquire("other", 10, 0, other.getRef()));
    FunctionActor.LeaseGranted toOther = other.expectMessageClass(FunctionActor.LeaseGranted.class);
    account.tell(new AccountActor.Acquire("reserved", 5, 0, reserved.getRef()));
    FunctionActor.LeaseGranted toReserved = reserved.expectMessageClass(FunctionActor.LeaseGranted.class);

    assertEquals(6, toOther.units(), "the others share what the reservation leaves");
    assertEquals(4, toReserved.units(), "the reservation is there although the others took all they could");
    assertEquals("ReservedFunctionConcurrentInvocationLimitExceeded", toReserved.shortReason());
  }

  @Test
  void theUnitsOfAHolderThatStopsComeBack() {
    ActorRef<AccountActor.Command> account = account(2, 1, ConcurrencySettings.PER_FUNCTION, 1000, 3000);
    TestProbe<FunctionActor.Command> gone = kit.createTestProbe();
    TestProbe<FunctionActor.Command> next = kit.createTestProbe();
    account.tell(new AccountActor.Acquire("f", 2, 0, gone.getRef()));
    assertEquals(2, gone.expectMessageClass(FunctionActor.LeaseGranted.class).units());

    gone.stop();

    next.awaitAssert(Duration.ofSeconds(3), () -> {
      account.tell(new AccountActor.Acquire("g", 2, 0, next.getRef()));
      assertEquals(2, next.expectMessageClass(FunctionActor.LeaseGranted.class).units());
      return null;
    });
  }

  @Test
  void perFunctionScalingIsCountedPerFunctionAndRefillsWithTime() {
    ActorRef<AccountActor.Command> account = account(1000, 100, ConcurrencySettings.PER_FUNCTION, 10, 3000);
    TestProbe<FunctionActor.Command> f = kit.createTestProbe();

    account.tell(new AccountActor.Scale(1, "f", 12, f.getRef()));
    FunctionActor.ScaleGranted first = f.expectMessageClass(FunctionActor.ScaleGranted.class);
    account.tell(new AccountActor.Scale(2, "g", 3, f.getRef()));
    FunctionActor.ScaleGranted otherFunction = f.expectMessageClass(FunctionActor.ScaleGranted.class);
    now.addAndGet(SECOND);   // 10 per 10 s: one more per second
    account.tell(new AccountActor.Scale(3, "f", 2, f.getRef()));
    FunctionActor.ScaleGranted later = f.expectMessageClass(FunctionActor.ScaleGranted.class);

    assertEquals(10, first.starts());
    assertEquals("FunctionInvocationRateLimitExceeded", first.shortReason());
    assertEquals(3, otherFunction.starts(), "another function has its own rate");
    assertEquals(1, later.starts());
  }

  @Test
  void accountBurstScalingIsSharedByAllFunctions() {
    ActorRef<AccountActor.Command> account = account(1000, 100, ConcurrencySettings.ACCOUNT_BURST, 1000, 5);
    TestProbe<FunctionActor.Command> f = kit.createTestProbe();

    account.tell(new AccountActor.Scale(1, "f", 3, f.getRef()));
    FunctionActor.ScaleGranted first = f.expectMessageClass(FunctionActor.ScaleGranted.class);
    account.tell(new AccountActor.Scale(2, "g", 3, f.getRef()));
    FunctionActor.ScaleGranted second = f.expectMessageClass(FunctionActor.ScaleGranted.class);
    now.addAndGet(12 * SECOND);   // 500 per minute: 100 in 12 s, capped at the burst of 5
    account.tell(new AccountActor.Scale(3, "g", 9, f.getRef()));
    FunctionActor.ScaleGranted refilled = f.expectMessageClass(FunctionActor.ScaleGranted.class);

    assertEquals(3, first.starts());
    assertEquals(2, second.starts(), "the burst pool is the account's, not the function's");
    assertEquals("ConcurrentInvocationLimitExceeded", second.shortReason());
    assertEquals(5, refilled.starts());
  }
}
