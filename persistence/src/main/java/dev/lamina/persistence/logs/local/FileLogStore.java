package dev.lamina.persistence.logs.local;

import dev.lamina.persistence.logs.LogStore;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs as one append-only file per function under {@code <data>/logs/<function>.log}. One writer
 * thread serialises appends, so callers never wait for the disk and blocks never interleave.
 * When a file passes {@code maxFileBytes} it becomes {@code <function>.log.1} (one generation is
 * kept) and offsets of the new file start again at 0.
 */
public final class FileLogStore implements LogStore {

  private static final Logger log = LoggerFactory.getLogger(FileLogStore.class);
  /** Lambda's function name pattern: logs are kept per function name. */
  private static final java.util.regex.Pattern FUNCTION_NAME = java.util.regex.Pattern.compile("[a-zA-Z0-9_-]{1,64}");

  private final Path dir;
  private final long maxFileBytes;
  private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "lamina-log-writer");
    t.setDaemon(true);
    return t;
  });

  public FileLogStore(Path dir, long maxFileBytes) throws IOException {
    this.dir = Files.createDirectories(dir);
    this.maxFileBytes = maxFileBytes;
  }

  @Override
  public void append(String function, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    writer.execute(() -> {
      Path file = file(function);
      try {
        if (Files.exists(file) && Files.size(file) + bytes.length > maxFileBytes) {
          Files.move(file, dir.resolve(function + ".log.1"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Files.write(file, bytes, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        log.warn("could not append to the log of {}: {}", function, e.toString());
      }
    });
  }

  @Override
  public Chunk read(String function, long offset, int maxBytes) throws IOException {
    if (!FUNCTION_NAME.matcher(function).matches()) {
      return new Chunk("", 0);  // no function has this name, and it must not reach a path ("../x")
    }
    Path file = file(function);
    if (!Files.exists(file)) {
      return new Chunk("", 0);
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long length = raf.length();
      long from = offset > length || offset < 0 ? 0 : offset; // the file rotated since the last read
      int n = (int) Math.min(maxBytes, length - from);
      byte[] bytes = new byte[n];
      raf.seek(from);
      raf.readFully(bytes);
      // Never hand out half a line (or half a UTF-8 sequence): stop after the last newline.
      int end = n;
      while (end > 0 && bytes[end - 1] != '\n') {
        end--;
      }
      if (end == 0 && n == maxBytes) {
        end = n; // a single line longer than maxBytes: give it out in pieces
      }
      return new Chunk(new String(bytes, 0, end, StandardCharsets.UTF_8), from + end);
    }
  }

  @Override
  public void flush() {
    try {
      writer.submit(() -> { }).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("log flush did not complete: {}", e.toString());
    }
  }

  @Override
  public void close() {
    writer.shutdown();
    try {
      writer.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Path file(String function) {
    return dir.resolve(function + ".log");
  }
}
