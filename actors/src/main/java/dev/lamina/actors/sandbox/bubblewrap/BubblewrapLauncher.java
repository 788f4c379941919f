package dev.lamina.actors.sandbox.bubblewrap;

import dev.lamina.actors.sandbox.LaunchedProcess;
import dev.lamina.actors.sandbox.SandboxCode;
import dev.lamina.actors.sandbox.SandboxLauncher;
import dev.lamina.actors.sandbox.isolation.Cgroups;
import dev.lamina.actors.sandbox.isolation.IsolationSettings;
import dev.lamina.actors.sandbox.isolation.Slots;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs each sandbox under bubblewrap in its own user, mount, pid, ipc and uts namespaces: the
 * code read-only at {@code /var/task}, its layers read-only at {@code /opt}, the runtime read-only
 * at {@code /var/runtime}, the system read-only, a private tmpfs {@code /tmp} capped at the
 * function's ephemeral storage and nothing else writable, an empty read-only {@code /dev/shm},
 * no view of the node's data
 * directory, other sandboxes or host secrets ({@code /etc/shadow} is masked).
 *
 * <p>With a {@link Confinement} (the node runs as root) each sandbox also gets a slot of the
 * host's pool: it runs as the slot's unprivileged uid ({@code setpriv}), in the slot's cgroup
 * (memory = MemorySize, CPU quota proportional to memory once init is done, pids limit), under
 * the seccomp deny list, and its Runtime API listens on the slot's port, which the nftables rules
 * open to that uid alone. A small {@code sh} moves itself into the cgroup and opens the seccomp
 * program before it execs the rest, so nothing of the sandbox ever runs outside its group.
 */
public final class BubblewrapLauncher implements SandboxLauncher {

  /** The layers beyond namespaces; any part may be null when the host lacks it. */
  public record Confinement(IsolationSettings settings, Slots slots, String setpriv, Cgroups cgroups, Path seccomp) {}

  private static final long MIB = 1024 * 1024;
  /** Lambda: 1,769 MB of memory buys one vCPU. */
  private static final double MB_PER_VCPU = 1769;

  private final String bwrap;
  private final Confinement confinement;
  private final Cgroups.Group[] groups;
  private final List<String> systemBinds;

  public BubblewrapLauncher(String bwrap, Confinement confinement) {
    this.bwrap = bwrap;
    this.confinement = confinement;
    this.groups = confinement != null && confinement.cgroups() != null
        ? new Cgroups.Group[confinement.settings().slots()] : null;
    // Pool uids cannot read root's secrets anyway (file modes); without the pool the sandbox is
    // root on the host, and the files are masked.
    this.systemBinds = systemBinds(confinement == null || confinement.setpriv() == null);
    if (groups != null) {
      // A slot's groups are made on its first use (four mkdirs on v1): make the first few ahead.
      Thread warm = new Thread(() -> {
        for (int slot = 0; slot < Math.min(WARM_GROUPS, groups.length); slot++) {
          try {
            groupOf(slot);
          } catch (IOException | RuntimeException e) {
            return;  // reserve() reports it when it matters
          }
        }
      }, "lamina-cgroup-warm-up");
      warm.setDaemon(true);
      warm.start();
    }
  }

  private static final int WARM_GROUPS = 32;

