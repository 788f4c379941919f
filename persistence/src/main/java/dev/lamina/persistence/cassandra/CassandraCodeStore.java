package dev.lamina.persistence.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.lamina.persistence.code.CodeDigest;
import dev.lamina.persistence.code.CodeStore;
import dev.lamina.persistence.code.ExtractionCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.IntFunction;

/**
 * Code packages in Cassandra, so that every node can run every function; each node extracts the
 * packages it runs into its own cache directory ({@code <cacheDir>/extracted/<hex>/}, see
 * {@link ExtractionCache}), laid out like the embedded profile's.
 *
 * <p>Contract: {@link #put} writes the zip as chunks of {@code code-chunk-bytes} into
 * {@code code_chunks}, and only then its {@code code_blobs} row, so {@link #contains} is true only
 * once every chunk is stored. Bytes already stored are not written again; two nodes putting the
 * same bytes at once write identical rows. Reading a package back fetches its chunks (a few at a
 * time, in parallel), checks every chunk's length and the SHA-256 of the whole: a missing or
 * altered chunk is an {@link IOException}, never extracted. Extraction counts the unzipped bytes
 * against {@code maxUnzippedBytes} like the local store does.
 *
 * <p>Blocking (network and disk): call from a blocking dispatcher.
 */
public final class CassandraCodeStore implements CodeStore {

  /** Chunk requests in flight per put or fetch: enough to fill the link, few enough to stay polite. */
  private static final int PARALLEL_CHUNKS = 4;

  private final CqlSession session;
  private final int chunkBytes;
  private final ExtractionCache cache;
  private final PreparedStatement insertChunk;
  private final PreparedStatement insertBlob;
  private final PreparedStatement selectBlob;
  private final PreparedStatement selectChunk;

  /** Prepares its statements (blocking; at start-up) on a storage whose schema exists. */
  public CassandraCodeStore(CassandraStorage storage, Path cacheDir, long maxUnzippedBytes) throws IOException {
    this.session = storage.session();
    this.chunkBytes = storage.settings().codeChunkBytes();
    String blobs = storage.table(CassandraSchema.CODE_BLOBS);
    String chunks = storage.table(CassandraSchema.CODE_CHUNKS);
    this.insertChunk = session.prepare("INSERT INTO " + chunks + " (digest, chunk_index, data) VALUES (?, ?, ?)");
    this.insertBlob = session.prepare("INSERT INTO " + blobs
        + " (digest, size, chunk_bytes, chunks, stored_at) VALUES (?, ?, ?, ?, ?)");
    this.selectBlob = session.prepare("SELECT size, chunk_bytes, chunks FROM " + blobs + " WHERE digest = ?");
    this.selectChunk = session.prepare("SELECT data FROM " + chunks + " WHERE digest = ? AND chunk_index = ?");
    this.cache = new ExtractionCache(cacheDir, maxUnzippedBytes, digest -> zip(digest)
        .orElseThrow(() -> new IOException("no code package " + digest.hex() + " is stored in Cassandra")));
  }

  @Override
  public CodeDigest put(byte[] zip) throws IOException {
    CodeDigest digest = CodeDigest.of(zip);
    if (contains(digest)) {
      return digest;
    }
    String hex = digest.hex();
    int chunks = (int) ((zip.length + (long) chunkBytes - 1) / chunkBytes);
    windowed(chunks, i -> {
      int from = i * chunkBytes;
      ByteBuffer data = ByteBuffer.wrap(zip, from, Math.min(chunkBytes, zip.length - from));
      return session.executeAsync(insertChunk.bind(hex, i, data).setIdempotent(true));
    }, "store code " + hex);
    try {
      session.execute(insertBlob.bind(hex, (long) zip.length, chunkBytes, chunks, Instant.now()).setIdempotent(true));
    } catch (DriverException e) {
      throw new IOException("could not store code " + hex + " in Cassandra: " + e.getMessage(), e);
    }
    return digest;
  }

  @Override
  public boolean contains(CodeDigest digest) {
    try {
      return blob(digest) != null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public Optional<byte[]> zip(CodeDigest digest) throws IOException {
    Row blob = blob(digest);
    if (blob == null) {
      return Optional.empty();
    }
    String hex = digest.hex();
    long size = blob.getLong("size");
    int storedChunkBytes = blob.getInt("chunk_bytes");
    int chunks = blob.getInt("chunks");
    if (size < 0 || size > Integer.MAX_VALUE - 8 || storedChunkBytes <= 0
        || chunks != (int) ((size + storedChunkBytes - 1) / storedChunkBytes)) {
      throw new IOException("code " + hex + ": corrupt blob row (size " + size + ", " + chunks + " chunks of "
          + storedChunkBytes + ")");
    }
    byte[] zip = new byte[(int) size];
    windowed(chunks, i -> session.executeAsync(selectChunk.bind(hex, i)).thenAccept(rows -> {
      Row row = rows.one();
      ByteBuffer data = row == null ? null : row.getByteBuffer("data");
      int from = i * storedChunkBytes;
      int expected = (int) Math.min(storedChunkBytes, size - from);
      if (data == null) {
        throw new CompletionException(new IOException("code " + hex + ": chunk " + i + " of " + chunks + " is missing"));
      }
      if (data.remaining() != expected) {
        throw new CompletionException(new IOException("code " + hex + ": chunk " + i + " of " + chunks + " has "
            + data.remaining() + " bytes, expected " + expected));
      }
      data.duplicate().get(zip, from, expected);
    }), "fetch code " + hex);
    if (!CodeDigest.of(zip).equals(digest)) {
      throw new IOException("code " + hex + ": the stored chunks do not match the digest (corrupt)");
    }
    return Optional.of(zip);
  }

  @Override
  public Path extracted(CodeDigest digest) throws IOException {
    return cache.extracted(digest);
  }

  @Override
  public Path extractedLayers(List<CodeDigest> layers) throws IOException {
    return cache.extractedLayers(layers);
  }

  private Row blob(CodeDigest digest) throws IOException {
    try {
      return session.execute(selectBlob.bind(digest.hex())).one();
    } catch (DriverException e) {
      throw new IOException("could not read code " + digest.hex() + " from Cassandra: " + e.getMessage(), e);
    }
  }

  /**
   * Runs {@code request(0..count-1)} with at most {@link #PARALLEL_CHUNKS} in flight and waits for
   * all; the first failure becomes an IOException mentioning {@code what}.
   */
  private static void windowed(int count, IntFunction<CompletionStage<?>> request, String what) throws IOException {
    ArrayDeque<CompletableFuture<?>> inFlight = new ArrayDeque<>();
    try {
      for (int i = 0; i < count; i++) {
        if (inFlight.size() == PARALLEL_CHUNKS) {
          inFlight.removeFirst().join();
        }
        inFlight.addLast(request.apply(i).toCompletableFuture());
      }
      while (!inFlight.isEmpty()) {
        inFlight.removeFirst().join();
      }
    } catch (CompletionException | DriverException e) {
      inFlight.forEach(f -> f.cancel(false));
      Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IOException("could not " + what + " in Cassandra: " + cause.getMessage(), cause);
    }
  }
}
