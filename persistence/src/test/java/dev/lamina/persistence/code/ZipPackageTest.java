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

  // ---- bombs: sizes are counted, headers verified, the ratio bounded ---------------------------

  @Test
  void refusesAnEntryThatInflatesPastTheSizeItsHeaderDeclares() {
    // 300 MB of zeros whose central directory claims 1000 bytes: refused at byte 1001.
    byte[] zip = TestZips.withCentralField(TestZips.deflatedZeros("zeros.bin", 300_000_000L), "zeros.bin", 24, 4, 1000);

    ZipPackage.InvalidPackageException e = assertThrows(ZipPackage.InvalidPackageException.class,
        () -> ZipPackage.inspect(zip, 262_144_000));

    assertFalse(e.tooLargeUnzipped());
    assertTrue(e.getMessage().contains("inflates past its declared 1000 bytes"), e.getMessage());
  }

  @Test
  void refusesAPackageThatUnzipsToMoreThan200TimesItsSizeBeyond64MiB() {
    byte[] zip = TestZips.deflatedZeros("zeros.bin", 100L << 20);

    ZipPackage.InvalidPackageException e = assertThrows(ZipPackage.InvalidPackageException.class,
        () -> ZipPackage.inspect(zip, 262_144_000));

    assertFalse(e.tooLargeUnzipped(), "within the unzipped limit: refused for its ratio");
    assertTrue(e.getMessage().contains("more than 200 times its size"), e.getMessage());
  }

  @Test
  void acceptsHighlyCompressibleContentUnder64MiBAndLargePackagesOfOrdinaryRatio() throws Exception {
    byte[] zeros = TestZips.deflatedZeros("zeros.bin", 60L << 20);
    assertEquals(60L << 20, ZipPackage.inspect(zeros, 262_144_000).unzippedSize(), "1000:1, but only 60 MiB");

    byte[] random = new byte[8 << 20];
    new java.util.Random(7).nextBytes(random);
    Map<String, byte[]> mixed = new LinkedHashMap<>();
    mixed.put("sparse.db", new byte[62 << 20]);
    mixed.put("lib.so", random);
    byte[] zip = TestZips.zipOf(mixed, 0);
    assertEquals(70L << 20, ZipPackage.inspect(zip, 262_144_000).unzippedSize(), "70 MiB from " + zip.length);
  }

  @Test
  void refusesEntriesWhoseDataOverlap() {
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("a.txt", "a".repeat(100));
    entries.put("b.txt", "b".repeat(100));
    byte[] zip = TestZips.zip(entries, 0);
    // b's central directory entry points at a's data: one compressed stream counted twice.
    byte[] overlapping = TestZips.withCentralField(zip, "b.txt", 42, 4, 0);

    ZipPackage.InvalidPackageException e = assertThrows(ZipPackage.InvalidPackageException.class,
        () -> ZipPackage.inspect(overlapping, 1_000_000));

    assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
  }

  @Test
  void refusesHeadersThatDisagreeWithTheData() {
    byte[] zip = TestZips.zip(Map.of("app.py", "print('hi')\n"), 0);
    long crc = TestZips.centralField(zip, "app.py", 16, 4);
    byte[] renamedLocally = zip.clone();
    renamedLocally[30] = 'X';  // the first local header's name

    Map<String, byte[]> broken = new LinkedHashMap<>();
    broken.put("wrong CRC-32", TestZips.withCentralField(zip, "app.py", 16, 4, crc ^ 1));
    broken.put("encrypted", TestZips.withCentralField(zip, "app.py", 8, 2, 1));
    broken.put("bzip2", TestZips.withCentralField(zip, "app.py", 10, 2, 12));
    broken.put("size too small", TestZips.withCentralField(zip, "app.py", 24, 4, 3));
    broken.put("size too large", TestZips.withCentralField(zip, "app.py", 24, 4, 300));
    broken.put("local name differs", renamedLocally);
    broken.put("truncated", java.util.Arrays.copyOf(zip, zip.length - 30));

    broken.forEach((what, bytes) -> assertThrows(ZipPackage.InvalidPackageException.class,
        () -> ZipPackage.inspect(bytes, 1_000_000), what));
  }

  // ---- names -------------------------------------------------------------------------------------

  @Test
  void refusesTwoEntriesForOnePathAndAFileWhereADirectoryIsNeeded() {
    Map<String, String> duplicate = new LinkedHashMap<>();
    duplicate.put("lib/a.py", "1");
    duplicate.put("lib/./a.py", "2");
    Map<String, String> fileAndDirectory = new LinkedHashMap<>();
    fileAndDirectory.put("lib", "a file");
    fileAndDirectory.put("lib/a.py", "in a directory");

    assertTrue(assertThrows(ZipPackage.InvalidPackageException.class,
        () -> ZipPackage.inspect(zip(duplicate, 0), 1000)).getMessage().contains("two entries for lib/a.py"));
    assertTrue(assertThrows(ZipPackage.InvalidPackageException.class,
        () -> ZipPackage.inspect(zip(fileAndDirectory, 0), 1000)).getMessage().contains("both a file and a directory"));
  }

  @Test
  void refusesSymlinksEvenWhenTheyStayInsideThePackage() {
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("link", "app.py");
    byte[] zip = zip(entries, 0120777);

    assertThrows(ZipPackage.InvalidPackageException.class, () -> ZipPackage.inspect(zip, 1000));
  }

  @Test
  void refusesNamesWithNulOrOverlongParts() {
    for (String name : new String[] {"a\0b", "x".repeat(256), ("d/").repeat(1025) + "f", "D:evil"}) {
      assertThrows(ZipPackage.InvalidPackageException.class, () -> ZipPackage.inspect(zip(Map.of(name, "x"), 0), 1000),
          name.length() > 40 ? name.substring(0, 40) + "…" : name);
    }
  }

  @Test
  void readsZip64ArchivesUpTo100000EntriesAndRefusesMore() throws Exception {
    assertEquals(100_000, ZipPackage.inspect(manyEntries(100_000), 1_000_000).entryCount(),
        "more than 65535 entries: a zip64 end record");

    ZipPackage.InvalidPackageException e = assertThrows(ZipPackage.InvalidPackageException.class,
        () -> ZipPackage.inspect(manyEntries(100_001), 1_000_000));
    assertTrue(e.getMessage().contains("100001 entries"), e.getMessage());
  }

  // ---- extraction --------------------------------------------------------------------------------

  @Test
  void extractionMakesCodeReadableByEveryoneAndWritableByNoneWhateverItsStartingMode() throws Exception {
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("lib/", "");
    entries.put("lib/util.py", "x = 1\n");
    entries.put("bootstrap", "#!/bin/sh\n");
    byte[] zip = TestZips.zip(entries, 0);
    byte[] modes = TestZips.withCentralField(TestZips.withCentralField(
        TestZips.withCentralField(zip, "bootstrap", 38, 4, 0100750L << 16), "bootstrap", 4, 2, (3 << 8) | 20),
        "lib/util.py", 4, 2, (3 << 8) | 20);
    modes = TestZips.withCentralField(modes, "lib/util.py", 38, 4, 0100600L << 16);
    Path out = Files.createDirectories(tmp.resolve("strict"));
    Files.setPosixFilePermissions(out, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));

    ZipPackage.inspect(modes, 1000).extractTo(out);

    assertEquals("rwxr-xr-x", permissions(out));
    assertEquals("rwxr-xr-x", permissions(out.resolve("lib")));
    assertEquals("r--r--r--", permissions(out.resolve("lib/util.py")), "0600 in the zip: still readable by the sandbox");
    assertEquals("r-xr-xr-x", permissions(out.resolve("bootstrap")), "executable for everyone");
  }

  private static String permissions(Path p) throws java.io.IOException {
    return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  /** {@code n} empty files in one zip. */
  private static byte[] manyEntries(int n) {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      entries.put("f" + i, new byte[0]);
    }
    return TestZips.zipOf(entries, 0);
  }

  private static byte[] zip(Map<String, String> entries, int mode) {
    return TestZips.zip(entries, mode);
  }
}
