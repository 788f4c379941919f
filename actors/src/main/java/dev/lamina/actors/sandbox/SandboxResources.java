package dev.lamina.actors.sandbox;

import dev.lamina.actors.registry.FunctionConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The operating-system side of one sandbox — its directory, its Runtime API endpoint, its process
 * — acquired together and released together. Blocking: never called on an actor thread.
 */
final class SandboxResources {

  private static final int BIND_ATTEMPTS = 16;

  private SandboxResources() {}

  /** Creates the directory, binds the endpoint and starts the runtime; on failure, nothing stays. */
  static SandboxActor.Started acquire(ActorRef<SandboxActor.Command> sandbox, FunctionConfig config, SandboxCode code,
      Path dir, SandboxOutput output, SandboxActor.Deps deps, boolean provisioned) {
    RuntimeEndpoint endpoint = null;
    SandboxLauncher.Slot slot = null;
    try {
      Path tmp = Files.createDirectories(dir.resolve("tmp"));
      Files.createFile(dir.resolve("output.log"));
      // Something else on this host may hold a slot's port: keep such slots until another one
      // binds (so the next reservation is a different slot), then give them back.
      List<SandboxLauncher.Slot> taken = new ArrayList<>();
      try {
        for (int attempt = 1; endpoint == null; attempt++) {
          slot = deps.launcher().reserve(config.memorySizeMb());
          try {
            endpoint = RuntimeEndpoint.start(sandbox, output, deps.settings().maxResponseBytes(),
                config.memorySizeMb(), deps.runtimeApi(), slot.runtimePort());
          } catch (BindException e) {
            taken.add(slot);
            slot = null;
            if (attempt == BIND_ATTEMPTS) {
              throw new IOException("no free Runtime API port in " + BIND_ATTEMPTS + " sandbox slots", e);
            }
          }
        }
      } finally {
        taken.forEach(SandboxLauncher.Slot::release);
      }
      SandboxLauncher.Layout layout = deps.launcher().layout(code, deps.runtimes().root(), tmp);
      LaunchedProcess process = deps.launcher().launch(new SandboxLauncher.LaunchSpec(
          RuntimeCommand.argv(config, code, layout, deps.settings()),
          RuntimeCommand.environment(config, layout, "127.0.0.1:" + endpoint.port(), deps.settings(), provisioned),
          code, deps.runtimes().root(), tmp, dir.resolve("output.log"), config.memorySizeMb(),
          config.ephemeralStorageMb()), slot);
      output.attach(process);
      return new SandboxActor.Started(endpoint, process, slot);
    } catch (IOException | RuntimeException e) {
      // Whatever failed (a bad environment value throws from ProcessBuilder), the endpoint
      // bound above and the slot must not outlive this attempt.
      if (endpoint != null) {
        endpoint.close();
      }
      if (slot != null) {
        slot.release();
      }
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
  }

  /**
   * Kills the process tree and, once it is gone (its cgroup empty), closes the endpoint, gives the
   * slot back and removes the directory:
   * a dying runtime must not reach a port another sandbox may get next. {@code started} is null
   * when nothing was started. Never blocks the caller.
   */
  static void release(SandboxActor.Started started, Path dir, Executor blocking) {
    if (started == null) {
      onBlocking(blocking, () -> deleteTree(dir));
      return;
    }
    started.process().kill();
    started.process().onExit().whenComplete((code, failure) -> onBlocking(blocking, () -> {
      try {
        started.endpoint().close();
      } finally {
        started.slot().release();  // only now may another sandbox get its uid, port and cgroup
      }
      deleteTree(dir);
    }));
  }

  private static void onBlocking(Executor blocking, Runnable work) {
    try {
      blocking.execute(work);
    } catch (RejectedExecutionException e) {
      work.run();  // the node is shutting down: release on this (non-actor) thread
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      // best effort: leftovers are removed at the next node start
    }
  }
}
