package dev.lamina.actors.sandbox;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.metrics.Metrics;
import dev.lamina.actors.function.Invocation;
import dev.lamina.actors.function.InvocationResult;
import dev.lamina.actors.function.LogTail;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.worker.WorkerActor;
import dev.lamina.persistence.logs.LogStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.BehaviorBuilder;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.util.ByteString;

/**
 * One execution environment for one function revision: one OS process running a runtime that
 * speaks the Runtime API to an endpoint serving this sandbox alone ({@link RuntimeEndpoint}).
 * Serves one invocation at a time; its process memory and /tmp survive between invocations.
 *
 * <p>Contract: the owning {@link FunctionActor} sends {@link Invoke} only after this sandbox
 * reported {@code SandboxReady} or {@code SandboxIdle}. An Invoke that nevertheless reaches a
 * sandbox that cannot run it (it is retiring or leaving) is handed back to the owner
 * ({@code Bounced}), never dropped or failed. An idle sandbox that wants to leave (keep-alive
 * expired, process gone) first asks its owner ({@code SandboxRetiring}) and stops only after
 * {@link RetireConfirmed}, so that no invocation can be sent to a dead sandbox. {@link Stop} may
 * arrive at any time. The owner hears exactly one of {@code SandboxFailed} (init never
 * completed), {@code SandboxRetiring} or {@code SandboxGone} (stopped after having been ready).
 * A sandbox whose invocation timed out or whose process died is never reused.
 *
 * <p>States: Starting (endpoint bound, process started; AbandoningStart when stopped meanwhile) →
 * Initializing (until the runtime's first {@code /next}) → Idle ⇄ Busy → Retiring (waiting for
 * the owner) → Stopping (process killed, waiting until it and its descendants have exited) →
 * stopped. Leaving, the actor closes
 * the endpoint and removes the sandbox's directory only after every process is gone.
 */
public final class SandboxActor {

  public sealed interface Command
      permits Invoke, Stop, Drain, RetireConfirmed, Reclaim, Started, StartFailed, ProcessExited, RuntimeReady,
          ResultPosted, InitErrorPosted, InvokeTimedOut, InitTimedOut, KeepAliveExpired, LifetimeExpired, InitLogged,
          Finished {}

  // The messages other actors send may come from another node (CborSerializable); the rest are this
  // actor's own and never leave it.
  public record Invoke(Invocation invocation, ActorRef<InvocationResult> replyTo)
      implements Command, CborSerializable {}

  public record Stop(String reason) implements Command, CborSerializable {}

  /**
   * Leave without failing anything: an idle sandbox retires (by handshake with its owner), a busy
   * one finishes its invocation first, a starting one once it is ready. Host lease rotation and
   * the maximum lifetime use it.
   */
  public record Drain(String reason) implements Command, CborSerializable {}

  /**
   * The worker needs memory: an idle sandbox retires (its end frees the memory); a sandbox that is
   * busy or still starting declines, so the worker asks another.
   */
  public record Reclaim(ActorRef<WorkerActor.Command> replyTo) implements Command, CborSerializable {}

  /** The owner has forgotten this sandbox (answer to {@code SandboxRetiring}): it may stop now. */
  public enum RetireConfirmed implements Command, CborSerializable { INSTANCE }

  record Started(RuntimeEndpoint endpoint, LaunchedProcess process, SandboxLauncher.Slot slot) implements Command {}

  record StartFailed(String errorType, String message) implements Command {}

  record ProcessExited(int exitCode, boolean outOfMemory) implements Command {}

  /** The runtime called {@code /next} for the first time: init is over. */
  enum RuntimeReady implements Command { INSTANCE }

  /**
   * The runtime posted the result of {@code requestId} ({@code /response} or {@code /error}); the
   * endpoint has already collected the output written meanwhile and the peak memory.
   *
   * @param tooLarge the response exceeded the limit ({@code body} is null)
   * @param endNanos when the result arrived (System.nanoTime)
   */
  record ResultPosted(String requestId, ByteString body, boolean isError, String errorType, boolean tooLarge,
      String output, long maxMemoryMb, long endNanos) implements Command {}

  record InitErrorPosted(String errorType, ByteString body) implements Command {}

  record InvokeTimedOut(String requestId) implements Command {}

  enum InitTimedOut implements Command { INSTANCE }

  enum KeepAliveExpired implements Command { INSTANCE }

  enum LifetimeExpired implements Command { INSTANCE }

