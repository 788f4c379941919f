package dev.lamina.persistence.code;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Both code stores extract through this cache: once per digest, never half, within the unzipped limit. */
@Timeout(30)
class ExtractionCacheTest {

  @TempDir Path tmp;

  @Test
  void concurrentCallersForTheSameDigestExtractOnce() throws Exception {
    byte[] zip = TestZips.zip(Map.of("app.py", "print('hi')\n"), 0);
    CodeDigest digest = CodeDigest.of(zip);
    AtomicInteger fetches = new AtomicInteger();
    ExtractionCache cache = new ExtractionCache(tmp, 1_000_000, d -> {
      fetches.incrementAndGet();
      return zip;
    });
    ExecutorService threads = Executors.newFixedThreadPool(8);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Path>> results = new ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        results.add(threads.submit(() -> {
          go.await();
          return cache.extracted(digest);
        }));
      }
      go.countDown();
      for (Future<Path> result : results) {
        assertEquals(tmp.resolve("extracted").resolve(digest.hex()), result.get(10, TimeUnit.SECONDS));
      }
    } finally {
      threads.shutdownNow();
    }

    assertEquals(1, fetches.get(), "one fetch and extraction for eight callers");
    assertEquals("print('hi')\n", Files.readString(tmp.resolve("extracted").resolve(digest.hex()).resolve("app.py")));
  }

  @Test
  void aFailedFetchLeavesNothingBehindAndIsTriedAgainNextTime() throws Exception {
    byte[] zip = TestZips.zip(Map.of("app.py", "x = 1\n"), 0);
    CodeDigest digest = CodeDigest.of(zip);
    AtomicInteger calls = new AtomicInteger();
    ExtractionCache cache = new ExtractionCache(tmp, 1_000_000, d -> {
      if (calls.incrementAndGet() == 1) {
        throw new IOException("chunk 0 is missing");
      }
      return zip;
    });

    IOException failure = assertThrows(IOException.class, () -> cache.extracted(digest));

    assertEquals("chunk 0 is missing", failure.getMessage());
    try (Stream<Path> left = Files.list(tmp.resolve("extracted"))) {
      assertEquals(0, left.count(), "no directory, not even a temporary one");
    }
    assertTrue(Files.isRegularFile(cache.extracted(digest).resolve("app.py")));
  }

  @Test
  void aPackageOverTheUnzippedLimitIsNotExtracted() throws Exception {
    byte[] zip = TestZips.zip(Map.of("big.txt", "x".repeat(5000)), 0);
    ExtractionCache cache = new ExtractionCache(tmp, 4999, d -> zip);

    IOException failure = assertThrows(IOException.class, () -> cache.extracted(CodeDigest.of(zip)));

    assertTrue(failure.getMessage().contains("unzipped size exceeds 4999"), failure.getMessage());
  }

  @Test
  void aStoredPackageThatWouldEscapeIsNotExtractedAndLeavesNothingAnywhere() throws Exception {
    // A package that got into storage without the upload checks (an older node, a restored backup).
    Map<String, String> entries = new java.util.LinkedHashMap<>();
    entries.put("app.py", "x = 1\n");
    entries.put("../../escaped.txt", "outside\n");
    byte[] zip = TestZips.zip(entries, 0);
    ExtractionCache cache = new ExtractionCache(tmp.resolve("code"), 1_000_000, d -> zip);

    assertThrows(IOException.class, () -> cache.extracted(CodeDigest.of(zip)));

    try (Stream<Path> left = Files.walk(tmp)) {
      List<Path> files = left.filter(Files::isRegularFile).toList();
      assertEquals(List.of(), files, "nothing extracted, inside or outside");
    }
    try (Stream<Path> left = Files.list(tmp.resolve("code/extracted"))) {
      assertEquals(0, left.count(), "no directory, not even a temporary one");
    }
  }
}
