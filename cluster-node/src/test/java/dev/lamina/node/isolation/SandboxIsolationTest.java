package dev.lamina.node.isolation;

import static dev.lamina.node.isolation.Hostile.attempt;
import static dev.lamina.node.isolation.Hostile.portOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.node.testing.TestNode;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import dev.lamina.node.testing.NodeConfig;
import dev.lamina.node.testing.NodePerClass;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Issue 7: a hostile function on a node with {@code lamina.sandbox.isolation = strict} tries, and
 * fails, to reach what is not its own: another function's code and /tmp, the node's data directory,
 * /etc/shadow, another sandbox's Runtime API, the management port, and the system calls a function
 * never needs. Each test first shows that the target exists and that its owner reaches it, so that
 * each assertion fails when the layer that should stop the attacker is missing
 * ({@link NoIsolationTest} runs the same attacker without isolation).
 */
@ExtendWith(NodePerClass.class)
@NodeConfig("lamina.sandbox.isolation = strict")
@Timeout(120)
class SandboxIsolationTest {

  static TestNode node;
  static LambdaClient lambda;

  @Test
  void healthShowsStrictModeWithEveryLayerOn() throws Exception {
    JsonNode isolation = Hostile.health(node).get("isolation");

    assertEquals("strict", isolation.get("mode").asText(), isolation.toString());
    assertEquals("bubblewrap", isolation.get("sandboxLauncher").asText(), isolation.toString());
    for (String layer : List.of("namespaces", "uid-pool", "cgroups", "seccomp", "runtime-api-firewall")) {
      assertTrue(isolation.get("layers").get(layer).asText().startsWith("on: "), layer + ": " + isolation);
    }
    assertEquals(0, isolation.get("missing").size(), isolation.toString());
  }

  @Test
  void functionRunsAsAnUnprivilegedPoolUidSeesOnlyItsOwnProcessesAndCannotWriteDevShm() {
    Hostile.create(lambda, "whoami", 128, 512, 10, "whoami", "whoami-" + UUID.randomUUID());

    JsonNode me = attempt(lambda, "whoami", Map.of("do", "whoami"));
    JsonNode shm = attempt(lambda, "whoami", Map.of("do", "write", "paths", List.of("/dev/shm/x")));

    int uid = me.get("uid").asInt();
    assertTrue(uid >= 2_000_000_000L && uid < 2_000_001_000L, "a uid of the pool (lamina.sandbox.confinement): " + me);
    assertEquals(uid, me.get("euid").asInt());
    assertNotEquals(0, me.get("gid").asInt(), me.toString());
    JsonNode processes = me.get("processes");
    assertTrue(processes.size() <= 3, "its pid namespace holds the runtime and bubblewrap's init only: " + processes);
    for (JsonNode p : processes) {
      assertFalse(p.get("cmdline").asText().contains("java"), "the node is not visible: " + processes);
    }
    assertFalse(shm.get("/dev/shm/x").get("ok").asBoolean(), "/dev/shm is read-only: " + shm);
  }

  @Test
  void hostileFunctionCannotReadAnotherFunctionsCodeOrTmpNorTheDataDirectoryNorShadow() throws Exception {
    // Given a victim with a secret in its code and another in the /tmp of its live sandbox
    String codeSecret = "code-secret-" + UUID.randomUUID();
    String tmpSecret = "tmp-secret-" + UUID.randomUUID();
    Hostile.create(lambda, "files-victim", 128, 512, 10, codeSecret, "files-victim-" + UUID.randomUUID());
    Hostile.create(lambda, "files-attacker", 128, 512, 20, "attacker's own", "files-attacker-" + UUID.randomUUID());
    JsonNode victim = attempt(lambda, "files-victim", Map.of("do", "plant", "secret", tmpSecret));
    assertEquals(codeSecret, victim.get("codeSecret").asText(), "the victim reads its own code");
    assertEquals(tmpSecret, victim.get("tmpSecret").asText(), "the victim reads its own /tmp");
    Path victimCode = Hostile.codeDir(node, lambda, "files-victim");
    assertEquals(codeSecret, Files.readString(victimCode.resolve("secret.txt")),
        "the host keeps the victim's code here, the path the attacker is given");
    List<String> hostShadow = Files.readAllLines(Path.of("/etc/shadow")).stream().filter(l -> !l.isBlank()).toList();
    assertFalse(hostShadow.isEmpty(), "the host has an /etc/shadow to protect");

    // When the attacker tries every path it could know or guess
    List<String> paths = new ArrayList<>(List.of(
        node.dataDir().toString(),
        node.dataDir().resolve("code").toString(),
        victimCode.toString(),
        victimCode.resolve("secret.txt").toString(),
        node.dataDir().resolve("sandboxes").toString(),
        "/etc/shadow", "/tmp", "/tmp/secret.txt", "/var/task/secret.txt",
        "/proc/1/root/tmp/secret.txt", "/proc/1/root/var/task/secret.txt"));
    try (Stream<Path> sandboxes = Files.list(node.dataDir().resolve("sandboxes"))) {
      sandboxes.forEach(dir -> {
        paths.add(dir.toString());
        paths.add(dir.resolve("tmp/secret.txt").toString());
      });
    }
    JsonNode attack = attempt(lambda, "files-attacker", Map.of("do", "read", "paths", paths, "scan", true));

    // Then it obtains neither secret nor any line of the host's shadow file
    String seen = attack.toString();
    assertFalse(seen.contains(codeSecret), "the victim's code leaked: " + seen);
    assertFalse(seen.contains(tmpSecret), "the victim's /tmp leaked: " + seen);
    for (String line : hostShadow) {
      assertFalse(seen.contains(line), "/etc/shadow leaked: " + seen);
    }
    JsonNode results = attack.get("results");
    for (String hostPath : List.of(node.dataDir().toString(), victimCode.resolve("secret.txt").toString())) {
      assertEquals("ENOENT", results.get(hostPath).get("error").asText(), "the data directory is not there: " + seen);
    }
    assertFalse(results.get("/etc/shadow").get("ok").asBoolean(), "/etc/shadow is masked: " + results.get("/etc/shadow"));
    assertEquals("attacker's own", results.get("/var/task/secret.txt").get("content").asText(),
        "/var/task is the attacker's own code");
    // And the victim's sandbox lived through it, its /tmp intact
    JsonNode after = attempt(lambda, "files-victim", Map.of("do", "show"));
    assertEquals(victim.get("sandbox").asText(), after.get("sandbox").asText());
    assertEquals(tmpSecret, after.get("tmpSecret").asText());
  }

