package dev.lamina.actors.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A started sandbox process. Killing it kills everything it started. */
public final class LaunchedProcess {

  /**
   * What confines the process beyond its process tree (its cgroup): the launcher's side of kill,
   * exit, memory and limits. All blocking (cgroupfs); called off the actors.
   */
  public interface Confinement {
    /** SIGKILLs everything in the group. */
    void kill();

    /** Blocks until nothing of the sandbox is left, killing stragglers, bounded. */
    void awaitEmpty();

    /** Peak memory of the whole group in bytes. */
    long peakBytes();

    /** Whether the kernel killed something in the group for want of memory. */
    boolean outOfMemory();

    /** The runtime finished its init: apply the limits that init runs without (CPU quota). */
    void initialised();
  }

  /** Waits for groups to empty; daemon threads, so they never hold the JVM. */
  private static final ExecutorService REAPER = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "lamina-sandbox-reaper");
    t.setDaemon(true);
    return t;
  });

  private final Process process;
  private final Confinement confinement;
  private volatile List<ProcessHandle> killed = List.of();
  private volatile boolean outOfMemory;
  private CompletableFuture<Integer> exit;

  /** {@code confinement} is null when the launcher confines nothing beyond the process tree. */
  public LaunchedProcess(Process process, Confinement confinement) {
    this.process = process;
    this.confinement = confinement;
  }

  /**
   * Completes with the exit status (128 + n after signal n) once the process has exited and so
   * has every descendant it had when {@link #kill()} was called: only then may its port,
   * directories or uid be reused. A descendant counts as gone once it is a zombie (nobody may
   * reap it when the node runs as PID 1), and the wait is bounded.
   */
  public synchronized CompletableFuture<Integer> onExit() {
    if (exit == null) {
      exit = process.onExit().thenCompose(p -> {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        awaitGone(killed, System.nanoTime() + GONE_WAIT_NANOS, () -> {
          if (confinement == null) {
            done.complete(p.exitValue());
            return;
          }
          REAPER.execute(() -> {
            try {
              outOfMemory = confinement.outOfMemory();
              confinement.awaitEmpty();
            } finally {
              done.complete(p.exitValue());
            }
          });
        });
        return done;
      });
    }
    return exit;
  }

  /**
   * Whether the kernel killed the sandbox for want of memory (its cgroup's OOM counter rose);
   * known once {@link #onExit()} completed.
   */
  public boolean outOfMemory() {
    return outOfMemory;
  }

  /** Applies the limits init runs without. Blocking (cgroupfs). */
  public void initialised() {
    if (confinement != null) {
      confinement.initialised();
    }
  }

  private static final long GONE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

  private static void awaitGone(List<ProcessHandle> handles, long deadlineNanos, Runnable then) {
    if (handles.stream().allMatch(LaunchedProcess::gone) || System.nanoTime() > deadlineNanos) {
      then.run();
      return;
    }
    CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS)
        .execute(() -> awaitGone(handles, deadlineNanos, then));
  }

  /** Exited or a zombie, read from /proc (ProcessHandle polls slowly for non-children). */
  private static boolean gone(ProcessHandle handle) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(handle.pid()), "stat"));
      int end = stat.lastIndexOf(')');
      return end < 0 || end + 2 >= stat.length() || stat.charAt(end + 2) == 'Z' || stat.charAt(end + 2) == 'X';
    } catch (IOException | RuntimeException e) {
      return true;
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * SIGKILLs the process and all its descendants; non-blocking. Descendants go first so none is
   * re-parented away from us before it is seen.
   */
  public void kill() {
    List<ProcessHandle> all;
    try (Stream<ProcessHandle> descendants = process.descendants()) {
      all = descendants.toList();
    }
    killed = all;
    all.forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    if (confinement != null) {
      REAPER.execute(confinement::kill);  // whatever left the tree (daemonised) is still in the group
    }
  }

  /**
   * Peak memory in MB: the cgroup's peak when confined, else the peak resident memory of the
   * process and its descendants (VmHWM of each). Reads /proc:
   * blocking, but cheap. Listing descendants walks all of /proc, so the list is refreshed only
   * every {@value #DESCENDANTS_REFRESH} calls; a runtime's process tree rarely changes.
   */
  public synchronized long peakMemoryMb() {
    if (confinement != null) {
      return Math.max(1, (confinement.peakBytes() + (1 << 20) - 1) >> 20);
    }
    if (descendants == null || ++measurements % DESCENDANTS_REFRESH == 0) {
      try (Stream<ProcessHandle> all = process.descendants()) {
        descendants = all.mapToLong(ProcessHandle::pid).toArray();
      }
    }
    long kb = hwmKb(process.pid());
    for (long pid : descendants) {
      kb += hwmKb(pid);
    }
    return Math.max(1, (kb + 1023) / 1024);
  }

  private static final int DESCENDANTS_REFRESH = 32;
  private long[] descendants;
  private int measurements;

  private static long hwmKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // the process may have exited between listing and reading
    }
    return 0;
  }
}
