package dev.lamina.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.lamina.persistence.code.CodeDigest;
import dev.lamina.persistence.code.TestZips;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Code stored in Cassandra through one node is run by any other: chunked, written once, checked
 * against its digest before extraction into each node's own cache.
 */
@Timeout(120)
class CassandraCodeStoreTest {

  private static final int CHUNK = 64 * 1024;
  private static final long MAX_UNZIPPED = 50_000_000;

  /** Two connections to one keyspace: two Lamina nodes. */
  static CassandraStorage nodeA;
  static CassandraStorage nodeB;

  @TempDir Path tmp;

  @BeforeAll
  static void openKeyspace() {
    CassandraSettings settings = TestCassandra.settings(TestCassandra.uniqueKeyspace(CassandraCodeStoreTest.class))
        .withCodeChunkBytes(CHUNK);
    nodeA = CassandraStorage.open(settings);
    nodeB = CassandraStorage.open(settings);
  }

  @AfterAll
  static void dropKeyspace() {
    if (nodeB != null) {
      nodeB.close();
    }
    if (nodeA != null) {
      TestCassandra.dropAndClose(nodeA);
    }
  }

  @Test
  void aZipRoundTripsWithItsDigestAndExtractsToTheSameFiles() throws Exception {
    CassandraCodeStore store = store(nodeA, "a");
    Map<String, String> files = new LinkedHashMap<>();
    files.put("bootstrap", "#!/bin/sh\nexec python3 app.py\n");
    files.put("lib/util.py", "def f():\n    return 42\n");
    byte[] zip = TestZips.zip(files, 0100755);

    CodeDigest digest = store.put(zip);
    Path dir = store.extracted(digest);

    assertEquals(CodeDigest.of(zip), digest);
    assertTrue(store.contains(digest));
    assertFalse(store.contains(CodeDigest.of(new byte[] {1, 2, 3})));
    assertArrayEquals(zip, store.zip(digest).orElseThrow());
    assertTrue(store.zip(CodeDigest.of(new byte[] {1, 2, 3})).isEmpty());
    assertEquals(tmp.resolve("a/extracted").resolve(digest.hex()), dir, "the local store's layout");
    assertEquals(files.get("bootstrap"), Files.readString(dir.resolve("bootstrap")));
    assertEquals(files.get("lib/util.py"), Files.readString(dir.resolve("lib/util.py")));
    assertEquals("r-xr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("bootstrap"))));
    assertEquals(dir, store.extracted(digest), "extracted once");
  }

  @Test
  void theSameBytesPutTwiceAreWrittenOnce() throws Exception {
    CassandraCodeStore store = store(nodeA, "a");
    byte[] zip = TestZips.zip(Map.of("once.py", "print('once')\n"), 0);

    CodeDigest first = store.put(zip);
    long writtenAt = blobWriteTime(first);
    CodeDigest second = store(nodeB, "b").put(zip);

    assertEquals(first, second);
    assertEquals(writtenAt, blobWriteTime(second), "the second put wrote nothing");
    assertEquals(1, nodeA.session().execute("SELECT COUNT(*) FROM " + nodeA.table(CassandraSchema.CODE_CHUNKS)
        + " WHERE digest = ? AND chunk_index = 0", first.hex()).one().getLong(0));
  }

  @Test
  void aZipOfManyChunksIsStoredInChunksAndReadBackWhole() throws Exception {
    CassandraCodeStore store = store(nodeA, "a");
    byte[] random = new byte[600_000];
    new Random(7).nextBytes(random);  // incompressible: the zip is about as large
    byte[] zip = TestZips.zipOf(Map.of("data.bin", random, "readme.txt", "random bytes\n".getBytes()), 0);

    CodeDigest digest = store.put(zip);

    Row blob = nodeA.session().execute("SELECT size, chunk_bytes, chunks FROM " + nodeA.table(CassandraSchema.CODE_BLOBS)
        + " WHERE digest = ?", digest.hex()).one();
    int chunks = (zip.length + CHUNK - 1) / CHUNK;
    assertTrue(chunks >= 9, "several chunks: " + chunks);
    assertEquals(zip.length, blob.getLong("size"));
    assertEquals(CHUNK, blob.getInt("chunk_bytes"));
    assertEquals(chunks, blob.getInt("chunks"));
    assertArrayEquals(zip, store.zip(digest).orElseThrow());
    assertArrayEquals(random, Files.readAllBytes(store.extracted(digest).resolve("data.bin")));
  }

  @Test
  void codePutThroughOneNodeIsExtractedByAnotherIntoItsOwnCache() throws Exception {
    CassandraCodeStore a = store(nodeA, "a");
    CassandraCodeStore b = store(nodeB, "b");
    byte[] zip = TestZips.zip(Map.of("handler.py", "def handler(e, c):\n    return e\n"), 0);

    CodeDigest digest = a.put(zip);
    Path onB = b.extracted(digest);

    assertTrue(b.contains(digest));
    assertTrue(onB.startsWith(tmp.resolve("b")));
    assertEquals("def handler(e, c):\n    return e\n", Files.readString(onB.resolve("handler.py")));
    assertFalse(Files.exists(tmp.resolve("a/extracted").resolve(digest.hex())), "A extracted nothing");
  }

  @Test
  void anAlteredChunkIsDetectedAndNothingIsExtracted() throws Exception {
    byte[] random = new byte[200_000];
    new Random(11).nextBytes(random);
    CodeDigest digest = store(nodeA, "a").put(TestZips.zipOf(Map.of("data.bin", random), 0));
    ByteBuffer chunk = nodeA.session().execute("SELECT data FROM " + nodeA.table(CassandraSchema.CODE_CHUNKS)
        + " WHERE digest = ? AND chunk_index = 1", digest.hex()).one().getByteBuffer("data");
    byte[] altered = new byte[chunk.remaining()];
    chunk.get(altered);
    altered[100] ^= 0x01;  // one flipped bit, same length
    nodeA.session().execute("UPDATE " + nodeA.table(CassandraSchema.CODE_CHUNKS)
        + " SET data = ? WHERE digest = ? AND chunk_index = 1", ByteBuffer.wrap(altered), digest.hex());
    CassandraCodeStore reader = store(nodeB, "b");

    IOException failure = assertThrows(IOException.class, () -> reader.extracted(digest));

    assertTrue(failure.getMessage().contains("do not match the digest"), failure.getMessage());
    assertTrue(isEmpty(tmp.resolve("b/extracted")), "nothing extracted, not even partly");
  }

  @Test
  void aMissingChunkIsDetectedAndNothingIsExtracted() throws Exception {
    byte[] random = new byte[200_000];
    new Random(13).nextBytes(random);
    CodeDigest digest = store(nodeA, "a").put(TestZips.zipOf(Map.of("data.bin", random), 0));
    nodeA.session().execute("DELETE FROM " + nodeA.table(CassandraSchema.CODE_CHUNKS)
        + " WHERE digest = ? AND chunk_index = 2", digest.hex());
    CassandraCodeStore reader = store(nodeB, "b");

    IOException failure = assertThrows(IOException.class, () -> reader.extracted(digest));

    assertTrue(failure.getMessage().contains("chunk 2 of 4 is missing"), failure.getMessage());
    assertTrue(isEmpty(tmp.resolve("b/extracted")));
  }

  @Test
  void layersPutThroughOneNodeOverlayInOrderOnAnother() throws Exception {
    CassandraCodeStore a = store(nodeA, "a");
    CodeDigest first = a.put(TestZips.zip(Map.of("python/same.py", "first", "python/only-first.py", "kept"), 0));
    CodeDigest second = a.put(TestZips.zip(Map.of("python/same.py", "second"), 0));
    CassandraCodeStore b = store(nodeB, "b");

    Path opt = b.extractedLayers(List.of(first, second));

    assertEquals("second", Files.readString(opt.resolve("python/same.py")));
    assertEquals("kept", Files.readString(opt.resolve("python/only-first.py")));
    assertEquals(opt, b.extractedLayers(List.of(first, second)));
    assertEquals("first", Files.readString(b.extractedLayers(List.of(second, first)).resolve("python/same.py")));
    assertTrue(isEmpty(b.extractedLayers(List.of())), "no layers: an empty /opt");
  }

  @Test
  void aStoredPackageOverTheUnzippedLimitIsNotExtracted() throws Exception {
    byte[] zip = TestZips.zip(Map.of("big.txt", "x".repeat(10_000)), 0);
    CodeDigest digest = store(nodeA, "a").put(zip);
    CassandraCodeStore strict = new CassandraCodeStore(nodeB, tmp.resolve("strict"), 9_999);

    IOException failure = assertThrows(IOException.class, () -> strict.extracted(digest));

    assertTrue(failure.getMessage().contains("unzipped size exceeds 9999"), failure.getMessage());
  }

  private CassandraCodeStore store(CassandraStorage node, String cacheName) throws IOException {
    return new CassandraCodeStore(node, tmp.resolve(cacheName), MAX_UNZIPPED);
  }

  private static long blobWriteTime(CodeDigest digest) {
    return nodeA.session().execute("SELECT WRITETIME(size) FROM " + nodeA.table(CassandraSchema.CODE_BLOBS)
        + " WHERE digest = ?", digest.hex()).one().getLong(0);
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (var entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }
}
