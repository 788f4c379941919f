package dev.lamina.actors.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host directories a sandbox runs from, both extracted read-only and shared between the
 * sandboxes of the same code: the function package (seen as {@code /var/task}) and its layers
 * (seen as {@code /opt}; empty without layers).
 */
public record SandboxCode(Path task, Path opt) {

  /**
   * A custom runtime's bootstrap: the package's, else a layer's, as Lambda looks for them; null
   * when neither is an executable file.
   */
  public String bootstrap(SandboxLauncher.Layout layout) {
    if (Files.isExecutable(task.resolve("bootstrap"))) {
      return layout.taskRoot() + "/bootstrap";
    }
    if (Files.isExecutable(opt.resolve("bootstrap"))) {
      return layout.opt() + "/bootstrap";
    }
    return null;
  }
}
