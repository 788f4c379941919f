package dev.lamina.node.isolation;

import static dev.lamina.node.isolation.Hostile.attempt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import dev.lamina.node.testing.NodeConfig;
import dev.lamina.node.testing.NodePerClass;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * The control of {@link SandboxIsolationTest}: on a node with {@code lamina.sandbox.isolation = none}
 * the same attacker does read the node's data directory, another function's code and
 * /etc/shadow, and may ptrace: the isolation tests would catch a missing layer. Only harmless
 * attempts run here, as they run as the node's own user on the host.
 */
@ExtendWith(NodePerClass.class)
@NodeConfig("lamina.sandbox.isolation = none")
@Timeout(120)
class NoIsolationTest {

  static TestNode node;
  static LambdaClient lambda;

  @Test
  void withoutIsolationTheSameAttackerReadsTheDataDirectoryAnotherFunctionsCodeAndShadow() throws Exception {
    String codeSecret = "code-secret-" + UUID.randomUUID();
    Hostile.create(lambda, "victim", 128, 512, 10, codeSecret, "victim-" + UUID.randomUUID());
    Hostile.create(lambda, "attacker", 128, 512, 20, "attacker", "attacker-" + UUID.randomUUID());
    attempt(lambda, "victim", Map.of("do", "whoami"));
    Path victimCode = Hostile.codeDir(node, lambda, "victim");
    String shadowLine = Files.readAllLines(Path.of("/etc/shadow")).get(0);

    JsonNode read = attempt(lambda, "attacker", Map.of("do", "read", "paths", List.of(
        node.dataDir().toString(), victimCode.resolve("secret.txt").toString(), "/etc/shadow")));
    JsonNode ptrace = attempt(lambda, "attacker", Map.of("do", "ptrace"));
    JsonNode me = attempt(lambda, "attacker", Map.of("do", "whoami"));

    JsonNode results = read.get("results");
    assertTrue(results.get(node.dataDir().toString()).get("list").toString().contains("code"), read.toString());
    assertEquals(codeSecret, results.get(victimCode.resolve("secret.txt").toString()).get("content").asText());
    assertTrue(results.get("/etc/shadow").get("content").asText().contains(shadowLine), "runs as the node's user");
    assertEquals("ok", ptrace.get("ptrace(PTRACE_ATTACH, child)").asText(), ptrace.toString());
    assertEquals(0, me.get("uid").asInt(), "the node's own user: root here");
    assertTrue(me.get("processes").size() > 10, "it sees the host's processes");
    assertEquals("none", Hostile.health(node).get("isolation").get("mode").asText());
  }
}
