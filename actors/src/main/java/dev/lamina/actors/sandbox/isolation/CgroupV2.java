package dev.lamina.actors.sandbox.isolation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * cgroup v2: one group per slot under {@code /sys/fs/cgroup/<name>}, with the memory, cpu and pids
 * controllers enabled down to it. Killing uses {@code cgroup.kill} (Linux 5.14+), else the
 * group's pids one by one while frozen.
 */
final class CgroupV2 extends Cgroups {

  private final Path parent;
  private final boolean controllers;

  private CgroupV2(Path parent, boolean controllers) {
    this.parent = parent;
    this.controllers = controllers;
  }

  static CgroupV2 create(Path root, String name) throws IOException {
    Path parent = Files.createDirectories(root.resolve(name));
    enable(root);
    enable(parent);
    return new CgroupV2(parent, true);
  }

  /**
   * Groups in a v2 hierarchy that has no controllers (the unified tree of a hybrid host): they
   * group, kill and report emptiness, but limit nothing. For tests of those parts.
   */
  static CgroupV2 withoutControllers(Path root, String name) throws IOException {
    return new CgroupV2(Files.createDirectories(root.resolve(name)), false);
  }

  private static void enable(Path group) throws IOException {
    String enabled = read(group.resolve("cgroup.subtree_control"));
    if (!List.of(enabled.split("\\s+")).containsAll(List.of("memory", "cpu", "pids"))) {
      write(group.resolve("cgroup.subtree_control"), "+memory +cpu +pids");
    }
  }

  @Override
  public String version() {
    return "v2";
  }

  @Override
  public Group group(int slot) throws IOException {
    return new V2Group(Files.createDirectories(parent.resolve("s" + slot)), controllers);
  }

  private static final class V2Group implements Group {
    private final Path dir;
    private final boolean controllers;
    private volatile long oomBaseline;
    private volatile long peakSampled;

    V2Group(Path dir, boolean controllers) {
      this.dir = dir;
      this.controllers = controllers;
    }

    @Override
    public void prepare(long memoryBytes, int pidsMax) throws IOException {
      if (!awaitEmpty(Duration.ofSeconds(5))) {
        throw new IOException("cgroup " + dir + " still has processes");
      }
      // A fresh group each time: its peak and event counters start at zero on every kernel.
      Files.deleteIfExists(dir);
      Files.createDirectory(dir);
      if (!controllers) {
        return;
      }
      write(dir.resolve("memory.max"), Long.toString(memoryBytes));
      if (Files.exists(dir.resolve("memory.swap.max"))) {
        write(dir.resolve("memory.swap.max"), "0");
      }
      peakSampled = 0;
      oomBaseline = keyed(dir.resolve("memory.events"), "oom_kill");
      write(dir.resolve("pids.max"), Integer.toString(pidsMax));
      write(dir.resolve("cpu.max"), "max");
    }

    @Override
    public List<Path> procsFiles() {
      return List.of(dir.resolve("cgroup.procs"));
    }

    @Override
    public void limitCpu(long quotaMicros, long periodMicros) throws IOException {
      if (!controllers) {
        return;
      }
      write(dir.resolve("cpu.max"), quotaMicros + " " + periodMicros);
    }

    @Override
    public void killAll() {
      try {
        if (Files.exists(dir.resolve("cgroup.kill"))) {
          write(dir.resolve("cgroup.kill"), "1");
          return;
        }
        write(dir.resolve("cgroup.freeze"), "1");
        killPids(dir.resolve("cgroup.procs"));
        write(dir.resolve("cgroup.freeze"), "0");
      } catch (IOException e) {
        killPids(dir.resolve("cgroup.procs"));
      }
    }

    @Override
    public boolean awaitEmpty(Duration max) {
      return Cgroups.awaitEmpty(() -> keyed(dir.resolve("cgroup.events"), "populated") == 0, this::killAll, max);
    }

    @Override
    public long peakBytes() {
      long current = readLong(dir.resolve("memory.current"));
      peakSampled = Math.max(peakSampled, current);
      // memory.peak exists since Linux 5.19; before that the largest use seen is the best there is.
      return Math.max(peakSampled, readLong(dir.resolve("memory.peak")));
    }

    @Override
    public boolean oomKilled() {
      return keyed(dir.resolve("memory.events"), "oom_kill") > oomBaseline;
    }
  }
}
