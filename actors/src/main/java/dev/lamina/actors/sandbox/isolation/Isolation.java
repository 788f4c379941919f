package dev.lamina.actors.sandbox.isolation;

import dev.lamina.actors.sandbox.SandboxLauncher;
import dev.lamina.actors.sandbox.bubblewrap.BubblewrapLauncher;
import dev.lamina.actors.sandbox.plain.PlainLauncher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds out which isolation layers this host offers, applies the host-wide parts (nftables rules,
 * the seccomp program) and builds the launcher. {@code strict} refuses to start without every
 * layer; {@code best-effort} logs each missing one; {@code none} runs plain processes. The layers
 * in force are reported in /health.
 */
public final class Isolation {

  private static final Logger log = LoggerFactory.getLogger(Isolation.class);

  /** The layers, in the order /health lists them. */
  public static final List<String> LAYERS = List.of("namespaces", "uid-pool", "cgroups", "seccomp", "runtime-api-firewall");

  private final IsolationSettings settings;
  private final SandboxLauncher launcher;
  private final Map<String, String> layers;

  private Isolation(IsolationSettings settings, SandboxLauncher launcher, Map<String, String> layers) {
    this.settings = settings;
    this.launcher = launcher;
    this.layers = layers;
  }

  public SandboxLauncher launcher() {
    return launcher;
  }

  public IsolationSettings settings() {
    return settings;
  }

  /** Layer → what is in force ({@code on…}) or why it is missing ({@code missing: …} / {@code off}). */
  public Map<String, String> layers() {
    return layers;
  }

  /** Layers this node runs without (empty in strict). */
  public List<String> missing() {
    return layers.entrySet().stream().filter(e -> !e.getValue().startsWith("on")).map(Map.Entry::getKey).toList();
  }

  /**
   * Sets up isolation for a node whose sandboxes see code and runtimes under {@code dataDir}.
   * Blocking (probes start processes).
   *
   * @throws IllegalStateException in strict mode when a layer is missing
   */
  public static Isolation start(IsolationSettings s, Path dataDir) {
    Map<String, String> layers = new LinkedHashMap<>();
    if (s.mode() == IsolationSettings.Mode.NONE) {
      LAYERS.forEach(l -> layers.put(l, "off (lamina.sandbox.isolation = none)"));
      log.warn("Sandbox isolation is off (lamina.sandbox.isolation = none): functions run as plain processes "
          + "of the node's user and can see what it sees");
      return new Isolation(s, new PlainLauncher(), layers);
    }
    String bwrap = BubblewrapLauncher.probe();
    if (bwrap == null) {
      layers.put("namespaces", "missing: bubblewrap is not installed or cannot create namespaces here "
          + "(apt-get install bubblewrap)");
      for (String l : LAYERS.subList(1, LAYERS.size())) {
        layers.put(l, "missing: needs bubblewrap");
      }
      return finish(s, new PlainLauncher(), layers);
    }
    layers.put("namespaces", "on: bubblewrap (user, pid, mount, ipc, uts; read-only system and code, private /tmp)");

    boolean root = isRoot();
    Slots slots = null;
    String setpriv = null;
    Cgroups cgroups = null;
    Path seccomp = null;
    if (root) {
      try {
        slots = Slots.under(s.runDir(), s.slots());
      } catch (IOException e) {
        log.warn("Cannot keep sandbox slots under {}: {}", s.runDir(), e.getMessage());
      }
    }
    String needsRoot = "missing: needs the node to run as root";

    // uid pool
    if (slots == null) {
      layers.put("uid-pool", root ? "missing: no slot directory under " + s.runDir() : needsRoot);
    } else {
      String why = uidPoolProblem(s, bwrap, dataDir);
      if (why == null) {
        setpriv = "/usr/bin/setpriv";
        layers.put("uid-pool", "on: uids " + s.uidOf(0) + "-" + s.uidOf(s.slots() - 1));
      } else {
        layers.put("uid-pool", "missing: " + why + "; sandboxes run as host root (root-owned files of the "
            + "read-only system are readable to them)");
      }
    }

    // cgroups
    if (slots == null) {
      layers.put("cgroups", root ? "missing: no slot directory under " + s.runDir() : needsRoot);
    } else {
      StringBuilder why = new StringBuilder();
      cgroups = Cgroups.detect(s.cgroupName(), why);
      layers.put("cgroups", cgroups != null
          ? "on: " + cgroups.version() + " (memory = MemorySize, CPU 1 vCPU per 1769 MB after init, pids "
              + s.pidsMax() + ")"
          : "missing: " + why);
    }

    // seccomp
    if (!Seccomp.supported()) {
      layers.put("seccomp", "missing: no filter for " + System.getProperty("os.arch"));
    } else {
      try {
        Path file = Seccomp.install(root ? s.runDir() : dataDir.resolve("run"));
        String why = seccompProblem(bwrap, file);
        if (why == null) {
          seccomp = file;
          layers.put("seccomp", "on: " + Seccomp.deniedCalls().size() + " system calls denied");
        } else {
          layers.put("seccomp", "missing: " + why);
        }
      } catch (IOException e) {
        layers.put("seccomp", "missing: " + e.getMessage());
      }
    }

    // Runtime API reachable by its own sandbox only
    String nft = Firewall.nft();
    if (setpriv == null) {
      layers.put("runtime-api-firewall", "missing: needs the uid pool");
    } else if (nft == null) {
      layers.put("runtime-api-firewall", "missing: nftables is not installed (apt-get install nftables)");
    } else {
      try {
        Firewall.apply(nft, s);
        layers.put("runtime-api-firewall", "on: nftables table inet " + Firewall.TABLE + ", Runtime API ports "
            + s.portOf(0) + "-" + s.portOf(s.slots() - 1) + ", outbound network "
            + (s.outboundNetwork() ? "allowed" : "blocked"));
      } catch (IOException e) {
        layers.put("runtime-api-firewall", "missing: " + e.getMessage());
      }
    }
    boolean anyPoolLayer = setpriv != null || cgroups != null;
    BubblewrapLauncher.Confinement confinement = new BubblewrapLauncher.Confinement(s,
        anyPoolLayer ? slots : null, setpriv, cgroups, seccomp);
    return finish(s, new BubblewrapLauncher(bwrap, confinement), layers);
  }

