package dev.lamina.persistence.code;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Collectors;

/**
 * Extracted code packages on local disk, shared by the code stores: one directory per digest under
 * {@code <root>/extracted/<hex>/}, one per ordered list of layers under {@code <root>/layers/<key>/}.
 *
 * <p>A directory is extracted on first use from the zip its {@link ZipSource} returns, checked by
 * {@link ZipPackage} against the unzipped limit, into a temporary directory renamed into place at
 * the end: a crash never leaves a half-extracted directory under the final name. Callers in this
 * JVM asking for the same directory at the same time extract it once; different packages extract
 * in parallel. Blocking: call from a blocking dispatcher.
 */
public final class ExtractionCache {

  /** Where the zip bytes of a digest come from; a failure (missing, corrupt) is an IOException. */
  @FunctionalInterface
  public interface ZipSource {
    byte[] zip(CodeDigest digest) throws IOException;
  }

  private final Path extracted;
  private final Path layers;
  private final long maxUnzippedBytes;
  private final ZipSource source;
  private final ConcurrentMap<String, Object> extractionLocks = new ConcurrentHashMap<>();

  public ExtractionCache(Path root, long maxUnzippedBytes, ZipSource source) throws IOException {
    this.extracted = Files.createDirectories(root.resolve("extracted"));
    this.layers = Files.createDirectories(root.resolve("layers"));
    this.maxUnzippedBytes = maxUnzippedBytes;
    this.source = source;
  }

  /** See {@link CodeStore#extracted}. */
  public Path extracted(CodeDigest digest) throws IOException {
    Path dir = extracted.resolve(digest.hex());
    if (Files.isDirectory(dir)) {
      return dir;  // the common case takes no lock
    }
    // One extraction per digest at a time; different packages extract in parallel.
    synchronized (extractionLocks.computeIfAbsent(digest.hex(), k -> new Object())) {
      return extractOnce(List.of(digest), extracted, dir);
    }
  }

  /** See {@link CodeStore#extractedLayers}. */
  public Path extractedLayers(List<CodeDigest> digests) throws IOException {
    // Named by the ordered list: the same layers in another order give another /opt.
    String key = CodeDigest.of(digests.stream().map(CodeDigest::hex).collect(Collectors.joining(","))
        .getBytes(StandardCharsets.UTF_8)).hex();
    Path dir = layers.resolve(key);
    if (Files.isDirectory(dir)) {
      return dir;
    }
    synchronized (extractionLocks.computeIfAbsent("layers-" + key, k -> new Object())) {
      return extractOnce(digests, layers, dir);
    }
  }

  /** Extracts {@code digests} in order into a fresh directory renamed to {@code dir} at the end. */
  private Path extractOnce(List<CodeDigest> digests, Path parent, Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return dir;
    }
    Path tmp = parent.resolve(".tmp-" + UUID.randomUUID());
    Files.createDirectories(tmp);
    try {
      // Readable by the sandboxes' users whatever the umask (an empty /opt too).
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
      for (CodeDigest digest : digests) {
        byte[] zip = source.zip(digest);
        try {
          ZipPackage.inspect(zip, maxUnzippedBytes).extractTo(tmp);
        } catch (ZipPackage.InvalidPackageException e) {
          throw new IOException("stored package " + digest.hex() + " is invalid: " + e.getMessage(), e);
        }
      }
      CodeFiles.moveIntoPlace(tmp, dir);
    } catch (IOException | RuntimeException e) {
      CodeFiles.deleteTree(tmp);
      throw e;
    }
    return dir;
  }
}
