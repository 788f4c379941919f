package dev.lamina.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Where a node's keys come from, per profile: {@code lamina.auth} as an operator writes it. */
class NodeKeysTest {

  private final Path dir;

  NodeKeysTest() throws Exception {
    dir = Files.createTempDirectory("lamina-nodekeys-");
  }

  @AfterEach
  void removeDir() {
    TestNode.deleteTree(dir);
  }

  private AuthSettings settings(String hocon) {
    return AuthSettings.from(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()), dir);
  }

  @Test
  void configuredKeysWinOnEitherProfileAndWriteNoFile() throws Exception {
    AuthSettings s = settings("lamina.auth.credentials = [{access-key-id = a1, secret-access-key = s1},"
        + " {access-key-id = a2, secret-access-key = s2}]");

    NodeKeys keys = NodeKeys.resolve(s, "cluster");

    assertEquals(List.of(new AccessKey("a1", "s1"), new AccessKey("a2", "s2")), keys.keys());
    assertNull(keys.file());
    assertFalse(Files.exists(dir.resolve("credentials")));
  }

  @Test
  void anEmbeddedNodeGeneratesIntoTheFileOnceAndReadsItAfterwards() throws Exception {
    NodeKeys first = NodeKeys.resolve(settings(""), "embedded");
    NodeKeys second = NodeKeys.resolve(settings(""), "embedded");

    assertTrue(first.generated());
    assertEquals(dir.resolve("credentials"), first.file());
    assertTrue(first.clientKey().accessKeyId().matches("LKIA[A-Z2-7]{16}"), first.clientKey().accessKeyId());
    assertEquals(40, first.clientKey().secretAccessKey().length());
    assertFalse(second.generated());
    assertEquals(first.keys(), second.keys());
  }

  @Test
  void aClusterNodeReadsASharedFileButNeverInventsAKey() throws Exception {
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> NodeKeys.resolve(settings(""), "cluster"));
    Path shared = dir.resolve("shared");
    Files.writeString(shared, "[other]\naws_access_key_id = B\naws_secret_access_key = b\n"
        + "[default]\naws_access_key_id = A\naws_secret_access_key = a\n");

    NodeKeys keys = NodeKeys.resolve(settings("lamina.auth.credentials-file = \"" + shared + "\""), "cluster");

    assertTrue(none.getMessage().startsWith("lamina.auth: a cluster node needs the access keys all nodes share"),
        none.getMessage());
    assertFalse(Files.exists(dir.resolve("credentials")));
    assertEquals(List.of(new AccessKey("A", "a"), new AccessKey("B", "b")), keys.keys(), "[default] first");
  }

  @Test
  void aCredentialsFileWithoutAKeyStopsTheStart() throws Exception {
    Files.writeString(dir.resolve("credentials"), "[default]\naws_access_key_id = A\n");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NodeKeys.resolve(settings(""), "embedded"));

    assertTrue(e.getMessage().contains("holds no access key"), e.getMessage());
  }
}
