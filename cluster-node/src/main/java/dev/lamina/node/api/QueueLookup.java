package dev.lamina.node.api;

import dev.lamina.actors.queue.QueueActor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/** The Lambda API's view of Lamina queues named by ARN: does one exist, with which attributes. */
final class QueueLookup {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final NodeSettings settings;
  private final ClusterSharding sharding;

  QueueLookup(NodeSettings settings, ClusterSharding sharding) {
    this.settings = settings;
    this.sharding = sharding;
  }

  /** The queue's info, or null when {@code arn} names no Lamina queue of this node that exists. */
  CompletionStage<QueueActor.Reply> find(String arn) {
    String prefix = settings.queueArnPrefix();
    String name = arn != null && arn.startsWith(prefix) ? arn.substring(prefix.length()) : "";
    if (name.isEmpty() || name.contains("/") || name.contains(":")) {
      return CompletableFuture.completedFuture(null);
    }
    return sharding.entityRefFor(QueueActor.TYPE_KEY, name)
        .<QueueActor.Reply>ask(QueueActor.GetInfo::new, TIMEOUT)
        .thenApply(reply -> reply.errorCode() == null ? reply : null);
  }
}