  private Cgroups.Group groupOf(int slot) throws IOException {
    synchronized (groups) {
      Cgroups.Group group = groups[slot];
      if (group == null) {
        group = confinement.cgroups().group(slot);
        groups[slot] = group;
      }
      return group;
    }
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
  public Slot reserve(int memoryMb) throws IOException {
    if (confinement == null || confinement.slots() == null) {
      return Slot.ANY;
    }
    Slots.Claim claim = confinement.slots().claim();
    if (claim == null) {
      throw new IOException("all " + confinement.settings().slots() + " sandbox slots of this host are in use "
          + "(lamina.sandbox.confinement.slots)");
    }
    try {
      Cgroups.Group group = null;
      if (groups != null) {
        group = groupOf(claim.index());
        group.prepare(memoryMb * MIB, confinement.settings().pidsMax());
      }
      return new PoolSlot(claim, group, memoryMb);
    } catch (IOException | RuntimeException e) {
      claim.close();
      throw e;
    }
  }

  /** One slot of the pool: uid, port and cgroup of one sandbox for its whole life. */
  private final class PoolSlot implements Slot, LaunchedProcess.Confinement {
    private final Slots.Claim claim;
    private final Cgroups.Group group;
    private final int memoryMb;

    PoolSlot(Slots.Claim claim, Cgroups.Group group, int memoryMb) {
      this.claim = claim;
      this.group = group;
      this.memoryMb = memoryMb;
    }

    int uid() {
      return confinement.settings().uidOf(claim.index());
    }

    @Override
    public int runtimePort() {
      // The slot's port is open to the slot's uid only: without the uid pool, any free port.
      return confinement.setpriv() != null ? confinement.settings().portOf(claim.index()) : 0;
    }

    private volatile boolean released;

    @Override
    public void release() {
      released = true;
      claim.close();
    }

    @Override
    public void kill() {
      if (group != null) {
        group.killAll();
      }
    }

    @Override
    public void awaitEmpty() {
      if (group != null) {
        group.awaitEmpty(Duration.ofSeconds(5));
      }
    }

    @Override
    public long peakBytes() {
      return group != null ? group.peakBytes() : 0;
    }

    @Override
    public boolean outOfMemory() {
      return group != null && group.oomKilled();
    }

    @Override
    public void initialised() {
      if (group == null || released) {
        return;  // a late call must not touch a group that another sandbox may have now
      }
      long period = confinement.settings().cpuPeriod().toNanos() / 1000;
      long quota = Math.max(1000, Math.round(period * memoryMb / MB_PER_VCPU));
      try {
        group.limitCpu(quota, period);
      } catch (IOException e) {
        // the group is gone with its sandbox
      }
    }
  }

  @Override
  public LaunchedProcess launch(LaunchSpec spec, Slot slot) throws IOException {
    PoolSlot pool = slot instanceof PoolSlot p ? p : null;
    List<String> argv = new ArrayList<>();
    String seccomp = confinement != null && confinement.seccomp() != null ? confinement.seccomp().toString() : null;
    List<Path> procs = pool != null && pool.group != null ? pool.group.procsFiles() : List.of();
    if (seccomp != null || !procs.isEmpty()) {
      // Join the cgroup and open the seccomp program (fd 3), then become the sandbox.
      // Lambda's limit of open files, which also bounds the ports one sandbox can hold.
      StringBuilder script = new StringBuilder("ulimit -n 1024 && ");
      for (Path file : procs) {
        script.append("echo $$ > ").append(quote(file.toString())).append(" && ");
      }
      script.append("exec \"$@\"");
      if (seccomp != null) {
        script.append(" 3< ").append(quote(seccomp));
      }
      argv.addAll(List.of("/bin/sh", "-c", script.toString(), "lamina-sandbox"));
    }
    if (pool != null && confinement.setpriv() != null) {
      String uid = Integer.toString(pool.uid());
      argv.addAll(List.of(confinement.setpriv(), "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
          "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"));
    }
    argv.addAll(List.of(bwrap,
        "--die-with-parent", "--new-session",
        "--unshare-user", "--disable-userns",
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--hostname", "lamina",
        "--ro-bind", "/usr", "/usr",
        "--ro-bind", "/etc", "/etc"));
    argv.addAll(systemBinds);
    argv.addAll(List.of(
        "--proc", "/proc",
        "--dev", "/dev",
        "--tmpfs", "/dev/shm", "--remount-ro", "/dev/shm",
        "--size", Long.toString((long) spec.tmpMb() * MIB), "--tmpfs", "/tmp",
        "--dir", "/var",
        "--ro-bind", spec.code().task().toString(), "/var/task",
        "--ro-bind", spec.code().opt().toString(), "/opt",
        "--ro-bind", spec.runtimeDir().toString(), "/var/runtime",
        "--chdir", "/var/task",
        // Like Lambda: nothing but /tmp is writable (bubblewrap's root is a tmpfs of its own).
        "--remount-ro", "/"));
    if (seccomp != null) {
      argv.addAll(List.of("--seccomp", "3"));
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
    return new LaunchedProcess(pb.start(), pool);
  }

  /** /bin, /lib… as this host has them (links into /usr or directories), and masks over secrets. */
  private static List<String> systemBinds(boolean maskSecrets) {
    List<String> binds = new ArrayList<>();
    for (String dir : List.of("/bin", "/sbin", "/lib", "/lib64", "/lib32")) {
      Path p = Path.of(dir);
      try {
        if (Files.isSymbolicLink(p)) {
          binds.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), dir));
        } else if (Files.isDirectory(p)) {
          binds.addAll(List.of("--ro-bind", dir, dir));
        }
      } catch (IOException e) {
        // not there
      }
    }
    for (String secret : List.of("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers")) {
      if (maskSecrets && Files.exists(Path.of(secret))) {
        binds.addAll(List.of("--ro-bind", "/dev/null", secret));
      }
    }
    return List.copyOf(binds);
  }

  private static String quote(String path) {
    if (path.indexOf('\'') >= 0) {
      throw new IllegalArgumentException("path with a quote: " + path);
    }
    return "'" + path + "'";
  }
}
