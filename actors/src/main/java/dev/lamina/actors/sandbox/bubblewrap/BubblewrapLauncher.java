package dev.lamina.actors.sandbox.bubblewrap;

import dev.lamina.actors.sandbox.LaunchedProcess;
import dev.lamina.actors.sandbox.SandboxCode;
import dev.lamina.actors.sandbox.SandboxLauncher;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs each sandbox under bubblewrap in its own mount, pid, ipc and uts namespaces: the code
 * read-only at {@code /var/task}, its layers read-only at {@code /opt}, the runtime read-only at
 * {@code /var/runtime}, the system
 * read-only, a private tmpfs {@code /tmp} capped at the function's ephemeral storage, no view of
 * the node's data directory. The network namespace is shared (the Runtime API is on loopback);
 * uid pools, cgroups and seccomp are the isolation issue's work.
 */
public final class BubblewrapLauncher implements SandboxLauncher {

  private final String bwrap;

  public BubblewrapLauncher(String bwrap) {
    this.bwrap = bwrap;
  }

  /** The bwrap binary if it is installed and can create namespaces here, else null. */
  public static String probe() {
    for (String candidate : List.of("/usr/bin/bwrap", "/usr/local/bin/bwrap")) {
      if (!Files.isExecutable(Path.of(candidate))) {
        continue;
      }
      try {
        Process p = new ProcessBuilder(candidate, "--ro-bind", "/", "/", "--unshare-pid", "--die-with-parent", "true")
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
          return candidate;
        }
        p.destroyForcibly();
      } catch (IOException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    return null;
  }

  @Override
  public String name() {
    return "bubblewrap";
  }

  @Override
  public Layout layout(SandboxCode code, Path runtimeDir, Path tmpDir) {
    return new Layout("/var/task", "/opt", "/var/runtime", "/tmp");
  }

  @Override
  public LaunchedProcess launch(LaunchSpec spec) throws IOException {
    List<String> argv = new ArrayList<>(List.of(bwrap,
        "--die-with-parent", "--new-session",
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--hostname", "lamina",
        "--ro-bind", "/usr", "/usr",
        "--ro-bind", "/etc", "/etc",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", Long.toString((long) spec.tmpMb() * 1024 * 1024), "--tmpfs", "/tmp",
        "--dir", "/var",
        "--ro-bind", spec.code().task().toString(), "/var/task",
        "--ro-bind", spec.code().opt().toString(), "/opt",
        "--ro-bind", spec.runtimeDir().toString(), "/var/runtime",
        "--chdir", "/var/task"));
    for (String dir : List.of("/bin", "/sbin", "/lib", "/lib64", "/lib32")) {
      Path p = Path.of(dir);
      if (Files.isSymbolicLink(p)) {
        argv.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), dir));
      } else if (Files.isDirectory(p)) {
        argv.addAll(List.of("--ro-bind", dir, dir));
      }
    }
    argv.add("--");
    argv.addAll(spec.command());
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().clear();
    pb.environment().putAll(spec.environment());
    pb.directory(spec.code().task().toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(spec.outputFile().toFile()));
    return new LaunchedProcess(pb.start());
  }
}
