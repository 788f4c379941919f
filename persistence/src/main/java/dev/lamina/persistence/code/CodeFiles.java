package dev.lamina.persistence.code;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/** File moves and deletions shared by the code stores. */
public final class CodeFiles {

  private CodeFiles() {}

  /**
   * Renames a finished temporary file or directory to its final name. When another writer got
   * there first with the same content (names are digests), the temporary copy is deleted.
   */
  public static void moveIntoPlace(Path tmp, Path target) throws IOException {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException e) {
      deleteTree(tmp); // another writer stored the same content first
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    } catch (FileSystemException e) {
      if (!Files.isDirectory(target)) {
        throw e;
      }
      deleteTree(tmp); // another process extracted the same directory first (rename: "not empty")
    }
  }

  /** Deletes a file or a directory tree, read-only files included; nothing when it is absent. */
  public static void deleteTree(Path dir) throws IOException {
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