  enum InitLogged implements Command { INSTANCE }

  record Finished(InvocationResult result, boolean reusable, ActorRef<InvocationResult> replyTo) implements Command {}

  /**
   * What a sandbox needs from its node. {@code blocking} runs disk and process work;
   * {@code runtimeApi} runs Runtime API requests, whose {@code /next} calls park a thread each.
   */
  public record Deps(SandboxLauncher launcher, RuntimeFiles runtimes, SandboxSettings settings, LogStore logs,
      ExecutorService blocking, ExecutorService runtimeApi, Metrics metrics) {}

  /** How an invocation ended, before its log block is written. */
  private record Outcome(ByteString payload, boolean functionError, boolean reusable, String logNote) {}

  /** The invocation in progress. */
  private record Current(Invoke invoke, long startNanos) {
    String id() {
      return invoke.invocation().requestId();
    }
  }

  private static final String TIMER_INVOKE = "invoke-timeout";
  private static final String TIMER_INIT = "init-timeout";
  private static final String TIMER_KEEPALIVE = "keep-alive";
  private static final String TIMER_LIFETIME = "lifetime";

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final FunctionConfig config;
  private final SandboxCode code;
  private final Deps deps;
  private final ActorRef<FunctionActor.Command> owner;
  private final boolean provisioned;   // kept ready ahead of traffic: no keep-alive, not reclaimed
  private final ActorRef<WorkerActor.Command> worker;
  private final Metrics.InvocationMeters meters;
  private final Path dir;
  private final SandboxOutput output;

  private RuntimeEndpoint endpoint;
  private LaunchedProcess process;
  private SandboxLauncher.Slot slot;
  private long launchNanos;
  private double initDurationMs = -1;   // reported on the first invocation only, then reset
  private boolean exited;
  private boolean stopRequested;
  private boolean draining;   // leave at the next idle moment (lease end, maximum lifetime)
  private boolean readyBeforeStarted;
  private InitErrorPosted initErrorBeforeStarted;
  private CompletableFuture<Started> launching;
  private boolean ownerGone;   // the owning FunctionActor stopped: nobody can route work here

