package dev.lamina.actors.sandbox.plain;

import dev.lamina.actors.sandbox.LaunchedProcess;
import dev.lamina.actors.sandbox.SandboxCode;
import dev.lamina.actors.sandbox.SandboxLauncher;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;

/**
 * No isolation: the runtime runs as a child process of the node, sees its code and layers at the
 * host paths of the extracted packages (the runtimes are told where the layers are instead of
 * {@code /opt}) and gets a private {@code TMPDIR}. For development machines without
 * bubblewrap; a function that writes to the literal path {@code /tmp} shares it with the host.
 */
public final class PlainLauncher implements SandboxLauncher {

  @Override
  public String name() {
    return "plain";
  }

  @Override
  public Layout layout(SandboxCode code, Path runtimeDir, Path tmpDir) {
    return new Layout(code.task().toString(), code.opt().toString(), runtimeDir.toString(), tmpDir.toString());
  }

  @Override
  public LaunchedProcess launch(LaunchSpec spec, Slot slot) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(spec.command());
    pb.environment().clear();
    pb.environment().putAll(spec.environment());
    pb.environment().put("TMPDIR", spec.tmpDir().toString());
    pb.directory(spec.code().task().toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(spec.outputFile().toFile()));
    return new LaunchedProcess(pb.start(), null);
  }
}
