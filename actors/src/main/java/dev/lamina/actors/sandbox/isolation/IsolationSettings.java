package dev.lamina.actors.sandbox.isolation;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The isolation part of {@code lamina.sandbox}: how strictly sandboxes are confined and the host
 * resources the confinement uses.
 *
 * @param mode {@code strict} (every layer or no start), {@code best-effort} (what this host
 *     offers, each missing layer logged), {@code none} (plain child processes)
 * @param uidFirst first host uid of the pool sandboxes run as; one uid per running sandbox
 * @param slots size of the uid pool, and so the most sandboxes running at once on this host
 * @param portFirst Runtime API port of slot 0; slot i listens on {@code portFirst + i}
 * @param runDir host-wide state shared by every node on this host (slot locks, the seccomp filter)
 * @param cgroupName name of the cgroup under which each sandbox gets its own group
 * @param cpuPeriod CFS period of the CPU quota
 * @param pidsMax processes and threads one sandbox may have
 * @param outboundNetwork whether functions may open connections beyond this host
 * @param reachableLocalPorts TCP ports of this host that functions may still connect to
 */
public record IsolationSettings(
    Mode mode,
    int uidFirst,
    int slots,
    int portFirst,
    Path runDir,
    String cgroupName,
    Duration cpuPeriod,
    int pidsMax,
    boolean outboundNetwork,
    java.util.List<Integer> reachableLocalPorts) {

  public enum Mode {
    STRICT, BEST_EFFORT, NONE;

    public String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  public static IsolationSettings from(Config sandbox) {
    String mode = sandbox.getString("isolation");
    Mode parsed = switch (mode) {
      case "strict" -> Mode.STRICT;
      case "best-effort" -> Mode.BEST_EFFORT;
      case "none" -> Mode.NONE;
      default -> throw new IllegalArgumentException(
          "lamina.sandbox.isolation must be strict, best-effort or none, not " + mode);
    };
    Config c = sandbox.getConfig("confinement");
    IsolationSettings s = new IsolationSettings(parsed, c.getInt("uid-first"), c.getInt("slots"),
        c.getInt("runtime-port-first"), Path.of(c.getString("run-dir")), c.getString("cgroup-name"),
        c.getDuration("cpu-period"), c.getInt("pids-max"), c.getBoolean("outbound-network"),
        java.util.List.copyOf(c.getIntList("reachable-local-ports")));
    if (s.uidFirst < 1000 || (long) s.uidFirst + s.slots > Integer.MAX_VALUE || s.slots < 1 || s.portFirst < 1024 || s.portFirst + s.slots > 65536
        || s.reachableLocalPorts.stream().anyMatch(p -> p < 1 || p > 65535)) {
      throw new IllegalArgumentException("lamina.sandbox.confinement: uid-first must be at least 1000, slots at least 1, "
          + "runtime ports within 1024..65535, reachable-local-ports valid ports");
    }
    return s;
  }

  public int uidOf(int slot) {
    return uidFirst + slot;
  }

  public int portOf(int slot) {
    return portFirst + slot;
  }
}