  private SandboxActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, FunctionConfig config,
      SandboxCode code, Deps deps, ActorRef<FunctionActor.Command> owner, boolean provisioned,
      ActorRef<WorkerActor.Command> worker) {
    this.ctx = ctx;
    this.worker = worker;
    this.provisioned = provisioned;
    this.meters = deps.metrics().invocations(config.name(), config.version());
    this.timers = timers;
    this.config = config;
    this.code = code;
    this.deps = deps;
    this.owner = owner;
    this.dir = deps.settings().dataDir().resolve("sandboxes").resolve(UUID.randomUUID().toString());
    this.output = new SandboxOutput(dir.resolve("output.log"));
  }

  /**
   * {@code provisioned}: initialised ahead of traffic for provisioned concurrency: the runtime
   * sees {@code AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency}, invocations report no
   * {@code Init Duration}, and the sandbox neither expires nor gives its memory back while idle.
   */
  public static Behavior<Command> create(FunctionConfig config, SandboxCode code, Deps deps,
      ActorRef<FunctionActor.Command> owner, boolean provisioned, ActorRef<WorkerActor.Command> worker) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.watch(owner);  // a sandbox whose owner is gone can never be given work again
      return new SandboxActor(ctx, timers, config, code, deps, owner, provisioned, worker).start();
    }));
  }

  // ---- Starting ---------------------------------------------------------------------------

  private Behavior<Command> start() {
    timers.startSingleTimer(TIMER_INIT, InitTimedOut.INSTANCE, deps.settings().initTimeout());
    timers.startSingleTimer(TIMER_LIFETIME, LifetimeExpired.INSTANCE, deps.settings().maxLifetime());
    if (config.runtime().startsWith("provided") && !code.hasBootstrap()) {
      return failInit("Runtime.InvalidEntrypoint",
          "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]", null);
    }
    ActorRef<Command> self = ctx.getSelf();
    launchNanos = System.nanoTime();
    launching = CompletableFuture.supplyAsync(
        () -> SandboxResources.acquire(self, config, code, dir, output, deps, provisioned), deps.blocking());
    ctx.pipeToSelf(launching,
        (started, failure) -> failure == null ? started
            : new StartFailed("Runtime.InvalidEntrypoint", "Runtime could not start: " + rootMessage(failure)));
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(Started.class, this::onStarted)
        .onMessage(RuntimeReady.class, m -> {
          readyBeforeStarted = true;  // the runtime was faster than our Started message
          return Behaviors.same();
        })
        .onMessage(InitErrorPosted.class, m -> {
          initErrorBeforeStarted = m;
          return Behaviors.same();
        })
        .onMessage(StartFailed.class, m -> failInit(m.errorType(), m.message(), null))
        .onMessage(InitTimedOut.class, m -> abandonStart("Sandbox did not start in time"))
        .onMessage(Stop.class, m -> abandonStart("Sandbox stopped while starting: " + m.reason()))
        .onMessage(Invoke.class, this::bounce))
        .onSignal(Terminated.class, t -> {
          ownerGone = true;
          return abandoningStart();
        })
        .onSignal(PostStop.class, s -> cleanUpNow())
        .build();
  }

  /** Gives up a start still in progress: the owner hears why, the process goes once it exists. */
  private Behavior<Command> abandonStart(String message) {
    owner.tell(new FunctionActor.SandboxFailed(ctx.getSelf(), config.sandboxKey(), "Sandbox.Failure", message,
        null, "", provisioned));
    return abandoningStart();
  }

  /** Stopped while the process was being started: wait for it, then tear it down. */
  private Behavior<Command> abandoningStart() {
    timers.cancelAll();
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(Reclaim.class, m -> Behaviors.same())  // leaving anyway: the memory comes back
        .onMessage(Started.class, m -> {
          endpoint = m.endpoint();
          process = m.process();
          slot = m.slot();
          ctx.pipeToSelf(process.onExit(), (code, failure) -> exitOf(code));
          return stopping();
        })
        .onMessage(StartFailed.class, m -> Behaviors.stopped())
        .onMessage(Invoke.class, this::bounce))
        .onSignal(Terminated.class, t -> Behaviors.same())
        .onSignal(PostStop.class, s -> cleanUpNow())
        .build();
  }

  private Behavior<Command> onStarted(Started started) {
    endpoint = started.endpoint();
    process = started.process();
    slot = started.slot();
    ctx.pipeToSelf(process.onExit(), (code, failure) -> exitOf(code));
    if (initErrorBeforeStarted != null) {
      return onInitError(initErrorBeforeStarted);
    }
    if (readyBeforeStarted) {
      onRuntimeReady();
    }
    return initializing();
  }

  // ---- Initializing -----------------------------------------------------------------------

  private Behavior<Command> initializing() {
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(RuntimeReady.class, m -> onRuntimeReady())
        .onMessage(InitLogged.class, m -> {
          owner.tell(new FunctionActor.SandboxReady(ctx.getSelf(), config.sandboxKey(), provisioned));
          return idle();
        })
        .onMessage(InitErrorPosted.class, this::onInitError)
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          return failInit("Runtime.ExitError", InvocationLog.exitMessage(m.exitCode(), m.outOfMemory(),
              config.memorySizeMb()), null);
        })
        .onMessage(InitTimedOut.class, m -> failInit("Sandbox.Timedout", String.format(Locale.ROOT,
            "Init timed out after %.2f seconds", deps.settings().initTimeout().toMillis() / 1000.0), null))
        .onMessage(Stop.class, m -> failInit("Sandbox.Failure", "Sandbox stopped while initializing: " + m.reason(), null))
        .onMessage(Invoke.class, this::bounce))
        .onSignal(Terminated.class, t -> {
          ownerGone = true;
          return stopping();
        })
        .onSignal(PostStop.class, s -> cleanUpNow())
        .build();
  }

  private Behavior<Command> onRuntimeReady() {
    timers.cancel(TIMER_INIT);
    // Lambda reports no Init Duration for environments initialised ahead of traffic.
    initDurationMs = provisioned ? -1 : (System.nanoTime() - launchNanos) / 1e6;
    // Output written during init goes to the log before the first START line.
    LaunchedProcess p = process;
    ctx.pipeToSelf(CompletableFuture.runAsync(() -> {
      if (p != null) {
        p.initialised();  // init ran unthrottled; from now on the CPU quota applies
      }
      String init = output.take();
      if (!init.isEmpty()) {
        deps.logs().append(config.name(), init);
      }
    }, deps.blocking()), (v, failure) -> InitLogged.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> onInitError(InitErrorPosted posted) {
    String type = posted.errorType() == null ? "Runtime.Unknown" : posted.errorType();
    ByteString body = posted.body().isEmpty() ? ByteString.fromString(Json.error(type, type)) : posted.body();
    return failInit(type, null, body);
  }

  /**
   * Init failed: log what the runtime wrote, tell the owner (it fails the invocation that waited
   * for us, with that log as its tail), and stop. The log is read off the actor; the owner is
   * told from there, so the message cannot be lost when this actor has stopped meanwhile.
   */
  private Behavior<Command> failInit(String errorType, String message, ByteString payload) {
    timers.cancel(TIMER_INIT);
    String note = String.format(Locale.ROOT, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error"
        + "\tError Type: %s", (System.nanoTime() - launchNanos) / 1e6, errorType);
    ActorRef<SandboxActor.Command> self = ctx.getSelf();
    Runnable report = () -> {
      String text = output.take() + (message != null ? errorType + ": " + message + "\n" : "") + note + "\n";
      deps.logs().append(config.name(), text);
      owner.tell(new FunctionActor.SandboxFailed(self, config.sandboxKey(), errorType, message, payload, text,
          provisioned));
    };
    try {
      CompletableFuture.runAsync(report, deps.blocking());
    } catch (java.util.concurrent.RejectedExecutionException e) {
      owner.tell(new FunctionActor.SandboxFailed(self, config.sandboxKey(), errorType, message, payload, "",
          provisioned));
    }
    return stopping();
  }

  // ---- Idle ⇄ Busy -------------------------------------------------------------------------

  private Behavior<Command> idle() {
    if (draining) {
      return retire();
    }
    if (!provisioned) {
      timers.startSingleTimer(TIMER_KEEPALIVE, KeepAliveExpired.INSTANCE, deps.settings().keepAlive());
    }
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(Invoke.class, this::onInvoke)
        .onMessage(KeepAliveExpired.class, m -> retire())
        .onMessage(LifetimeExpired.class, m -> retire())
        .onMessage(Drain.class, m -> retire())
        .onMessage(Reclaim.class, m -> {
          if (provisioned) {
            m.replyTo().tell(new WorkerActor.ReclaimDeclined(ctx.getSelf()));
            return Behaviors.same();
          }
          return retire();
        })
        .onMessage(Stop.class, m -> leave())
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          return retire();
        }))
        .onSignal(Terminated.class, t -> {
          ownerGone = true;
          return stopping();
        })
        .onSignal(PostStop.class, s -> cleanUpNow())
        .build();
  }

  private Behavior<Command> onInvoke(Invoke invoke) {
    timers.cancel(TIMER_KEEPALIVE);
    Current current = new Current(invoke, System.nanoTime());
    timers.startSingleTimer(TIMER_INVOKE, new InvokeTimedOut(current.id()), Duration.ofSeconds(config.timeoutSeconds()));
    endpoint.deliver(invoke.invocation(), System.currentTimeMillis() + config.timeoutSeconds() * 1000L);
    return busy(current);
  }

  private Behavior<Command> busy(Current current) {
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(ResultPosted.class, m -> m.requestId().equals(current.id()) ? onResult(current, m)
            : Behaviors.same())
        .onMessage(InvokeTimedOut.class, m -> {
          if (!m.requestId().equals(current.id())) {
            return Behaviors.same();
          }
          endpoint.abandonCurrent();
          String seconds = String.format(Locale.ROOT, "%.2f", (double) config.timeoutSeconds());
          String message = "RequestId: " + current.id() + " Error: Task timed out after " + seconds + " seconds";
          String note = Instant.now() + " " + current.id() + " Task timed out after " + seconds + " seconds";
          // Answer now; the sandbox is never reused, and it waits for the process tree to be gone
          // before it releases its port, directory and memory (see stopping()).
          return finishAsync(current, new Outcome(ByteString.fromString(Json.error("Sandbox.Timedout", message)),
              true, false, note), true);
        })
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          endpoint.abandonCurrent();
          String message = "RequestId: " + current.id() + " Error: "
              + InvocationLog.exitMessage(m.exitCode(), m.outOfMemory(), config.memorySizeMb());
          return finishAsync(current, new Outcome(ByteString.fromString(Json.error("Runtime.ExitError", message)),
              true, false, message + "\nRuntime.ExitError"), false);
        })
        .onMessage(Stop.class, m -> {
          endpoint.abandonCurrent();
          String message = "RequestId: " + current.id() + " Error: Sandbox stopped: " + m.reason();
          return finishAsync(current, new Outcome(ByteString.fromString(Json.error("Sandbox.Failure", message)),
              true, false, message), true);
        })
        .onMessage(Invoke.class, this::bounce))
        .onSignal(Terminated.class, t -> {
          ownerGone = true;  // finish this invocation, then leave
          return Behaviors.same();
        })
        .onSignal(PostStop.class, s -> cleanUpNow())
        .build();
  }

  /** The warm path: the endpoint already collected output and memory, so finish right here. */
  private Behavior<Command> onResult(Current current, ResultPosted posted) {
    timers.cancel(TIMER_INVOKE);
    Outcome outcome;
    if (posted.tooLarge()) {
      outcome = new Outcome(ByteString.fromString("{\"errorMessage\":" + Json.quote(
          "Response payload size exceeded maximum allowed payload size (" + deps.settings().maxResponseBytes()
              + " bytes).") + ",\"errorType\":\"Function.ResponseSizeTooLarge\"}"), true, true, null);
    } else if (posted.isError()) {
      String type = posted.errorType() == null ? "Function.Unknown" : posted.errorType();
      outcome = new Outcome(posted.body().isEmpty() ? ByteString.fromString(Json.error(type, type)) : posted.body(),
          true, true, null);
    } else {
      outcome = new Outcome(posted.body(), false, true, null);
    }
    double durationMs = (posted.endNanos() - current.startNanos()) / 1e6;
    return onFinished(finish(current, outcome, durationMs, posted.output(), posted.maxMemoryMb(), takeInitDuration()));
  }

  /**
   * A failed invocation: collect its output and memory off the actor (killing the process there
   * when it must die), then reply (see onFinished).
   */
  private Behavior<Command> finishAsync(Current current, Outcome outcome, boolean kill) {
    timers.cancel(TIMER_INVOKE);
    double durationMs = (System.nanoTime() - current.startNanos()) / 1e6;
    double initMs = takeInitDuration();
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      // Peak memory is read before the kill, while the process still exists to be measured.
      long maxMemory = output.peakMemoryMb(config.memorySizeMb());
      if (kill) {
        process.kill();
      }
      return finish(current, outcome, durationMs, output.take(), maxMemory, initMs);
    }, deps.blocking()),
        (finished, failure) -> failure == null ? finished
            : new Finished(InvocationResult.ran(current.id(), outcome.payload(), outcome.functionError(),
                config.version(), null), outcome.reusable(), current.invoke().replyTo()));
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(Finished.class, this::onFinished)
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          return Behaviors.same();
        })
        .onMessage(Stop.class, m -> {
          stopRequested = true;  // honoured once the reply is out: see onFinished
          return Behaviors.same();
        })
        .onMessage(Invoke.class, this::bounce))
        .onSignal(Terminated.class, t -> {
          ownerGone = true;
          return Behaviors.same();
        })
        .onSignal(PostStop.class, s -> cleanUpNow())
        .build();
  }

  /**
   * Writes the invocation's log block and makes the reply. Runs on the actor (warm path) or the
   * blocking executor (failures), so it touches no actor state: {@code initMs} is taken before.
   */
  private Finished finish(Current current, Outcome outcome, double durationMs, String out, long maxMemoryMb,
      double initMs) {
    String text = InvocationLog.block(config, current.id(), out, outcome.logNote(), durationMs, maxMemoryMb, initMs);
    meters.record(outcome.functionError(), durationMs, initMs);
    try {
      deps.logs().append(config.name(), text);
    } catch (RuntimeException e) {
      // the log store is closing with the node: the invocation still gets its answer
    }
    String tail = current.invoke().invocation().tailLog() ? LogTail.of(text) : null;
    return new Finished(InvocationResult.ran(current.id(), outcome.payload(), outcome.functionError(),
        config.version(), tail), outcome.reusable(), current.invoke().replyTo());
  }

  /** The cold start's init duration for the first REPORT, then never again (negative: none). */
  private double takeInitDuration() {
    double initMs = initDurationMs;
    initDurationMs = -1;
    return initMs;
  }

  private Behavior<Command> onFinished(Finished finished) {
    // The reply goes straight to whoever asked; the owner hears about the sandbox afterwards.
    finished.replyTo().tell(finished.result());
    if (!finished.reusable() || exited || stopRequested || ownerGone || draining) {
      return leave();
    }
    owner.tell(new FunctionActor.SandboxIdle(ctx.getSelf(), config.sandboxKey()));
    worker.tell(new WorkerActor.SandboxUsed(ctx.getSelf()));   // after the owner: off the next invocation's path
    return idle();
  }

  // ---- Leaving ------------------------------------------------------------------------------

  /** An invocation this sandbox cannot run goes back to the owner, which finds it another one. */
  private Behavior<Command> bounce(Invoke invoke) {
    if (ownerGone) {
      invoke.replyTo().tell(InvocationResult.refused(invoke.invocation().requestId(),
          dev.lamina.actors.LambdaError.Code.ServiceException, "The function's sandboxes were moved; retry", null));
    } else {
      owner.tell(new FunctionActor.Bounced(invoke.invocation(), invoke.replyTo()));
    }
    return Behaviors.same();
  }

  /**
   * An idle sandbox leaves: ask the owner first. Until it confirms, an invocation it already sent
   * may still arrive; it is bounced back.
   */
  private Behavior<Command> retire() {
    timers.cancelAll();
    owner.tell(new FunctionActor.SandboxRetiring(ctx.getSelf(), config.sandboxKey()));
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(Reclaim.class, m -> Behaviors.same())  // leaving anyway: the memory comes back
        .onMessage(Invoke.class, this::bounce)
        .onMessage(RetireConfirmed.class, m -> stopping())
        .onMessage(Stop.class, m -> stopping())
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          return Behaviors.same();
        }))
        .onSignal(Terminated.class, t -> {
          ownerGone = true;
          return stopping();
        })
        .onSignal(PostStop.class, s -> cleanUpNow())
        .build();
  }

  /** A ready sandbox leaves: the owner forgets it now, the process dies, then the actor stops. */
  private Behavior<Command> leave() {
    owner.tell(new FunctionActor.SandboxGone(ctx.getSelf(), config.sandboxKey()));
    return stopping();
  }

  private Behavior<Command> stopping() {
    timers.cancelAll();
    if (process == null || exited) {
      return Behaviors.stopped();
    }
    process.kill();
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(Reclaim.class, m -> Behaviors.same())  // leaving anyway: the memory comes back
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          return Behaviors.stopped();
        })
        .onMessage(Invoke.class, this::bounce))
        .onSignal(Terminated.class, t -> Behaviors.same())
        .onSignal(PostStop.class, s -> cleanUpNow())
        .build();
  }

  /**
   * PostStop in every state: nothing of this sandbox may outlive the actor. The endpoint closes
   * only once the process tree is gone (a dying runtime must not reach a port that another sandbox
   * may get next); its threads are not daemons, so it must close even when the node shuts down.
   */
  private Behavior<Command> cleanUpNow() {
    // Before the launch reported back, tear down whatever it produces.
    CompletableFuture<Started> parts = process != null ? CompletableFuture.completedFuture(new Started(endpoint, process, slot))
        : launching != null ? launching : CompletableFuture.completedFuture(null);
    Path d = dir;
    parts.whenComplete((started, failure) -> SandboxResources.release(started, d, deps.blocking()));
    return Behaviors.same();
  }

  // ---- helpers -------------------------------------------------------------------------------

  private ProcessExited exitOf(Integer code) {
    return new ProcessExited(code == null ? -1 : code, process != null && process.outOfMemory());
  }

  /**
   * Messages that can arrive late in any state (a result after a timeout, an init error after
   * init) are dropped here explicitly: the endpoint has already answered the runtime.
   */
  private BehaviorBuilder<Command> answeringStrayCalls(BehaviorBuilder<Command> builder) {
    return builder
        .onMessage(ResultPosted.class, m -> Behaviors.same())
        .onMessage(InitErrorPosted.class, m -> Behaviors.same())
        .onMessage(RuntimeReady.class, m -> Behaviors.same())
        .onMessage(InvokeTimedOut.class, m -> Behaviors.same())
        .onMessage(InitTimedOut.class, m -> Behaviors.same())
        .onMessage(KeepAliveExpired.class, m -> Behaviors.same())
        .onMessage(InitLogged.class, m -> Behaviors.same())
        .onMessage(RetireConfirmed.class, m -> Behaviors.same())
        .onMessage(Drain.class, m -> {
          draining = true;   // honoured at the next idle moment
          return Behaviors.same();
        })
        .onMessage(LifetimeExpired.class, m -> {
          draining = true;
          return Behaviors.same();
        })
        .onMessage(Reclaim.class, m -> {
          m.replyTo().tell(new WorkerActor.ReclaimDeclined(ctx.getSelf()));
          return Behaviors.same();
        })
        .onMessage(Stop.class, m -> Behaviors.same());
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage();
  }
}