  private static Isolation finish(IsolationSettings s, SandboxLauncher launcher, Map<String, String> layers) {
    Isolation isolation = new Isolation(s, launcher, layers);
    List<String> missing = isolation.missing();
    if (s.mode() == IsolationSettings.Mode.STRICT && !missing.isEmpty()) {
      List<String> lines = new ArrayList<>();
      missing.forEach(l -> lines.add(l + " (" + layers.get(l) + ")"));
      throw new IllegalStateException("lamina.sandbox.isolation = strict, but this host lacks: "
          + String.join("; ", lines));
    }
    for (String layer : missing) {
      log.warn("Sandbox isolation layer {} is not in force: {}", layer, layers.get(layer).replaceFirst("^missing: ", ""));
    }
    return isolation;
  }

  static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[2].equals("0");  // effective uid
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return false;
  }

  /**
   * Why sandboxes cannot run as pool uids, or null. Their code and runtimes are bind-mounted
   * from under the data directory, which a pool uid must be able to traverse (not list).
   */
  private static String uidPoolProblem(IsolationSettings s, String bwrap, Path dataDir) {
    if (!Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
      return "setpriv is not installed (util-linux)";
    }
    String taken = uidRangeTaken(s.uidOf(0), s.uidOf(s.slots() - 1));
    if (taken != null) {
      return taken;
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dataDir);
      if (!perms.contains(PosixFilePermission.OTHERS_EXECUTE)) {
        perms.add(PosixFilePermission.OTHERS_EXECUTE);
        Files.setPosixFilePermissions(dataDir, perms);
      }
      for (Path p = dataDir.getParent(); p != null; p = p.getParent()) {
        if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
          return "sandbox uids cannot reach the data directory " + dataDir + " (" + p
              + " is not searchable by other users: chmod o+x it or choose another lamina.data-dir)";
        }
      }
    } catch (IOException | UnsupportedOperationException e) {
      return "cannot check the data directory's permissions: " + e.getMessage();
    }
    String uid = Integer.toString(s.uidOf(0));
    return run(List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--no-new-privs",
        "--inh-caps=-all", "--bounding-set=-all", bwrap, "--unshare-user", "--disable-userns", "--unshare-pid",
        "--die-with-parent", "--ro-bind", "/", "/", "--", "/bin/true"), "bubblewrap as an unprivileged uid");
  }

  /**
   * Who else uses uids {@code first..last} on this host (a user, or a subordinate range of
   * rootless containers, whose processes would pass for sandboxes), or null.
   */
  static String uidRangeTaken(long first, long last) {
    return uidRangeTaken(first, last, List.of(Path.of("/etc/passwd"), Path.of("/etc/subuid"), Path.of("/etc/subgid")));
  }

  /** As above, over {@code files} in passwd (a name ending in "passwd") or subuid format. */
  static String uidRangeTaken(long first, long last, List<Path> files) {
    for (Path path : files) {
      String file = path.toString();
      List<String> lines;
      try {
        lines = Files.readAllLines(path);
      } catch (IOException e) {
        continue;
      }
      for (String line : lines) {
        String[] f = line.split(":");
        try {
          long start;
          long count;
          if (file.endsWith("passwd")) {
            if (f.length < 3) {
              continue;
            }
            start = Long.parseLong(f[2]);
            count = 1;
          } else {
            if (f.length < 3) {
              continue;
            }
            start = Long.parseLong(f[1]);
            count = Long.parseLong(f[2]);
          }
          if (start <= last && start + count - 1 >= first) {
            return "uids " + first + "-" + last + " overlap " + file + " (" + f[0] + "); choose another "
                + "lamina.sandbox.confinement.uid-first";
          }
        } catch (NumberFormatException e) {
          // not an entry
        }
      }
    }
    return null;
  }

  private static String seccompProblem(String bwrap, Path file) {
    return run(List.of("/bin/sh", "-c", "exec \"$@\" 3< '" + file + "'", "probe", bwrap, "--unshare-pid",
        "--die-with-parent", "--ro-bind", "/", "/", "--seccomp", "3", "--", "/bin/true"), "bubblewrap --seccomp");
  }

  /** Runs a probe; null when it exits 0, else what went wrong. */
  private static String run(List<String> command, String what) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return what + " did not finish";
      }
      return p.exitValue() == 0 ? null : what + " failed: " + out;
    } catch (IOException e) {
      return what + " failed: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return what + " interrupted";
    }
  }
}