  @Test
  void hostileFunctionCannotConnectToAnotherSandboxesRuntimeApiNorTheManagementPort() throws Exception {
    // Given a live victim whose Runtime API listens, and the node's own ports
    Hostile.create(lambda, "net-victim", 128, 512, 10, "net-victim", "net-victim-" + UUID.randomUUID());
    Hostile.create(lambda, "net-attacker", 128, 512, 30, "net-attacker", "net-attacker-" + UUID.randomUUID());
    JsonNode victim = attempt(lambda, "net-victim", Map.of("do", "whoami"));
    JsonNode attacker = attempt(lambda, "net-attacker", Map.of("do", "whoami"));
    String victimApi = victim.get("runtimeApi").asText();
    String ownApi = attacker.get("runtimeApi").asText();
    int managementPort = portOf(node.endpoint());
    int clusterPort = portOf(node.node().clusterAddress());
    assertNotEquals(victimApi, ownApi, "each sandbox has its own Runtime API endpoint");
    assertTrue(Hostile.listeningOnLoopback(portOf(victimApi)), "the victim's Runtime API listens on " + victimApi);
    assertTrue(Hostile.listeningOnLoopback(managementPort), "the management API listens on " + managementPort);

    // When the attacker connects to them, and asks the victim's Runtime API for its next event
    List<String> targets = List.of(victimApi, "127.0.0.1:" + managementPort, "127.0.0.1:" + clusterPort);
    JsonNode refused = attempt(lambda, "net-attacker", Map.of("do", "connect", "targets", targets, "http", true));
    JsonNode own = attempt(lambda, "net-attacker", Map.of("do", "connect", "targets", List.of(ownApi)));

    // Then every connection is refused; only its own Runtime API answers
    for (String target : targets) {
      assertEquals("ECONNREFUSED", refused.get(target).get("connect").asText(), target + ": " + refused);
    }
    assertEquals("ok", own.get(ownApi).get("connect").asText(), "its own Runtime API is reachable: " + own);
    // And neither the host's other users nor the node's own user reach a sandbox's Runtime API,
    // though they do reach the management API
    assertEquals("ECONNREFUSED", Hostile.connectAsNobody(portOf(victimApi)));
    assertEquals("ok", Hostile.connectAsNobody(managementPort));
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", portOf(victimApi)), 3000);
      throw new AssertionError("the test's own user (root) connected to the victim's Runtime API");
    } catch (ConnectException expected) {
      // refused by the firewall
    }
    // And the victim still gets its own invocations, in the same sandbox
    assertEquals(victim.get("sandbox").asText(),
        attempt(lambda, "net-victim", Map.of("do", "whoami")).get("sandbox").asText());
  }

  @Test
  void mountPtraceAndTheOtherDeniedSystemCallsFailWithEperm() {
    Hostile.create(lambda, "syscalls", 128, 512, 20, "syscalls", "syscalls-" + UUID.randomUUID());

    JsonNode calls = attempt(lambda, "syscalls", Map.of("do", "syscalls"));

    // ptrace of an own child, keyctl and io_uring are allowed to any unprivileged process (and
    // unshare fails otherwise with ENOSPC under bubblewrap's --disable-userns): EPERM here is the
    // seccomp filter's answer. mount, umount and chroot would fail for want of privilege anyway.
    for (String call : List.of("mount", "umount2", "chroot", "unshare(CLONE_NEWUSER)", "keyctl", "io_uring_setup",
        "ptrace(PTRACE_ATTACH, child)")) {
      assertEquals("EPERM", calls.get(call).asText(), call + ": " + calls);
    }
  }

  // ---- Gaps found by these tests: each pins the behaviour we want; the disabled ones are open.

  @Test
  void functionCannotWriteOutsideTmp() {
    Hostile.create(lambda, "rootfs", 256, 512, 20, "rootfs", "rootfs-" + UUID.randomUUID());

    JsonNode writes = attempt(lambda, "rootfs", Map.of("do", "write", "mb", 32,
        "paths", List.of("/tmp/ok", "/fill", "/var/fill", "/var/task/fill", "/opt/fill", "/etc/fill")));

    assertTrue(writes.get("/tmp/ok").get("ok").asBoolean(), "/tmp is writable: " + writes);
    for (String path : List.of("/fill", "/var/fill", "/var/task/fill", "/opt/fill", "/etc/fill")) {
      assertFalse(writes.get(path).get("ok").asBoolean(), "only /tmp is writable (and size-capped), not "
          + path + ": " + writes);
    }
  }

  @Test
  @Disabled("gap: sandboxes share the host's network namespace, and with it the abstract Unix socket "
      + "namespace; no nftables rule sees those. Fix: Landlock LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (ABI 6), or a netns")
  void sandboxesDoNotShareAbstractUnixSockets() {
    String name = "lamina-victim-" + UUID.randomUUID();
    String secret = "abstract-secret-" + UUID.randomUUID();
    Hostile.create(lambda, "unix-victim", 128, 512, 10, "unix-victim", "unix-victim-" + UUID.randomUUID());
    Hostile.create(lambda, "unix-attacker", 128, 512, 10, "unix-attacker", "unix-attacker-" + UUID.randomUUID());
    attempt(lambda, "unix-victim", Map.of("do", "listen_abstract", "name", name, "secret", secret, "seconds", 30));
    JsonNode self = attempt(lambda, "unix-victim", Map.of("do", "connect_abstract", "name", name));
    assertEquals(secret, self.get("received").asText(), "the victim's socket serves its own sandbox");

    JsonNode attack = attempt(lambda, "unix-attacker", Map.of("do", "connect_abstract", "name", name));

    assertNotEquals("ok", attack.get("connect").asText(), "another sandbox reached the victim's socket: " + attack);
  }

  @Test
  void functionCannotAcceptConnectionsFromOutsideItsSandbox() throws Exception {
    int port = dev.lamina.node.testing.NodeProcess.freePort();
    Hostile.create(lambda, "listener", 128, 512, 10, "listener", "listener-" + UUID.randomUUID());
    JsonNode listening = attempt(lambda, "listener", Map.of("do", "listen_tcp", "ports", List.of(port),
        "secret", "served", "seconds", 30));

    boolean refused;
    if (!"listening".equals(listening.get(Integer.toString(port)).asText())) {
      refused = true;  // it could not even listen
    } else {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 3000);
        refused = false;
      } catch (ConnectException | java.net.SocketTimeoutException e) {
        refused = true;  // refused, or the handshake never completes (the sandbox's answer is dropped)
      }
    }

    assertTrue(refused, "a host process connected to a port a function listens on (DESIGN §3: no network ingress)");
  }

  @Test
  @Disabled("gap: a pool uid may bind any free port, including the Runtime API ports of free slots (see "
      + "aTakenRuntimeApiPortDoesNotStopTheNextSandbox for what follows). Fix: e.g. Landlock "
      + "LANDLOCK_ACCESS_NET_BIND_TCP (ABI 4)")
  void functionCannotBindTheRuntimeApiPortOfAnotherSlot() {
    Hostile.create(lambda, "squatter", 128, 512, 10, "squatter", "squatter-" + UUID.randomUUID());
    int own = portOf(attempt(lambda, "squatter", Map.of("do", "whoami")).get("runtimeApi").asText());
    // Ports of slots that are free now (or held by another sandbox, then refused anyway).
    List<Integer> others = new ArrayList<>();
    for (int p = own + 1; p <= own + 3; p++) {
      others.add(p);
    }

    JsonNode squat = attempt(lambda, "squatter", Map.of("do", "listen_tcp", "ports", others, "seconds", 0));

    for (int p : others) {
      assertNotEquals("listening", squat.get(Integer.toString(p)).asText(),
          "a function took Runtime API port " + p + " that a later sandbox's slot needs: " + squat);
    }
  }

  @Test
  void aTakenRuntimeApiPortDoesNotStopTheNextSandbox() throws Exception {
    Hostile.create(lambda, "holder", 128, 512, 10, "holder", "holder-" + UUID.randomUUID());
    Hostile.create(lambda, "newcomer", 128, 512, 10, "newcomer", "newcomer-" + UUID.randomUUID());
    int next = portOf(attempt(lambda, "holder", Map.of("do", "whoami")).get("runtimeApi").asText()) + 1;

    // Any process on the host may hold the port of the next free slot; here the test does.
    JsonNode newcomer;
    try (java.net.ServerSocket taken = new java.net.ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", next));
      newcomer = attempt(lambda, "newcomer", Map.of("do", "whoami"));
    }

    assertNotEquals("127.0.0.1:" + next, newcomer.get("runtimeApi").asText(), "it got another slot");
  }
}
