package dev.lamina.actors.sandbox;

import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.function.Invocation;
import dev.lamina.actors.function.InvocationResult;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.persistence.logs.LogStore;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;

/**
 * One execution environment for one function revision: one OS process running a runtime that
 * speaks the Runtime API to an endpoint serving this sandbox alone. Serves one invocation at a
 * time; its process memory and /tmp survive between invocations (warm reuse).
 *
 * <p>Contract: the owning {@link FunctionActor} sends {@link Invoke} only after this sandbox
 * reported {@code SandboxReady} or {@code SandboxIdle}. An Invoke that arrives at any other time
 * is a bug and is answered with a ServiceException, never queued. {@link Stop} may arrive at any
 * time. The owner hears exactly one of {@code SandboxFailed} (init never completed) or
 * {@code SandboxGone} (stopped after having been ready) when this sandbox ends. A sandbox whose
 * invocation timed out or whose process died is never reused.
 *
 * <p>States: Starting (bind endpoint, start process) → Initializing (runtime init, until its
 * first {@code /next}) → Idle ⇄ Busy → Completing (collecting logs) → Idle; any → Stopping
 * (process killed, waiting until it has exited) → stopped. Leaving, the actor kills the whole
 * process tree and waits for it before releasing the port and directories.
 */
public final class SandboxActor {

  public sealed interface Command
      permits Invoke, Stop, Bound, StartFailed, Launched, ProcessExited, NextRequested, ResponsePosted,
          ErrorPosted, InitErrorPosted, ResponseTooLarge, InvokeTimedOut, InitTimedOut, KeepAliveExpired,
          InitOutputRead, Finished {}

  public record Invoke(Invocation invocation, ActorRef<InvocationResult> replyTo) implements Command {}

  public record Stop(String reason) implements Command {}

  record Bound(ServerBinding binding) implements Command {}

  record StartFailed(String errorType, String message) implements Command {}

  record Launched(LaunchedProcess process) implements Command {}

  record ProcessExited(int exitCode) implements Command {}

  record NextRequested(CompletableFuture<HttpResponse> reply) implements Command {}

  record ResponsePosted(String requestId, ByteString body, CompletableFuture<HttpResponse> reply) implements Command {}

  record ErrorPosted(String requestId, String errorType, ByteString body, CompletableFuture<HttpResponse> reply)
      implements Command {}

  record InitErrorPosted(String errorType, ByteString body, CompletableFuture<HttpResponse> reply) implements Command {}

  record ResponseTooLarge(String requestId, CompletableFuture<HttpResponse> reply) implements Command {}

  record InvokeTimedOut(String requestId) implements Command {}

  enum InitTimedOut implements Command { INSTANCE }

  enum KeepAliveExpired implements Command { INSTANCE }

  record InitOutputRead(long offset) implements Command {}

  record Finished(InvocationResult result, long outputOffset, boolean reusable, ActorRef<InvocationResult> replyTo)
      implements Command {}

  /** What a sandbox needs from its node. */
  public record Deps(SandboxLauncher launcher, RuntimeFiles runtimes, SandboxSettings settings, LogStore logs,
      Executor blocking) {}

  /** How an invocation ended, before logs are collected. */
  private record Outcome(ByteString payload, boolean functionError, boolean reusable, String logNote) {}

  /** The invocation in progress. */
  private static final class Current {
    final Invoke invoke;
    final long startNanos;
    boolean delivered;

    Current(Invoke invoke, long startNanos) {
      this.invoke = invoke;
      this.startNanos = startNanos;
    }

    String id() {
      return invoke.invocation().requestId();
    }
  }

  private static final String TIMER_INVOKE = "invoke-timeout";
  private static final String TIMER_INIT = "init-timeout";
  private static final String TIMER_KEEPALIVE = "keep-alive";

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final FunctionConfig config;
  private final Path codeDir;
  private final Deps deps;
  private final ActorRef<FunctionActor.Command> owner;
  private final Path dir;
  private final Path outputFile;

