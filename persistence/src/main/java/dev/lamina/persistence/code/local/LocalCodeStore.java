package dev.lamina.persistence.code.local;

import dev.lamina.persistence.code.CodeDigest;
import dev.lamina.persistence.code.CodeStore;
import dev.lamina.persistence.code.ZipPackage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Code blobs as files under {@code <data>/code/blobs/<hex>.zip}, extracted once per digest under
 * {@code <data>/code/extracted/<hex>/}. Writes go to a temporary name and are renamed into place,
 * so a crash never leaves a half-written blob or extraction behind under the final name.
 */
public final class LocalCodeStore implements CodeStore {

  private final Path blobs;
  private final Path extracted;
  private final Path layers;
  private final long maxUnzippedBytes;
  private final java.util.concurrent.ConcurrentMap<String, Object> extractionLocks =
      new java.util.concurrent.ConcurrentHashMap<>();

  public LocalCodeStore(Path root, long maxUnzippedBytes) throws IOException {
    this.blobs = Files.createDirectories(root.resolve("blobs"));
    this.extracted = Files.createDirectories(root.resolve("extracted"));
    this.layers = Files.createDirectories(root.resolve("layers"));
    this.maxUnzippedBytes = maxUnzippedBytes;
  }

  @Override
  public CodeDigest put(byte[] zip) throws IOException {
    CodeDigest digest = CodeDigest.of(zip);
    Path target = blobs.resolve(digest.hex() + ".zip");
    if (Files.exists(target)) {
      return digest;
    }
    Path tmp = blobs.resolve(".tmp-" + UUID.randomUUID());
    Files.write(tmp, zip);
    moveIntoPlace(tmp, target);
    return digest;
  }

  @Override
  public boolean contains(CodeDigest digest) {
    return Files.exists(blobs.resolve(digest.hex() + ".zip"));
  }

  @Override
  public Path extracted(CodeDigest digest) throws IOException {
    Path dir = extracted.resolve(digest.hex());
    if (Files.isDirectory(dir)) {
      return dir;  // the common case takes no lock
    }
    // One extraction per digest at a time; different packages extract in parallel.
    synchronized (extractionLocks.computeIfAbsent(digest.hex(), k -> new Object())) {
      return extractOnce(digest, dir);
    }
  }

  @Override
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

  private Path extractOnce(CodeDigest digest, Path dir) throws IOException {
    return extractOnce(List.of(digest), extracted, dir);
  }

  /** Extracts {@code digests} in order into a fresh directory renamed to {@code dir} at the end. */
  private Path extractOnce(List<CodeDigest> digests, Path parent, Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return dir;
    }
    Path tmp = parent.resolve(".tmp-" + UUID.randomUUID());
    Files.createDirectories(tmp);
    try {
      for (CodeDigest digest : digests) {
        byte[] zip = Files.readAllBytes(blobs.resolve(digest.hex() + ".zip"));
        try {
          ZipPackage.inspect(zip, maxUnzippedBytes).extractTo(tmp);
        } catch (ZipPackage.InvalidPackageException e) {
          throw new IOException("stored package " + digest.hex() + " is invalid: " + e.getMessage(), e);
        }
      }
      moveIntoPlace(tmp, dir);
    } catch (IOException e) {
      deleteTree(tmp);
      throw e;
    }
    return dir;
  }

  private static void moveIntoPlace(Path tmp, Path target) throws IOException {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException e) {
      deleteTree(tmp); // another writer stored the same content first
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        p.toFile().setWritable(true);
        Files.deleteIfExists(p);
      }
    }
  }
}
