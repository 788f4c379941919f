package dev.lamina.actors.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Starts the OS process of one sandbox. Back ends (plain, bubblewrap; a microVM later) live in
 * sub-packages; the sandbox actor never knows which one runs.
 *
 * <p>{@link #reserve} and {@link #launch} block (cgroupfs, fork/exec): call them from a blocking
 * dispatcher.
 */
public interface SandboxLauncher {

  /** Short name shown in logs and /health, e.g. {@code plain}, {@code bubblewrap}. */
  String name();

  /** Where the process sees its code, layers, runtime files and /tmp. */
  Layout layout(SandboxCode code, Path runtimeDir, Path tmpDir);

  /**
   * Reserves what one sandbox holds for its whole life before anything starts: its uid, its
   * Runtime API port, its cgroup. Released with {@link Slot#release()} once the process is gone
   * and the endpoint closed.
   */
  default Slot reserve(int memoryMb) throws IOException {
    return Slot.ANY;
  }

  LaunchedProcess launch(LaunchSpec spec, Slot slot) throws IOException;

  /** Paths as the sandboxed process sees them ({@code opt}: where the layers are, {@code /opt} in Lambda). */
  record Layout(String taskRoot, String opt, String runtimeDir, String tmpDir) {}

  /** A reservation; {@link #runtimePort()} 0 means any free port. */
  interface Slot {
    Slot ANY = new Slot() {
      @Override
      public int runtimePort() {
        return 0;
      }

      @Override
      public void release() {}
    };

    int runtimePort();

    /** Gives the reservation back; idempotent. */
    void release();
  }

  /**
   * What to start.
   *
   * @param command argv, with paths already in the process's {@link Layout}
   * @param environment the complete environment (nothing is inherited)
   * @param outputFile host file receiving stdout and stderr (appended)
   * @param memoryMb the function's memory size
   * @param tmpMb size cap of /tmp where the launcher can enforce it
   */
  record LaunchSpec(
      List<String> command,
      Map<String, String> environment,
      SandboxCode code,
      Path runtimeDir,
      Path tmpDir,
      Path outputFile,
      int memoryMb,
      int tmpMb) {}
}
