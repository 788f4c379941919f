package dev.lamina.actors.worker;

import dev.lamina.actors.metrics.Metrics;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Where this node places new sandboxes: the {@link WorkerActor} holding the current host lease.
 *
 * <p>Contract: function actors send {@link WorkerActor.StartSandbox} here; it goes to the current
 * lease's worker. Every {@code lease} (at most 14 hours by default) a fresh worker takes over and
 * the old one drains: it places nothing more, its idle sandboxes stop, its busy ones finish their
 * invocation first, so no invocation fails because of a rotation. Starts the old worker still had
 * come back here and go to the new one. A worker that stops unexpectedly is replaced at once.
 *
 * <p>Known limit: while an old lease drains, its busy sandboxes run on top of the new lease's
 * memory capacity (for at most their remaining timeout).
 */
public final class Placement {

  private Placement() {}

  /** {@code newLease} makes the worker of one lease. */
  public static Behavior<WorkerActor.Command> create(Supplier<Behavior<WorkerActor.Command>> newLease, Duration lease,
      Metrics metrics) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      AtomicLong leaseStarted = metrics.leaseStarted();
      return new Leases(ctx, timers, newLease, lease, leaseStarted).active(startLease(ctx, newLease, timers, lease,
          leaseStarted, 1));
    }));
  }

  private static ActorRef<WorkerActor.Command> startLease(ActorContext<WorkerActor.Command> ctx,
      Supplier<Behavior<WorkerActor.Command>> newLease, TimerScheduler<WorkerActor.Command> timers, Duration lease,
      AtomicLong leaseStarted, long number) {
    ActorRef<WorkerActor.Command> worker = ctx.spawn(newLease.get(), "worker-lease-" + number);
    ctx.watch(worker);
    leaseStarted.set(System.nanoTime());
    timers.startSingleTimer(WorkerActor.RotateLease.INSTANCE, lease);
    return worker;
  }

  private record Leases(ActorContext<WorkerActor.Command> ctx, TimerScheduler<WorkerActor.Command> timers,
      Supplier<Behavior<WorkerActor.Command>> newLease, Duration lease, AtomicLong leaseStarted) {

    Behavior<WorkerActor.Command> active(ActorRef<WorkerActor.Command> current) {
      long number = Long.parseLong(current.path().name().substring("worker-lease-".length()));
      return Behaviors.receive(WorkerActor.Command.class)
          .onMessage(WorkerActor.StartSandbox.class, start -> {
            current.tell(start);
            return Behaviors.same();
          })
          .onMessage(WorkerActor.RotateLease.class, m -> {
            ActorRef<WorkerActor.Command> next = startLease(ctx, newLease, timers, lease, leaseStarted, number + 1);
            current.tell(new WorkerActor.LeaseEnded(ctx.getSelf()));
            ctx.getLog().info("host lease {} ended: {} takes new sandboxes, the old one drains", number,
                next.path().name());
            return active(next);
          })
          .onSignal(Terminated.class, t -> {
            if (!t.getRef().equals(current)) {
              return Behaviors.same();   // a drained lease
            }
            ctx.getLog().warn("the worker of host lease {} stopped unexpectedly: starting a new lease", number);
            return active(startLease(ctx, newLease, timers, lease, leaseStarted, number + 1));
          })
          .build();
    }
  }
}
