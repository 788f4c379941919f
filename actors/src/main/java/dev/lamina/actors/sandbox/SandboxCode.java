package dev.lamina.actors.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host directories a sandbox runs from, both extracted read-only and shared between the
 * sandboxes of the same code: the function package (seen as {@code /var/task}) and its layers
 * (seen as {@code /opt}; empty without layers). {@code hasBootstrap}: a custom runtime's
 * {@code bootstrap} exists in either.
 */
public record SandboxCode(Path task, Path opt, boolean hasBootstrap) {

  /** Looks at the directories (blocking: file checks) to tell whether a bootstrap exists. */
  public static SandboxCode of(Path task, Path opt) {
    return new SandboxCode(task, opt, Files.isExecutable(task.resolve("bootstrap"))
        || Files.isExecutable(opt.resolve("bootstrap")));
  }

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
