package dev.lamina.actors.worker;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.sandbox.SandboxActor;
import dev.lamina.persistence.code.CodeDigest;
import dev.lamina.persistence.code.CodeStore;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * This node's worker: owns the sandboxes started here (as children) and the memory they hold.
 *
 * <p>Contract: {@link StartSandbox} answers the asking function actor either through the new
 * sandbox ({@code SandboxReady} / {@code SandboxFailed}) or with {@code PlacementFailed} when the
 * memory offered by this worker is used up or the code cannot be prepared. Code is extracted once
 * per digest (off the actor) before the sandbox starts. Host leases (14 h) and placement across
 * nodes arrive with the concurrency and cluster issues.
 *
 * <p>State: the memory reserved per live sandbox.
 */
public final class WorkerActor {

  public sealed interface Command extends CborSerializable permits StartSandbox, CodeReady, CodeFailed {}

  public record StartSandbox(FunctionConfig config, ActorRef<FunctionActor.Command> owner) implements Command {}

  record CodeReady(StartSandbox request, Path codeDir) implements Command {}

  record CodeFailed(StartSandbox request, String message) implements Command {}

  private final ActorContext<Command> ctx;
  private final CodeStore code;
  private final SandboxActor.Deps deps;
  private final long capacityMb;
  private final Map<ActorRef<Void>, Integer> reservedMb = new HashMap<>();
  private long usedMb;

  private WorkerActor(ActorContext<Command> ctx, CodeStore code, SandboxActor.Deps deps, long capacityMb) {
    this.ctx = ctx;
    this.code = code;
    this.deps = deps;
    this.capacityMb = capacityMb;
  }

  /** {@code capacityMb}: the sandbox memory this worker offers (sum of the functions' MemorySize). */
  public static Behavior<Command> create(CodeStore code, SandboxActor.Deps deps, long capacityMb) {
    return Behaviors.setup(ctx -> new WorkerActor(ctx, code, deps, capacityMb).behavior());
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(StartSandbox.class, this::onStart)
        .onMessage(CodeReady.class, this::onCodeReady)
        .onMessage(CodeFailed.class, m -> {
          release(m.request().config().memorySizeMb());
          m.request().owner().tell(new FunctionActor.PlacementFailed(m.request().config().sandboxKey(),
              LambdaError.Code.ServiceException.name(), m.message(), null));
          return Behaviors.same();
        })
        .onSignal(Terminated.class, t -> {
          Integer mb = reservedMb.remove(t.getRef());
          if (mb != null) {
            release(mb);
          }
          return Behaviors.same();
        })
        .build();
  }

  private Behavior<Command> onStart(StartSandbox start) {
    int mb = start.config().memorySizeMb();
    if (usedMb + mb > capacityMb) {
      start.owner().tell(new FunctionActor.PlacementFailed(start.config().sandboxKey(),
          LambdaError.Code.TooManyRequestsException.name(), "Rate Exceeded.", "ConcurrentInvocationLimitExceeded"));
      return Behaviors.same();
    }
    usedMb += mb;
    CodeDigest digest = new CodeDigest(start.config().codeSha256Hex());
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        return code.extracted(digest);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, deps.blocking()), (dir, failure) -> failure == null ? new CodeReady(start, dir)
        : new CodeFailed(start, "Could not prepare the function code: " + failure.getMessage()));
    return Behaviors.same();
  }

  private Behavior<Command> onCodeReady(CodeReady ready) {
    StartSandbox start = ready.request();
    ActorRef<SandboxActor.Command> sandbox = ctx.spawn(
        SandboxActor.create(start.config(), ready.codeDir(), deps, start.owner()),
        "sandbox-" + UUID.randomUUID());
    ctx.watch(sandbox);
    reservedMb.put(sandbox.unsafeUpcast(), start.config().memorySizeMb());
    return Behaviors.same();
  }

  private void release(int mb) {
    usedMb = Math.max(0, usedMb - mb);
  }
}
