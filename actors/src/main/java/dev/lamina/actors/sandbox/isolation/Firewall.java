package dev.lamina.actors.sandbox.isolation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * nftables rules that make each sandbox's Runtime API reachable by that sandbox alone. Sandboxes
 * share the host's network (so outbound connections work as on Lambda without a VPC) but run as
 * their slot's uid; the rules, one static table for the whole pool:
 *
 * <ul>
 *   <li>a connection from a pool uid to any address of this host is refused, except to its own
 *       slot's Runtime API port (and DNS): no other sandbox's Runtime API, no management API, no
 *       node-internal port, no other local service;
 *   <li>a connection from anyone else (other users, root, the node) to a Runtime API port is refused;
 *   <li>with outbound networking off, a pool uid may open no other connection at all.
 * </ul>
 *
 * Only the first packet of a connection is checked (established traffic is accepted first), so the
 * warm path pays nothing. Nodes on one host apply the same table; applying is atomic.
 */
public final class Firewall {

  public static final String TABLE = "lamina_sandboxes";

  private Firewall() {}

  /** The nft binary, or null. */
  public static String nft() {
    for (String candidate : List.of("/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    return null;
  }

  /** The rule set for the pool (nft -f syntax, replacing any previous version of the table). */
  public static String rules(IsolationSettings s) {
    int lastSlot = s.slots() - 1;
    StringBuilder own = new StringBuilder();
    for (int slot = 0; slot < s.slots(); slot++) {
      if (slot > 0) {
        own.append(", ");
      }
      own.append(s.uidOf(slot)).append(" . ").append(s.portOf(slot));
    }
    String uids = s.uidOf(0) + "-" + s.uidOf(lastSlot);
    String ports = s.portOf(0) + "-" + s.portOf(lastSlot);
    return "table inet " + TABLE + "\n"
        + "delete table inet " + TABLE + "\n"
        + "table inet " + TABLE + " {\n"
        + "  set own_runtime_api {\n"
        + "    type uid . inet_service\n"
        + "    elements = { " + own + " }\n"
        + "  }\n"
        + "  chain output {\n"
        + "    type filter hook output priority 0; policy accept;\n"
        + "    ct state established,related accept\n"
        + "    meta skuid " + uids + " jump sandbox\n"
        + "    fib daddr type local tcp dport " + ports + " reject with tcp reset\n"
        + "  }\n"
        + "  chain sandbox {\n"
        + "    fib daddr type local meta skuid . tcp dport @own_runtime_api accept\n"
        + "    fib daddr type local meta l4proto { tcp, udp } th dport 53 accept\n"
        + "    fib daddr type local meta l4proto tcp reject with tcp reset\n"
        + "    fib daddr type local reject\n"
        + (s.outboundNetwork() ? "" : "    meta l4proto tcp reject with tcp reset\n    reject\n")
        + "  }\n"
        + "}\n";
  }

  /** Applies the rules; throws with nft's message when it refuses. Blocking. */
  public static void apply(String nft, IsolationSettings s) throws IOException {
    Process p = new ProcessBuilder(nft, "-f", "-").redirectErrorStream(true).start();
    try (var in = p.getOutputStream()) {
      in.write(rules(s).getBytes(StandardCharsets.UTF_8));
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("nft did not finish in 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted applying nftables rules");
    }
    if (p.exitValue() != 0) {
      throw new IOException("nft refused the rules: " + output);
    }
  }
}
