package dev.lamina.actors.sandbox.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Slots are exclusive on a host: in this JVM, across processes, and free again once released. */
class SlotsTest {

  @Test
  void aSlotIsHeldByOneClaimUntilReleased() throws Exception {
    Path dir = Files.createTempDirectory("lamina-slots-");
    Slots slots = Slots.under(dir, 2);
    Slots.Claim first = slots.claim();
    Slots.Claim second = slots.claim();
    assertNotEquals(first.index(), second.index());
    assertNull(slots.claim(), "both slots are taken");
    first.close();
    first.close();  // idempotent
    Slots.Claim again = slots.claim();
    assertEquals(first.index(), again.index(), "the released slot is the one handed out");
    again.close();
    second.close();
  }

  @Test
  void anotherProcessHoldingASlotsLockKeepsItFromThisNode() throws Exception {
    Path dir = Files.createTempDirectory("lamina-slots-");
    Files.createDirectories(dir.resolve("slots"));
    // Java's FileChannel locks are POSIX record locks (fcntl), the kind python's lockf takes.
    Process holder = new ProcessBuilder("/usr/bin/python3", "-c",
        "import fcntl,sys,time\nf=open(sys.argv[1],'w')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('held',flush=True)\n"
            + "time.sleep(30)", dir.resolve("slots/0.lock").toString()).start();
    try {
      assertEquals("held", new String(holder.getInputStream().readNBytes(4)));
      Slots slots = Slots.under(dir, 3);
      Slots.Claim claim = slots.claim();
      assertEquals(1, claim.index(), "slot 0 belongs to the other process");
      claim.close();
    } finally {
      holder.destroyForcibly();
      holder.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
