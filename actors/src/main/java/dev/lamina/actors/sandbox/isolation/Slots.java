package dev.lamina.actors.sandbox.isolation;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The host's sandbox slots: slot i is uid {@code uidFirst + i} and Runtime API port
 * {@code portFirst + i}. A slot is claimed with a lock file under the run directory, so several
 * nodes on one host (and several nodes in one JVM) never share a uid or port; a node that dies
 * loses its locks with its process. Blocking (file locks): not on an actor thread.
 */
public final class Slots {

  private static final Map<Path, Slots> BY_DIR = new ConcurrentHashMap<>();

  private final Path dir;
  private final int count;
  private final BitSet taken = new BitSet();  // claimed in this JVM

  private Slots(Path dir, int count) {
    this.dir = dir;
    this.count = count;
  }

  /** The slots kept under {@code runDir} (one instance per directory in this JVM). */
  public static Slots under(Path runDir, int count) throws IOException {
    Path dir = Files.createDirectories(runDir.resolve("slots"));
    return BY_DIR.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> new Slots(d, count));
  }

  /** A claimed slot; {@link #close()} gives it back. */
  public final class Claim implements AutoCloseable {
    private final int index;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean closed;

    private Claim(int index, FileChannel channel, FileLock lock) {
      this.index = index;
      this.channel = channel;
      this.lock = lock;
    }

    public int index() {
      return index;
    }

    @Override
    public void close() {
      synchronized (Slots.this) {
        if (closed) {
          return;
        }
        closed = true;
        taken.clear(index);
      }
      try {
        lock.release();
        channel.close();
      } catch (IOException e) {
        // closing the channel drops the lock in any case
      }
    }
  }

  /** The lowest free slot, or null when all are in use on this host. */
  public Claim claim() throws IOException {
    for (int i = 0; i < count; i++) {
      synchronized (this) {
        i = taken.nextClearBit(i);
        if (i >= count) {
          return null;
        }
        taken.set(i);
      }
      Claim claim;
      try {
        claim = tryLock(i);
      } catch (IOException | RuntimeException e) {
        synchronized (this) {
          taken.clear(i);
        }
        throw e;
      }
      if (claim != null) {
        return claim;
      }
      synchronized (this) {
        taken.clear(i);  // another process on this host holds it
      }
    }
    return null;
  }

  private Claim tryLock(int index) throws IOException {
    FileChannel channel = FileChannel.open(dir.resolve(index + ".lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    try {
      FileLock lock = channel.tryLock();
      if (lock != null) {
        return new Claim(index, channel, lock);
      }
    } catch (OverlappingFileLockException e) {
      // held in this JVM under another Slots instance: taken
    }
    channel.close();
    return null;
  }
}
