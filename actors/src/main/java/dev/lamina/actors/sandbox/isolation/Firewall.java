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
 *   <li>no ingress: a pool uid sends nothing on a connection that someone else opened to it;
 *   <li>with outbound networking off, a pool uid may open no other connection at all;
 *   <li>local TCP ports an operator lists ({@code reachable-local-ports}, e.g. a database on the
 *       host) stay reachable.
 * </ul>
 *
 * Only the first packet of a connection is checked (established traffic is accepted first), so the
 * warm path pays nothing. Applying is atomic.
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

  /**
   * The rule set for the pool, in one nft transaction. It adds rather than replaces the table, so
   * that nodes sharing a host keep one table: the Runtime API pairs and the reachable local ports
   * are a union of every node's; the chains are rewritten (the last node started sets whether
   * outbound connections are allowed).
   */
  public static String rules(IsolationSettings s) {
    int lastSlot = s.slots() - 1;
    StringBuilder own = new StringBuilder();
    for (int slot = 0; slot < s.slots(); slot++) {
      if (slot > 0) {
        own.append(", ");
      }
      own.append(s.uidOf(slot)).append(" . ").append(s.portOf(slot));
    }
    String t = "inet " + TABLE;
    StringBuilder r = new StringBuilder();
    r.append("add table ").append(t).append('\n');
    // Sets, so that nodes of one host with different pools all stay confined: elements add up.
    r.append("add set ").append(t).append(" pool_uids { type uid; flags interval; auto-merge; }\n");
    r.append("add element ").append(t).append(" pool_uids { ").append(s.uidOf(0)).append('-')
        .append(s.uidOf(lastSlot)).append(" }\n");
    r.append("add set ").append(t).append(" runtime_ports { type inet_service; flags interval; auto-merge; }\n");
    r.append("add element ").append(t).append(" runtime_ports { ").append(s.portOf(0)).append('-')
        .append(s.portOf(lastSlot)).append(" }\n");
    r.append("add set ").append(t).append(" own_runtime_api { type uid . inet_service; }\n");
    r.append("add element ").append(t).append(" own_runtime_api { ").append(own).append(" }\n");
    r.append("add set ").append(t).append(" reachable_local_ports { type inet_service; }\n");
    if (!s.reachableLocalPorts().isEmpty()) {
      r.append("add element ").append(t).append(" reachable_local_ports { ")
          .append(String.join(", ", s.reachableLocalPorts().stream().map(String::valueOf).toList())).append(" }\n");
    }
    r.append("add chain ").append(t).append(" output { type filter hook output priority 0; policy accept; }\n");
    r.append("add chain ").append(t).append(" sandbox\n");
    r.append("flush chain ").append(t).append(" output\n");
    r.append("flush chain ").append(t).append(" sandbox\n");
    String out = "add rule " + t + " output ";
    String sbx = "add rule " + t + " sandbox ";
    // No ingress: a sandbox's packets in the reply direction of a connection are those of a
    // connection someone else opened to it.
    r.append(out).append("meta skuid @pool_uids ct direction reply drop\n");
    r.append(out).append("ct state established,related accept\n");
    r.append(out).append("meta skuid @pool_uids jump sandbox\n");
    r.append(out).append("fib daddr type local tcp dport @runtime_ports reject with tcp reset\n");
    r.append(sbx).append("fib daddr type local meta skuid . tcp dport @own_runtime_api accept\n");
    r.append(sbx).append("fib daddr type local meta l4proto { tcp, udp } th dport 53 accept\n");
    r.append(sbx).append("fib daddr type local tcp dport @reachable_local_ports accept\n");
    r.append(sbx).append("fib daddr type local meta l4proto tcp reject with tcp reset\n");
    // This host's own addresses, and what its services hear on broadcast and multicast (mDNS, SSDP).
    r.append(sbx).append("fib daddr type { local, broadcast, multicast } reject\n");
    if (!s.outboundNetwork()) {
      r.append(sbx).append("meta l4proto tcp reject with tcp reset\n");
      r.append(sbx).append("reject\n");
    }
    return r.toString();
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
