package dev.lamina.actors.sandbox.isolation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Per-sandbox control groups, v1 or v2, whichever this host mounts. Each slot has its own group
 * ({@code <name>/s<slot>}): memory limit, CPU quota, pids limit, and a way to kill everything in it
 * and to see it empty. All of it is file I/O on cgroupfs: blocking, never on an actor thread.
 */
public abstract class Cgroups {

  /** v1 or v2. */
  public abstract String version();

  /** The group of one slot, created when missing. */
  public abstract Group group(int slot) throws IOException;

  /** The cgroups of this host, or null with {@code why} filled when none can be used. */
  public static Cgroups detect(String name, StringBuilder why) {
    Path root = Path.of("/sys/fs/cgroup");
    try {
      Path controllers = root.resolve("cgroup.controllers");
      if (Files.exists(controllers)) {
        List<String> available = List.of(Files.readString(controllers).trim().split("\\s+"));
        if (!available.containsAll(List.of("memory", "cpu", "pids"))) {
          why.append("cgroup v2 without the memory, cpu and pids controllers");
          return null;
        }
        return CgroupV2.create(root, name);
      }
      for (String controller : List.of("memory", "cpu", "pids", "freezer")) {
        if (!Files.isDirectory(root.resolve(controller))) {
          why.append("no cgroup v1 ").append(controller).append(" hierarchy");
          return null;
        }
      }
      return CgroupV1.create(root, name);
    } catch (IOException | RuntimeException e) {
      why.append("cannot create cgroups under ").append(root).append(": ").append(e.getMessage());
      return null;
    }
  }

  /** One sandbox's group. */
  public interface Group {

    /**
     * Readies the group for a new sandbox: kills and awaits whatever is left in it, sets the
     * memory and pids limits, lifts the CPU quota (init runs unthrottled), resets the peak.
     */
    void prepare(long memoryBytes, int pidsMax) throws IOException;

    /** The {@code cgroup.procs} files a starting process writes its pid into. */
    List<Path> procsFiles();

    /** Applies the CPU quota (after init). */
    void limitCpu(long quotaMicros, long periodMicros) throws IOException;

    /** SIGKILLs every process in the group. Never throws. */
    void killAll();

    /** Kills until the group is empty or {@code max} passed; true when empty. */
    boolean awaitEmpty(Duration max);

    /** Peak memory use since {@link #prepare}, in bytes (0 when unknown). */
    long peakBytes();

    /** Whether the kernel's OOM killer killed a process of the group since {@link #prepare}. */
    boolean oomKilled();
  }

  // ---- helpers ----

  static void write(Path file, String value) throws IOException {
    Files.write(file, value.getBytes(StandardCharsets.US_ASCII));
  }

  static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      return "";
    }
  }

  static long readLong(Path file) {
    try {
      return Long.parseLong(read(file));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** A counter line of a flat keyed file such as {@code memory.events}: {@code key value}. */
  static long keyed(Path file, String key) {
    for (String line : read(file).split("\n")) {
      if (line.startsWith(key + " ")) {
        try {
          return Long.parseLong(line.substring(key.length() + 1).trim());
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  static List<Long> pids(Path procs) {
    String text = read(procs);
    if (text.isEmpty()) {
      return List.of();
    }
    return text.lines().map(String::trim).filter(s -> !s.isEmpty()).map(Long::parseLong).toList();
  }

  static void killPids(Path procs) {
    for (long pid : pids(procs)) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  /** Polls {@code empty} every 5 ms, running {@code kill} between polls, for at most {@code max}. */
  static boolean awaitEmpty(java.util.function.BooleanSupplier empty, Runnable kill, Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    while (!empty.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      kill.run();
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return empty.getAsBoolean();
      }
    }
    return true;
  }
}
