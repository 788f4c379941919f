package dev.lamina.node;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lamina.node.api.FunctionJson;
import dev.lamina.actors.sandbox.isolation.Isolation;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * What {@code /health} and {@code /ready} report: the profile, this node's cluster membership and
 * the members it sees (unreachable ones marked), whether storage answers, and the sandbox
 * isolation in force. Ready means: this node is an Up member, its storage answers, and it is not
 * shutting down — a load balancer sends it traffic only then.
 */
public final class NodeHealth {

  private static final Duration STORAGE_CHECK = Duration.ofSeconds(2);

  private final ActorSystem<?> system;
  private final String profile;
  private final NodeStorage storage;
  private final String launcher;
  private final Isolation isolation;

  NodeHealth(ActorSystem<?> system, String profile, NodeStorage storage, String launcher, Isolation isolation) {
    this.system = system;
    this.profile = profile;
    this.storage = storage;
    this.launcher = launcher;
    this.isolation = isolation;
  }

  /** The report and whether this node is ready. */
  public record Report(boolean ready, ObjectNode body) {}

  public CompletionStage<Report> check() {
    return storage.reachable().toCompletableFuture()
        .completeOnTimeout(false, STORAGE_CHECK.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(failure -> false)
        .thenApply(this::report);
  }

  private Report report(boolean storageUp) {
    Cluster cluster = Cluster.get(system);
    MemberStatus self = cluster.selfMember().status();
    boolean leaving = CoordinatedShutdown.get(system).getShutdownReason().isPresent();
    boolean ready = self == MemberStatus.up() && storageUp && !leaving;

    ObjectNode root = FunctionJson.MAPPER.createObjectNode();
    root.put("status", ready ? "UP" : "NOT_READY");
    root.put("profile", profile);
    ObjectNode clusterNode = root.putObject("cluster");
    clusterNode.put("self", cluster.selfMember().address().toString());
    clusterNode.put("selfStatus", statusName(self));
    clusterNode.put("leaving", leaving);
    ClusterEvent.CurrentClusterState state = cluster.state();
    ArrayNode members = clusterNode.putArray("members");
    for (Member member : state.getMembers()) {
      ObjectNode m = members.addObject();
      m.put("address", member.address().toString());
      m.put("status", statusName(member.status()));
      m.put("reachable", !state.getUnreachable().contains(member));
      ArrayNode roles = m.putArray("roles");
      member.getRoles().stream().filter(r -> !r.startsWith("dc-")).sorted().forEach(roles::add);
    }
    ObjectNode storageNode = root.putObject("storage");
    storage.describe().forEach(storageNode::put);
    storageNode.put("reachable", storageUp);
    ObjectNode isolationNode = root.putObject("isolation");
    isolationNode.put("mode", isolation.settings().mode().label());
    isolationNode.put("sandboxLauncher", launcher);
    ObjectNode layers = isolationNode.putObject("layers");
    isolation.layers().forEach(layers::put);
    ArrayNode missing = isolationNode.putArray("missing");
    isolation.missing().forEach(missing::add);
    root.put("sandboxLauncher", launcher);
    return new Report(ready, root);
  }

  private static String statusName(MemberStatus status) {
    return status.toString().toUpperCase(java.util.Locale.ROOT);
  }
}
