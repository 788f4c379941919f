package dev.lamina.actors.sandbox.isolation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * cgroup v1: one group per slot in each of the memory, cpu, pids and freezer hierarchies. A
 * group is killed frozen, so nothing forks while it is being emptied.
 */
final class CgroupV1 extends Cgroups {

  private final Path memory;
  private final Path cpu;
  private final Path pids;
  private final Path freezer;

  private CgroupV1(Path memory, Path cpu, Path pids, Path freezer) {
    this.memory = memory;
    this.cpu = cpu;
    this.pids = pids;
    this.freezer = freezer;
  }

  static CgroupV1 create(Path root, String name) throws IOException {
    return new CgroupV1(Files.createDirectories(root.resolve("memory").resolve(name)),
        Files.createDirectories(root.resolve("cpu").resolve(name)),
        Files.createDirectories(root.resolve("pids").resolve(name)),
        Files.createDirectories(root.resolve("freezer").resolve(name)));
  }

  @Override
  public String version() {
    return "v1";
  }

  @Override
  public Group group(int slot) throws IOException {
    String dir = "s" + slot;
    return new V1Group(Files.createDirectories(memory.resolve(dir)), Files.createDirectories(cpu.resolve(dir)),
        Files.createDirectories(pids.resolve(dir)), Files.createDirectories(freezer.resolve(dir)));
  }

  private static final class V1Group implements Group {
    private final Path memory;
    private final Path cpu;
    private final Path pids;
    private final Path freezer;
    private volatile long oomBaseline;

    V1Group(Path memory, Path cpu, Path pids, Path freezer) {
      this.memory = memory;
      this.cpu = cpu;
      this.pids = pids;
      this.freezer = freezer;
    }

    @Override
    public void prepare(long memoryBytes, int pidsMax) throws IOException {
      if (!awaitEmpty(Duration.ofSeconds(5))) {
        throw new IOException("cgroup " + freezer + " still has processes");
      }
      write(freezer.resolve("freezer.state"), "THAWED");  // a kill interrupted mid-way leaves it frozen
      // A lower memory+swap limit would refuse the new memory limit: lift it first, then match it
      // (no swapping either way). Hosts without swap accounting have no memsw files.
      Path memsw = memory.resolve("memory.memsw.limit_in_bytes");
      boolean swapAccounting = Files.exists(memsw);
      if (swapAccounting) {
        write(memsw, "-1");
      }
      write(memory.resolve("memory.limit_in_bytes"), Long.toString(memoryBytes));
      if (swapAccounting) {
        write(memsw, Long.toString(memoryBytes));
      }
      write(memory.resolve("memory.max_usage_in_bytes"), "0");
      oomBaseline = keyed(memory.resolve("memory.oom_control"), "oom_kill");
      write(pids.resolve("pids.max"), Integer.toString(pidsMax));
      write(cpu.resolve("cpu.cfs_quota_us"), "-1");
    }

    @Override
    public List<Path> procsFiles() {
      return List.of(memory.resolve("cgroup.procs"), cpu.resolve("cgroup.procs"), pids.resolve("cgroup.procs"),
          freezer.resolve("cgroup.procs"));
    }

    @Override
    public void limitCpu(long quotaMicros, long periodMicros) throws IOException {
      write(cpu.resolve("cpu.cfs_period_us"), Long.toString(periodMicros));
      write(cpu.resolve("cpu.cfs_quota_us"), Long.toString(quotaMicros));
    }

    @Override
    public void killAll() {
      Path procs = freezer.resolve("cgroup.procs");
      if (pids(procs).isEmpty()) {
        return;
      }
      Path state = freezer.resolve("freezer.state");
      try {
        write(state, "FROZEN");
        killPids(procs);
      } catch (IOException e) {
        killPids(procs);
      } finally {
        try {
          write(state, "THAWED");  // killed tasks die once thawed
        } catch (IOException e) {
          // the group may be gone
        }
      }
    }

    @Override
    public boolean awaitEmpty(Duration max) {
      Path procs = freezer.resolve("cgroup.procs");
      boolean empty = Cgroups.awaitEmpty(() -> pids(procs).isEmpty(), this::killAll, max);
      if (empty) {
        // The page cache the sandbox used stays charged to the group: drop it now, off the next
        // sandbox's cold start, so that its "Max Memory Used" is its own.
        try {
          write(memory.resolve("memory.force_empty"), "0");
        } catch (IOException e) {
          // what cannot be reclaimed stays; the next peak is reset in prepare regardless
        }
      }
      return empty;
    }

    @Override
    public long peakBytes() {
      return readLong(memory.resolve("memory.max_usage_in_bytes"));
    }

    @Override
    public boolean oomKilled() {
      return keyed(memory.resolve("memory.oom_control"), "oom_kill") > oomBaseline;
    }
  }
}