  private ServerBinding binding;
  private LaunchedProcess process;
  private long launchNanos;
  private double initDurationMs = -1;   // reported on the first invocation only, then reset
  private long outputOffset;
  private CompletableFuture<HttpResponse> waiter;   // the runtime's pending /next
  private boolean exited;
  private boolean stopRequested;

  private SandboxActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, FunctionConfig config,
      Path codeDir, Deps deps, ActorRef<FunctionActor.Command> owner) {
    this.ctx = ctx;
    this.timers = timers;
    this.config = config;
    this.codeDir = codeDir;
    this.deps = deps;
    this.owner = owner;
    this.dir = deps.settings().dataDir().resolve("sandboxes").resolve(UUID.randomUUID().toString());
    this.outputFile = dir.resolve("output.log");
  }

  public static Behavior<Command> create(FunctionConfig config, Path codeDir, Deps deps,
      ActorRef<FunctionActor.Command> owner) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      SandboxActor sandbox = new SandboxActor(ctx, timers, config, codeDir, deps, owner);
      return sandbox.start();
    }));
  }

  // ---- Starting ---------------------------------------------------------------------------

  private Behavior<Command> start() {
    timers.startSingleTimer(TIMER_INIT, InitTimedOut.INSTANCE, deps.settings().initTimeout());
    ctx.pipeToSelf(RuntimeApiServer.bind(ctx.getSystem(), ctx.getSelf(), deps.settings().maxResponseBytes()),
        (b, failure) -> failure == null ? new Bound(b)
            : new StartFailed("Sandbox.Failure", "Runtime API endpoint could not bind: " + failure));
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(Bound.class, this::onBound)
        .onMessage(Launched.class, this::onLaunched)
        .onMessage(StartFailed.class, m -> failInit(m.errorType(), m.message(), null))
        .onMessage(InitTimedOut.class, m -> failInit("Sandbox.Failure", "Sandbox did not start in time", null))
        .onMessage(Stop.class, m -> stopping())
        .onMessage(Invoke.class, this::rejectInvoke)
        .onSignal(PostStop.class, s -> cleanUpNow())
        )
        .build();
  }

  private Behavior<Command> onBound(Bound bound) {
    binding = bound.binding();
    String runtimeApi = "127.0.0.1:" + binding.localAddress().getPort();
    if (config.runtime().startsWith("provided") && !Files.isExecutable(codeDir.resolve("bootstrap"))) {
      return failInit("Runtime.InvalidEntrypoint",
          "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]", null);
    }
    launchNanos = System.nanoTime();
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Files.createFile(outputFile);
        SandboxLauncher.Layout layout = deps.launcher().layout(codeDir, deps.runtimes().root(), tmp);
        return deps.launcher().launch(new SandboxLauncher.LaunchSpec(
            RuntimeCommand.argv(config, layout, deps.settings()),
            RuntimeCommand.environment(config, layout, runtimeApi, deps.settings()),
            codeDir, deps.runtimes().root(), tmp, outputFile, config.memorySizeMb(), config.ephemeralStorageMb()));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, deps.blocking()), (p, failure) -> failure == null ? new Launched(p)
        : new StartFailed("Runtime.InvalidEntrypoint", "Runtime could not start: " + rootMessage(failure)));
    return Behaviors.same();
  }

  private Behavior<Command> onLaunched(Launched launched) {
    process = launched.process();
    ctx.pipeToSelf(process.onExit(), (code, failure) -> new ProcessExited(code == null ? -1 : code));
    return initializing();
  }

  // ---- Initializing -----------------------------------------------------------------------

  private Behavior<Command> initializing() {
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(NextRequested.class, this::onFirstNext)
        .onMessage(InitOutputRead.class, this::onInitOutputRead)
        .onMessage(InitErrorPosted.class, this::onInitError)
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          return failInit("Runtime.ExitError", exitMessage(m.exitCode()), null);
        })
        .onMessage(InitTimedOut.class, m -> failInit("Sandbox.Timedout",
            String.format(Locale.ROOT, "Init timed out after %.2f seconds", deps.settings().initTimeout().toMillis() / 1000.0),
            null))
        .onMessage(Stop.class, m -> stopping())
        .onMessage(Invoke.class, this::rejectInvoke)
        .onSignal(PostStop.class, s -> cleanUpNow())
        )
        .build();
  }

  private Behavior<Command> onFirstNext(NextRequested next) {
    timers.cancel(TIMER_INIT);
    initDurationMs = (System.nanoTime() - launchNanos) / 1e6;
    waiter = next.reply();
    // Output written during init belongs before the first START line.
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      OutputSlice init = readOutput(outputOffset);
      if (!init.text().isEmpty()) {
        deps.logs().append(config.name(), init.text());
      }
      return init.nextOffset();
    }, deps.blocking()), (offset, failure) -> new InitOutputRead(offset == null ? outputOffset : offset));
    return Behaviors.same();
  }

  private Behavior<Command> onInitOutputRead(InitOutputRead read) {
    outputOffset = read.offset();
    owner.tell(new FunctionActor.SandboxReady(ctx.getSelf(), config.sandboxKey()));
    return idle();
  }

  private Behavior<Command> onInitError(InitErrorPosted posted) {
    posted.reply().complete(RuntimeApiServer.accepted());
    String type = posted.errorType() == null ? "Runtime.Unknown" : posted.errorType();
    ByteString body = posted.body().isEmpty() ? ByteString.fromString(Json.error(type, type)) : posted.body();
    return failInit(type, null, body);
  }

  /** Init failed: tell the owner (it fails the invocation that waited for us), log, and stop. */
  private Behavior<Command> failInit(String errorType, String message, ByteString payload) {
    timers.cancel(TIMER_INIT);
    owner.tell(new FunctionActor.SandboxFailed(ctx.getSelf(), config.sandboxKey(), errorType, message, payload));
    String note = message != null ? errorType + ": " + message : "INIT_REPORT Status: error\tError Type: " + errorType;
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      OutputSlice init = readOutput(outputOffset);
      deps.logs().append(config.name(), init.text() + note + "\n");
      return init.nextOffset();
    }, deps.blocking()), (offset, failure) -> new InitOutputRead(0));
    return stopping();
  }

  // ---- Idle ⇄ Busy -------------------------------------------------------------------------

  private Behavior<Command> idle() {
    timers.startSingleTimer(TIMER_KEEPALIVE, KeepAliveExpired.INSTANCE, deps.settings().keepAlive());
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(Invoke.class, this::onInvoke)
        .onMessage(NextRequested.class, m -> {
          waiter = m.reply();
          return Behaviors.same();
        })
        .onMessage(KeepAliveExpired.class, m -> leave())
        .onMessage(Stop.class, m -> leave())
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          return leave();
        })
        .onSignal(PostStop.class, s -> cleanUpNow())
        )
        .build();
  }

  private Behavior<Command> onInvoke(Invoke invoke) {
    timers.cancel(TIMER_KEEPALIVE);
    Current current = new Current(invoke, System.nanoTime());
    timers.startSingleTimer(TIMER_INVOKE, new InvokeTimedOut(current.id()),
        Duration.ofSeconds(config.timeoutSeconds()));
    if (waiter != null) {
      deliver(current);
    }
    return busy(current);
  }

  private void deliver(Current current) {
    Invocation inv = current.invoke.invocation();
    long deadline = System.currentTimeMillis() + config.timeoutSeconds() * 1000L;
    HttpResponse response = HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, inv.payload()))
        .addHeader(RawHeader.create("Lambda-Runtime-Aws-Request-Id", inv.requestId()))
        .addHeader(RawHeader.create("Lambda-Runtime-Deadline-Ms", Long.toString(deadline)))
        .addHeader(RawHeader.create("Lambda-Runtime-Invoked-Function-Arn", inv.invokedFunctionArn()));
    if (inv.traceId() != null) {
      response = response.addHeader(RawHeader.create("Lambda-Runtime-Trace-Id", inv.traceId()));
    }
    if (inv.clientContext() != null) {
      response = response.addHeader(RawHeader.create("Lambda-Runtime-Client-Context", inv.clientContext()));
    }
    CompletableFuture<HttpResponse> w = waiter;
    waiter = null;
    current.delivered = true;
    w.complete(response);
  }

  private Behavior<Command> busy(Current current) {
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(NextRequested.class, m -> {
          waiter = m.reply();
          if (!current.delivered) {
            deliver(current);
          }
          return Behaviors.same();
        })
        .onMessage(ResponsePosted.class, m -> {
          if (!m.requestId().equals(current.id())) {
            m.reply().complete(RuntimeApiServer.error(400, "InvalidRequestID", "Invalid request ID"));
            return Behaviors.same();
          }
          m.reply().complete(RuntimeApiServer.accepted());
          return complete(current, new Outcome(m.body(), false, true, null));
        })
        .onMessage(ErrorPosted.class, m -> {
          if (!m.requestId().equals(current.id())) {
            m.reply().complete(RuntimeApiServer.error(400, "InvalidRequestID", "Invalid request ID"));
            return Behaviors.same();
          }
          m.reply().complete(RuntimeApiServer.accepted());
          String type = m.errorType() == null ? "Function.Unknown" : m.errorType();
          ByteString body = m.body().isEmpty() ? ByteString.fromString(Json.error(type, type)) : m.body();
          return complete(current, new Outcome(body, true, true, null));
        })
        .onMessage(ResponseTooLarge.class, m -> {
          m.reply().complete(RuntimeApiServer.error(413, "RequestEntityTooLarge",
              "Exceeded maximum allowed payload size (" + deps.settings().maxResponseBytes() + " bytes)."));
          if (!m.requestId().equals(current.id())) {
            return Behaviors.same();
          }
          String message = "Response payload size exceeded maximum allowed payload size ("
              + deps.settings().maxResponseBytes() + " bytes).";
          ByteString payload = ByteString.fromString(
              "{\"errorMessage\":" + Json.quote(message) + ",\"errorType\":\"Function.ResponseSizeTooLarge\"}");
          return complete(current, new Outcome(payload, true, true, null));
        })
        .onMessage(InvokeTimedOut.class, m -> {
          if (!m.requestId().equals(current.id())) {
            return Behaviors.same();
          }
          String seconds = String.format(Locale.ROOT, "%.2f", (double) config.timeoutSeconds());
          String message = "RequestId: " + current.id() + " Error: Task timed out after " + seconds + " seconds";
          String note = Instant.now() + " " + current.id() + " Task timed out after " + seconds + " seconds";
          return awaitExit(current, new Outcome(ByteString.fromString(Json.error("Sandbox.Timedout", message)),
              true, false, note));
        })
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          String message = "RequestId: " + current.id() + " Error: " + exitMessage(m.exitCode());
          return complete(current, new Outcome(ByteString.fromString(Json.error("Runtime.ExitError", message)),
              true, false, message + "\nRuntime.ExitError"));
        })
        .onMessage(Stop.class, m -> {
          String message = "RequestId: " + current.id() + " Error: Sandbox stopped: " + m.reason();
          return awaitExit(current, new Outcome(ByteString.fromString(Json.error("Sandbox.Failure", message)),
              true, false, message));
        })
        .onMessage(Invoke.class, this::rejectInvoke)
        .onSignal(PostStop.class, s -> cleanUpNow())
        )
        .build();
  }

  /** The process must die (timeout, stop): kill it and finish the invocation once it has exited. */
  private Behavior<Command> awaitExit(Current current, Outcome outcome) {
    timers.cancel(TIMER_INVOKE);
    if (exited) {
      return complete(current, outcome);
    }
    process.kill();
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          return complete(current, outcome);
        })
        .onMessage(NextRequested.class, m -> Behaviors.same())
        .onMessage(Invoke.class, this::rejectInvoke)
        .onSignal(PostStop.class, s -> cleanUpNow())
        )
        .build();
  }

  // ---- Completing ---------------------------------------------------------------------------

  /** Collects the invocation's output and memory off the actor, then replies (see onFinished). */
  private Behavior<Command> complete(Current current, Outcome outcome) {
    timers.cancel(TIMER_INVOKE);
    double durationMs = (System.nanoTime() - current.startNanos) / 1e6;
    double initMs = initDurationMs;
    initDurationMs = -1;
    long from = outputOffset;
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> finish(current, outcome, durationMs, initMs, from),
        deps.blocking()), (finished, failure) -> failure == null ? finished
            : new Finished(InvocationResult.ran(current.id(), outcome.payload(), outcome.functionError(),
                config.version(), null), from, outcome.reusable(), current.invoke.replyTo()));
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(Finished.class, this::onFinished)
        .onMessage(NextRequested.class, m -> {
          waiter = m.reply();
          return Behaviors.same();
        })
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          return Behaviors.same();
        })
        .onMessage(Stop.class, m -> {
          stopRequested = true;  // honoured once the reply is out: see onFinished
          return Behaviors.same();
        })
        .onMessage(Invoke.class, this::rejectInvoke)
        .onSignal(PostStop.class, s -> cleanUpNow())
        )
        .build();
  }

  /** Runs on the blocking executor: reads output, measures memory, writes the log block. */
  private Finished finish(Current current, Outcome outcome, double durationMs, double initMs, long from) {
    OutputSlice out = readOutput(from);
    long maxMemory = process.isAlive() ? process.peakMemoryMb() : config.memorySizeMb();
    String id = current.id();
    StringBuilder log = new StringBuilder(256 + out.text().length());
    log.append("START RequestId: ").append(id).append(" Version: ").append(config.version()).append('\n');
    log.append(out.text());
    if (outcome.logNote() != null) {
      log.append(outcome.logNote()).append('\n');
    }
    log.append("END RequestId: ").append(id).append('\n');
    log.append("REPORT RequestId: ").append(id)
        .append(String.format(Locale.ROOT, "\tDuration: %.2f ms", durationMs))
        .append("\tBilled Duration: ").append((long) Math.ceil(durationMs)).append(" ms")
        .append("\tMemory Size: ").append(config.memorySizeMb()).append(" MB")
        .append("\tMax Memory Used: ").append(Math.min(maxMemory, config.memorySizeMb())).append(" MB");
    if (initMs >= 0) {
      log.append(String.format(Locale.ROOT, "\tInit Duration: %.2f ms", initMs));
    }
    log.append("\t\n");
    String text = log.toString();
    deps.logs().append(config.name(), text);
    String tail = current.invoke.invocation().tailLog() ? lastFourKb(text) : null;
    return new Finished(InvocationResult.ran(id, outcome.payload(), outcome.functionError(), config.version(), tail),
        out.nextOffset(), outcome.reusable(), current.invoke.replyTo());
  }

  private Behavior<Command> onFinished(Finished finished) {
    outputOffset = finished.outputOffset();
    // The reply goes straight to whoever asked; the owner hears about the sandbox afterwards.
    finished.replyTo().tell(finished.result());
    if (!finished.reusable() || exited || stopRequested) {
      return leave();
    }
    owner.tell(new FunctionActor.SandboxIdle(ctx.getSelf(), config.sandboxKey()));
    return idle();
  }

  // ---- Leaving ------------------------------------------------------------------------------

  private Behavior<Command> rejectInvoke(Invoke invoke) {
    invoke.replyTo().tell(InvocationResult.refused(invoke.invocation().requestId(),
        dev.lamina.actors.LambdaError.Code.ServiceException, "Sandbox was not ready for an invocation", null));
    return Behaviors.same();
  }

  /** A ready sandbox leaves: the owner forgets it now, the process dies, then the actor stops. */
  private Behavior<Command> leave() {
    owner.tell(new FunctionActor.SandboxGone(ctx.getSelf(), config.sandboxKey()));
    return stopping();
  }

  private Behavior<Command> stopping() {
    timers.cancelAll();
    if (waiter != null) {
      waiter.complete(RuntimeApiServer.error(500, "Sandbox.Stopped", "Runtime should exit promptly"));
      waiter = null;
    }
    if (process == null || exited) {
      return Behaviors.stopped();
    }
    process.kill();
    return answeringStrayCalls(Behaviors.receive(Command.class)
        .onMessage(ProcessExited.class, m -> {
          exited = true;
          return Behaviors.stopped();
        })
        .onMessage(Invoke.class, this::rejectInvoke)
        .onMessage(NextRequested.class, m -> {
          m.reply().complete(RuntimeApiServer.error(500, "Sandbox.Stopped", "Runtime should exit promptly"));
          return Behaviors.same();
        })
        .onSignal(PostStop.class, s -> cleanUpNow())
        )
        .build();
  }

  /** PostStop in every state: nothing of this sandbox may outlive the actor. */
  private Behavior<Command> cleanUpNow() {
    if (process != null && !exited) {
      process.kill();
    }
    if (waiter != null) {
      waiter.complete(RuntimeApiServer.error(500, "Sandbox.Stopped", "Runtime should exit promptly"));
    }
    if (binding != null) {
      binding.terminate(Duration.ofSeconds(1));
    }
    LaunchedProcess p = process;
    Path d = dir;
    Runnable removeDir = () -> deleteTree(d);
    if (p == null) {
      CompletableFuture.runAsync(removeDir, deps.blocking());
    } else {
      // Remove the directory only once every process that could write to it is gone.
      p.onExit().whenCompleteAsync((code, failure) -> removeDir.run(), deps.blocking());
    }
    return Behaviors.same();
  }

  // ---- helpers -------------------------------------------------------------------------------

  /**
   * Runtime API calls that make no sense in the current state are answered, never dropped: a
   * runtime waiting for an answer that never comes would hang (e.g. one re-sending a response
   * after its connection broke).
   */
  private org.apache.pekko.actor.typed.javadsl.BehaviorBuilder<Command> answeringStrayCalls(
      org.apache.pekko.actor.typed.javadsl.BehaviorBuilder<Command> builder) {
    return builder
        .onMessage(ResponsePosted.class, m -> invalidRequestId(m.reply()))
        .onMessage(ErrorPosted.class, m -> invalidRequestId(m.reply()))
        .onMessage(ResponseTooLarge.class, m -> invalidRequestId(m.reply()))
        .onMessage(InitErrorPosted.class, m -> {
          m.reply().complete(RuntimeApiServer.error(403, "InvalidStateTransition",
              "State transition from Ready to InitError failed for runtime."));
          return Behaviors.same();
        });
  }

  private Behavior<Command> invalidRequestId(CompletableFuture<HttpResponse> reply) {
    reply.complete(RuntimeApiServer.error(400, "InvalidRequestID", "Invalid request ID"));
    return Behaviors.same();
  }

  private record OutputSlice(String text, long nextOffset) {}

  /** Everything the process wrote since {@code from}, ending at a line break. Blocking. */
  private OutputSlice readOutput(long from) {
    try (RandomAccessFile raf = new RandomAccessFile(outputFile.toFile(), "r")) {
      long length = raf.length();
      if (length <= from) {
        return new OutputSlice("", from);
      }
      long n = Math.min(length - from, 8L * 1024 * 1024);  // bound what one invocation may log
      byte[] bytes = new byte[(int) n];
      raf.seek(from);
      raf.readFully(bytes);
      String text = new String(bytes, StandardCharsets.UTF_8);
      if (!text.endsWith("\n")) {
        text = text + "\n";
      }
      return new OutputSlice(text, from + n);
    } catch (IOException e) {
      return new OutputSlice("", from);
    }
  }

  private static String lastFourKb(String log) {
    byte[] bytes = log.getBytes(StandardCharsets.UTF_8);
    int from = Math.max(0, bytes.length - 4096);
    return Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(bytes, from, bytes.length));
  }

  static String exitMessage(int exitCode) {
    if (exitCode == 0) {
      return "Runtime exited without providing a reason";
    }
    if (exitCode > 128 && exitCode < 160) {
      String signal = switch (exitCode - 128) {
        case 9 -> "killed";
        case 11 -> "segmentation fault (core dumped)";
        case 6 -> "aborted (core dumped)";
        case 15 -> "terminated";
        case 2 -> "interrupt";
        default -> Integer.toString(exitCode - 128);
      };
      return "Runtime exited with error: signal: " + signal;
    }
    return "Runtime exited with error: exit status " + exitCode;
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage();
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      // best effort: a leftover directory is removed at the next node start
    }
  }
}
