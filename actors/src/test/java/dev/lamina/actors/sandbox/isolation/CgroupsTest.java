package dev.lamina.actors.sandbox.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The host's real cgroups (root only: these hosts mount v1 controllers and a v2 tree without
 * controllers): a process started the way the launcher starts one lands in its group, is limited
 * there, and is killed with it.
 */
class CgroupsTest {

  private static final long MIB = 1024 * 1024;

  @Test
  void memoryLimitKillsAndIsReportedAsOutOfMemoryWithThePeak() throws Exception {
    Cgroups cgroups = hostCgroups();
    Cgroups.Group group = cgroups.group(990);
    group.prepare(64 * MIB, 64);
    Process p = startIn(group, "/usr/bin/python3", "-S", "-c",
        "b = [bytearray(1 << 20) for _ in range(200)]");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));

    assertEquals(137, p.exitValue(), "SIGKILLed by the OOM killer");
    assertTrue(group.oomKilled());
    long peak = group.peakBytes();
    assertTrue(peak > 48 * MIB && peak <= 64 * MIB, "peak " + peak / MIB + " MiB at a 64 MiB limit");

    group.prepare(128 * MIB, 64);
    assertFalse(group.oomKilled(), "a new sandbox in the group starts with a clean record");
    Process fine = startIn(group, "/usr/bin/python3", "-S", "-c", "b = bytearray(32 << 20)");
    assertTrue(fine.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, fine.exitValue());
    assertFalse(group.oomKilled());
  }

  @Test
  void pidsLimitStopsAForkBombAndKillAllEmptiesTheGroup() throws Exception {
    Cgroups cgroups = hostCgroups();
    Cgroups.Group group = cgroups.group(991);
    group.prepare(256 * MIB, 20);
    Process p = startIn(group, "/usr/bin/python3", "-S", "-c", ""
        + "import os, time\n"
        + "n = 0\n"
        + "for i in range(100):\n"
        + "    try:\n"
        + "        if os.fork() == 0:\n"
        + "            time.sleep(60)\n"
        + "            os._exit(0)\n"
        + "        n += 1\n"
        + "    except OSError:\n"
        + "        pass\n"
        + "print('forked', n, flush=True)\n"
        + "time.sleep(60)\n");
    String line = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine();
    int forked = Integer.parseInt(line.replace("forked ", "").trim());
    assertEquals(19, forked, "20 tasks: the parent and 19 children");
    List<Long> pids = Cgroups.pids(group.procsFiles().get(0));
    assertEquals(20, pids.size(), "processes in the group");

    group.killAll();
    assertTrue(group.awaitEmpty(Duration.ofSeconds(10)));
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    for (long pid : pids) {
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
          && !zombie(pid), "process " + pid + " survived");
    }
  }

  @Test
  void v2GroupsKillAndReportEmptinessThroughCgroupKillAndEvents() throws Exception {
    Path unified = Path.of("/sys/fs/cgroup/unified");
    assumeTrue(Isolation.isRoot() && Files.exists(unified.resolve("cgroup.procs")), "a v2 tree and root");
    Cgroups.Group group = CgroupV2.withoutControllers(unified, "lamina-test").group(992);
    group.prepare(0, 0);
    Process p = startIn(group, "/bin/sh", "-c", "sleep 60 & sleep 60 & echo started; wait");
    assertEquals("started\n", new String(p.getInputStream().readNBytes(8)));
    assertEquals(3, Cgroups.pids(group.procsFiles().get(0)).size(), "sh and its two sleeps are in it");

    group.killAll();

    assertTrue(group.awaitEmpty(Duration.ofSeconds(10)));
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    assertEquals(137, p.exitValue());
  }

  private static Cgroups hostCgroups() {
    assumeTrue(Isolation.isRoot(), "cgroups need root");
    StringBuilder why = new StringBuilder();
    Cgroups cgroups = Cgroups.detect("lamina-test", why);
    assertNotNull(cgroups, why.toString());
    return cgroups;
  }

  /** Starts {@code command} inside {@code group} the way the launcher does: sh joins, then execs. */
  private static Process startIn(Cgroups.Group group, String... command) throws Exception {
    StringBuilder script = new StringBuilder();
    for (Path file : group.procsFiles()) {
      script.append("echo $$ > '").append(file).append("' && ");
    }
    script.append("exec \"$@\"");
    List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", script.toString(), "test"));
    argv.addAll(List.of(command));
    return new ProcessBuilder(argv).redirectErrorStream(true).start();
  }

  private static boolean zombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
    } catch (Exception e) {
      return true;
    }
  }
}
