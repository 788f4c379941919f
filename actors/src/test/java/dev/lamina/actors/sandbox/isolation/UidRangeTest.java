package dev.lamina.actors.sandbox.isolation;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The pool's uids must be nobody else's: not a user's, not a rootless-container range's. */
class UidRangeTest {

  @Test
  void aRangeHoldingAUserOfThisHostIsTaken() {
    String taken = Isolation.uidRangeTaken(0, 10);  // root is in /etc/passwd on every host

    assertTrue(taken != null && taken.contains("/etc/passwd") && taken.contains("root"), taken);
  }

  @Test
  void theDefaultPoolIsFreeHere() throws Exception {
    assertNull(Isolation.uidRangeTaken(2_000_000_000L, 2_000_000_999L));
  }

  @Test
  void aSubordinateRangeOverlappingThePoolIsTaken() throws Exception {
    Path dir = Files.createTempDirectory("lamina-uids-");
    Path subuid = Files.writeString(dir.resolve("subuid"), "alice:100000:65536\nbob:165536:65536\n");
    java.util.List<Path> files = java.util.List.of(subuid);

    String taken = Isolation.uidRangeTaken(100_000, 100_999, files);

    assertTrue(taken != null && taken.contains("alice"), taken);
    assertTrue(Isolation.uidRangeTaken(231_000, 232_000, files).contains("bob"));
    assertNull(Isolation.uidRangeTaken(231_072, 232_000, files), "just past bob's range");
    assertNull(Isolation.uidRangeTaken(50_000, 99_999, files), "just before alice's");
  }
}
