package dev.lamina.persistence.code;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.persistence.code.local.LocalCodeStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Code packages are checked before anything is stored, and extracted safely once per digest. */
class ZipPackageTest {

  @TempDir Path tmp;

  @Test
  void refusesBytesThatAreNotAZip() {
    ZipPackage.InvalidPackageException e = assertThrows(ZipPackage.InvalidPackageException.class,
        () -> ZipPackage.inspect("definitely not a zip".getBytes(StandardCharsets.UTF_8), 1000));
    assertFalse(e.tooLargeUnzipped());
  }

  @Test
  void refusesEntriesThatEscapeTheExtractionDirectory() {
    for (String name : new String[] {"../evil.py", "a/../../evil.py", "/etc/evil", "C:/evil", "a\\..\\evil"}) {
      assertThrows(ZipPackage.InvalidPackageException.class, () -> ZipPackage.inspect(zip(Map.of(name, "x"), 0), 1000),
          name);
    }
  }

  @Test
  void refusesSymlinkEntries() {
    byte[] zip = zip(Map.of("link", "/etc/passwd"), 0120777);
    assertThrows(ZipPackage.InvalidPackageException.class, () -> ZipPackage.inspect(zip, 1000));
  }

  @Test
  void countsInflatedBytesAgainstTheUnzippedLimit() throws Exception {
    byte[] zip = zip(Map.of("zeros.bin", "0".repeat(5000)), 0);
    assertEquals(5000, ZipPackage.inspect(zip, 5000).unzippedSize());
    ZipPackage.InvalidPackageException e = assertThrows(ZipPackage.InvalidPackageException.class,
        () -> ZipPackage.inspect(zip, 4999));
    assertTrue(e.tooLargeUnzipped());
  }

  @Test
  void layersExtractedInOrderOverlayEachOtherAndTheLaterOneWinsEvenOverAFileOrDirectory() throws Exception {
    LocalCodeStore store = new LocalCodeStore(tmp.resolve("store"), 1_000_000);
    CodeDigest first = store.put(zip(Map.of("python/mod", "a file", "python/dir/inner.py", "x = 1",
        "python/same.py", "first", "python/only-first.py", "kept"), 0));
    CodeDigest second = store.put(zip(Map.of("python/mod/__init__.py", "now a package", "python/dir", "now a file",
        "python/same.py", "second"), 0));

    Path opt = store.extractedLayers(java.util.List.of(first, second));

    assertEquals("now a package", Files.readString(opt.resolve("python/mod/__init__.py")));
    assertEquals("now a file", Files.readString(opt.resolve("python/dir")));
    assertEquals("second", Files.readString(opt.resolve("python/same.py")));
    assertEquals("kept", Files.readString(opt.resolve("python/only-first.py")));
    assertEquals(opt, store.extractedLayers(java.util.List.of(first, second)), "extracted once per ordered list");
    assertFalse(opt.equals(store.extractedLayers(java.util.List.of(second, first))), "another order, another /opt");
    assertTrue(Files.isDirectory(store.extractedLayers(java.util.List.of())), "no layers: an empty /opt");
  }

  @Test
  void extractionKeepsExecutableBitsAndMakesFilesReadOnly() throws Exception {
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("bootstrap", "#!/bin/sh\n");
    byte[] zip = zip(entries, 0100755);
    Path out = Files.createDirectories(tmp.resolve("out"));

    ZipPackage.inspect(zip, 1000).extractTo(out);

    assertTrue(Files.isExecutable(out.resolve("bootstrap")));
    assertEquals("r-xr-xr-x", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(out.resolve("bootstrap"))));
  }

  @Test
  void storeIsContentAddressedAndExtractsOncePerDigest() throws Exception {
    LocalCodeStore store = new LocalCodeStore(tmp.resolve("code"), 1_000_000);
    byte[] zip = zip(Map.of("app.py", "print('hi')\n"), 0);

    CodeDigest first = store.put(zip);
    CodeDigest again = store.put(zip);
    Path dir = store.extracted(first);

    assertEquals(first, again);
    assertEquals(Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-256").digest(zip)),
        first.base64());
    assertEquals("print('hi')\n", Files.readString(dir.resolve("app.py")));
    assertEquals(dir, store.extracted(first));
    assertArrayEquals(zip, store.zip(first).orElseThrow(), "the zip reads back as it was put");
    assertTrue(store.zip(CodeDigest.of(new byte[] {1})).isEmpty());
    try (var files = Files.list(tmp.resolve("code/blobs"))) {
      assertEquals(1, files.count(), "one blob for identical content");
    }
  }

  private static byte[] zip(Map<String, String> entries, int mode) {
    return TestZips.zip(entries, mode);
  }
}
