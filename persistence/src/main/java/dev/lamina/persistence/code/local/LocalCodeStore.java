package dev.lamina.persistence.code.local;

import dev.lamina.persistence.code.CodeDigest;
import dev.lamina.persistence.code.CodeFiles;
import dev.lamina.persistence.code.CodeStore;
import dev.lamina.persistence.code.ExtractionCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Code blobs as files under {@code <data>/code/blobs/<hex>.zip}, extracted once per digest under
 * {@code <data>/code/extracted/<hex>/} (see {@link ExtractionCache}). Writes go to a temporary name
 * and are renamed into place, so a crash never leaves a half-written blob or extraction behind
 * under the final name.
 */
public final class LocalCodeStore implements CodeStore {

  private final Path blobs;
  private final ExtractionCache cache;

  public LocalCodeStore(Path root, long maxUnzippedBytes) throws IOException {
    this.blobs = Files.createDirectories(root.resolve("blobs"));
    this.cache = new ExtractionCache(root, maxUnzippedBytes, digest -> Files.readAllBytes(blob(digest)));
  }

  @Override
  public CodeDigest put(byte[] zip) throws IOException {
    CodeDigest digest = CodeDigest.of(zip);
    Path target = blob(digest);
    if (Files.exists(target)) {
      return digest;
    }
    Path tmp = blobs.resolve(".tmp-" + UUID.randomUUID());
    Files.write(tmp, zip);
    CodeFiles.moveIntoPlace(tmp, target);
    return digest;
  }

  @Override
  public boolean contains(CodeDigest digest) {
    return Files.exists(blob(digest));
  }

  @Override
  public Optional<byte[]> zip(CodeDigest digest) throws IOException {
    try {
      return Optional.of(Files.readAllBytes(blob(digest)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public Path extracted(CodeDigest digest) throws IOException {
    return cache.extracted(digest);
  }

  @Override
  public Path extractedLayers(List<CodeDigest> digests) throws IOException {
    return cache.extractedLayers(digests);
  }

  private Path blob(CodeDigest digest) {
    return blobs.resolve(digest.hex() + ".zip");
  }
}
