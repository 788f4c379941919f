package dev.lamina.persistence.logs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lamina.persistence.logs.local.FileLogStore;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A follower reading from its last offset sees every line once, in order, even across rotation. */
class FileLogStoreTest {

  @TempDir Path tmp;

  @Test
  void followerSeesEachLineOnceInOrder() throws Exception {
    try (FileLogStore logs = new FileLogStore(tmp, 1 << 20)) {
      logs.append("fn", "START a\nEND a\n");
      logs.flush();
      LogStore.Chunk first = logs.read("fn", 0, 1024);
      logs.append("fn", "START b\n");
      logs.flush();
      LogStore.Chunk second = logs.read("fn", first.nextOffset(), 1024);

      assertEquals("START a\nEND a\n", first.text());
      assertEquals("START b\n", second.text());
      assertEquals("", logs.read("fn", second.nextOffset(), 1024).text());
      assertEquals("", logs.read("other", 0, 1024).text());
    }
  }

  @Test
  void readsStopAtALineBoundary() throws Exception {
    try (FileLogStore logs = new FileLogStore(tmp, 1 << 20)) {
      logs.append("fn", "0123456789\nabcdefghij\n");
      logs.flush();
      LogStore.Chunk part = logs.read("fn", 0, 15);
      assertEquals("0123456789\n", part.text());
      assertEquals("abcdefghij\n", logs.read("fn", part.nextOffset(), 100).text());
    }
  }

  @Test
  void rotationStartsANewFileAndOldOffsetsRestartAtZero() throws Exception {
    try (FileLogStore logs = new FileLogStore(tmp, 30)) {
      logs.append("fn", "first block of twenty\n");
      logs.flush();
      long offset = logs.read("fn", 0, 1024).nextOffset();
      logs.append("fn", "second block\n");
      logs.flush();
      assertEquals("second block\n", logs.read("fn", offset, 1024).text());
    }
  }

  @Test
  void aNameThatIsNotAFunctionNameReadsNothingEvenWhereAFileWouldMatch() throws Exception {
    java.nio.file.Files.writeString(tmp.resolve("secret.log"), "not a function's log\n");
    try (FileLogStore logs = new FileLogStore(tmp.resolve("logs"), 1 << 20)) {
      for (String name : new String[] {"../secret", "..", "a/../../secret", "fn\u0000", ""}) {
        assertEquals("", logs.read(name, 0, 1024).text(), name);
      }
      assertEquals("", logs.read("fn", -5, 1024).text(), "a negative offset reads from the start");
    }
  }
}
