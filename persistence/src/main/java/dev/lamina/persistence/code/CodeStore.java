package dev.lamina.persistence.code;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Content-addressed storage of code packages (function zips, later layers), keyed by the SHA-256
 * of the zip bytes. Blobs are immutable: putting the same bytes twice stores them once.
 *
 * <p>All methods block on disk or network I/O: call them from a blocking dispatcher, never from an
 * actor.
 */
public interface CodeStore {

  /** Stores the zip and returns its digest. */
  CodeDigest put(byte[] zip) throws IOException;

  /** True when a blob with this digest is stored (completely). */
  boolean contains(CodeDigest digest);

  /**
   * The stored zip bytes (what {@link #put} was given), or empty when no blob has this digest.
   * For handing the package back, e.g. GetFunction's {@code Code.Location}.
   */
  Optional<byte[]> zip(CodeDigest digest) throws IOException;

  /**
   * Returns a directory holding the extracted package, extracting it on first use. The directory
   * and its files must be treated as read-only by callers; it is shared by every sandbox of the
   * same code.
   */
  Path extracted(CodeDigest digest) throws IOException;

  /**
   * Returns a directory holding the layers extracted one over the other in order (a file of a
   * later layer replaces the same file of an earlier one), extracting on first use; an empty
   * directory for no layers. Read-only for callers and shared like {@link #extracted}.
   */
  Path extractedLayers(List<CodeDigest> layers) throws IOException;
}
