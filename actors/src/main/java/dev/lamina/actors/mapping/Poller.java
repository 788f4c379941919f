package dev.lamina.actors.mapping;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.actors.events.EventDispatch;
import dev.lamina.actors.events.EventDispatch.Attempt;
import dev.lamina.actors.metrics.Metrics;
import dev.lamina.actors.queue.QueueActor;
import dev.lamina.actors.queue.QueueMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.util.ByteString;

/**
 * The poller of one event source mapping: {@code concurrency} loops, each receiving a batch from the
 * queue (long poll), invoking the function synchronously with the SQS event shape (contract §5.2)
 * and deleting what succeeded. A failed message is left alone: it becomes visible again after the
 * queue's visibility timeout, and the queue's redrive policy ends its retries in a DLQ.
 *
 * <p>With {@code ReportBatchItemFailures}, the function's {@code batchItemFailures} name the messages
 * to keep; with {@code BisectBatchOnFunctionError}, a failed batch is split in halves and each half
 * invoked again, so that the good messages of a batch get through.
 */
public final class Poller {

  public sealed interface Command {}

  /**
   * Stops polling: long polls are withdrawn, messages received from now on are released at once
   * (visible again), batches already running finish (and delete what succeeded), then it stops.
   */
  public record Stop() implements Command {}

  private record GiveUp() implements Command {}

  private record Received(int slot, List<QueueMessage> messages, String error) implements Command {}

  private record Filled(int slot, List<QueueMessage> first, List<QueueMessage> more) implements Command {}

  private record Fill(int slot, List<QueueMessage> first) implements Command {}

  private record Done(int slot, Outcome outcome) implements Command {}

  private record Poll(int slot) implements Command {}

  /** What a batch came to: the messages that may be deleted, and whether the slot should back off. */
  record Outcome(List<QueueMessage> succeeded, String result, boolean backOff) {}

  private static final JsonFactory JSON = new JsonFactory();
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Duration RECEIVE_WAIT = Duration.ofSeconds(20);

  private final MappingConfig config;
  private final String queue;
  private final String region;
  private final EventDispatch dispatch;
  private final Metrics metrics;
  private final Clock clock;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ClusterSharding sharding;
  private final java.util.Map<Integer, List<QueueMessage>> filling = new java.util.HashMap<>();
  private final java.util.Set<Integer> waitingOnTimer = new java.util.HashSet<>();
  private boolean stopping;
  private int liveSlots;

  private Poller(MappingConfig config, String queue, String region, EventDispatch dispatch, Metrics metrics,
      Clock clock, ActorContext<Command> ctx, TimerScheduler<Command> timers) {
    this.config = config;
    this.queue = queue;
    this.region = region;
    this.dispatch = dispatch;
    this.metrics = metrics;
    this.clock = clock;
    this.ctx = ctx;
    ctx.setLoggerName(Poller.class);   // else a Pekko class names the logger (filtered to WARN)
    this.timers = timers;
    this.sharding = ClusterSharding.get(ctx.getSystem());
  }

  /** {@code queue}: the queue name of {@code config.eventSourceArn()}. */
  public static Behavior<Command> create(MappingConfig config, String queue, String region, int concurrency,
      EventDispatch dispatch, Metrics metrics, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      Poller poller = new Poller(config, queue, region, dispatch, metrics, clock, ctx, timers);
      poller.liveSlots = concurrency;
      for (int slot = 0; slot < concurrency; slot++) {
        poller.receive(slot);
      }
      return poller.behavior();
    }));
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(Stop.class, stop -> onStop())
        .onMessage(GiveUp.class, g -> Behaviors.stopped())
        .onMessage(Poll.class, p -> {
          waitingOnTimer.remove(p.slot());
          receive(p.slot());
          return slotsLeft();
        })
        .onMessage(Received.class, this::onReceived)
        .onMessage(Fill.class, f -> {
          waitingOnTimer.remove(f.slot());
          filling.remove(f.slot());
          if (stopping) {
            release(f.first());
            liveSlots--;
            return slotsLeft();
          }
          int more = config.batchSize() - f.first().size();
          ctx.pipeToSelf(receiveFrom(more, 0), (reply, failure) -> new Filled(f.slot(), f.first(),
              reply == null || reply.errorCode() != null ? List.of() : reply.messages()));
          return Behaviors.same();
        })
        .onMessage(Filled.class, f -> {
          List<QueueMessage> batch = new ArrayList<>(f.first());
          batch.addAll(f.more());
          if (stopping) {
            release(batch);
            liveSlots--;
            return slotsLeft();
          }
          process(f.slot(), batch);
          return Behaviors.same();
        })
        .onMessage(Done.class, this::onDone)
        .build();
  }

  private Behavior<Command> onStop() {
    if (stopping) {
      return Behaviors.same();
    }
    stopping = true;
    sharding.entityRefFor(QueueActor.TYPE_KEY, queue).tell(new QueueActor.CancelWaits(ctx.getSelf()));
    for (int slot : List.copyOf(waitingOnTimer)) {
      timers.cancel("poll-" + slot);
      timers.cancel("fill-" + slot);
      List<QueueMessage> gathered = filling.remove(slot);
      if (gathered != null) {
        release(gathered);
      }
      liveSlots--;
    }
    waitingOnTimer.clear();
    timers.startSingleTimer("give-up", new GiveUp(), RECEIVE_WAIT.plusSeconds(15));
    return slotsLeft();
  }

  private Behavior<Command> slotsLeft() {
    return stopping && liveSlots <= 0 ? Behaviors.stopped() : Behaviors.same();
  }

  /** Makes messages this poller will not process visible again at once. */
  private void release(List<QueueMessage> messages) {
    if (messages.isEmpty()) {
      return;
    }
    List<QueueActor.Entry> entries = messages.stream()
        .map(m -> new QueueActor.Entry(m.messageId(), m.receiptHandle(), 0)).toList();
    sharding.entityRefFor(QueueActor.TYPE_KEY, queue).tell(new QueueActor.ChangeVisibility(entries,
        ctx.getSystem().ignoreRef()));
  }

  private void receive(int slot) {
    if (stopping) {
      liveSlots--;
      return;
    }
    int max = config.batchSize();
    ctx.pipeToSelf(receiveFrom(max, RECEIVE_WAIT.toMillis()), (reply, failure) -> failure != null
        ? new Received(slot, List.of(), failure.toString())
        : new Received(slot, reply.messages(), reply.errorCode() == null ? null : reply.errorMessage()));
  }

  private CompletionStage<QueueActor.Reply> receiveFrom(int max, long waitMillis) {
    return sharding.entityRefFor(QueueActor.TYPE_KEY, queue).ask(
        replyTo -> new QueueActor.Receive(max, null, waitMillis, ctx.getSelf(), replyTo),
        Duration.ofMillis(waitMillis + 10_000));
  }

  private Behavior<Command> onReceived(Received r) {
    if (stopping) {
      release(r.messages());
      liveSlots--;
      return slotsLeft();
    }
    if (r.error() != null) {
      ctx.getLog().warn("event source mapping {}: receiving from {} failed: {}", config.uuid(), queue, r.error());
      waitingOnTimer.add(r.slot());
      timers.startSingleTimer("poll-" + r.slot(), new Poll(r.slot()), Duration.ofSeconds(5));
    } else if (r.messages().isEmpty()) {
      receive(r.slot());
    } else if (config.maximumBatchingWindowSeconds() > 0 && r.messages().size() < config.batchSize()) {
      // Gather more for the batching window, then invoke with what is there.
      waitingOnTimer.add(r.slot());
      filling.put(r.slot(), r.messages());
      timers.startSingleTimer("fill-" + r.slot(), new Fill(r.slot(), r.messages()),
          Duration.ofSeconds(config.maximumBatchingWindowSeconds()));
    } else {
      process(r.slot(), r.messages());
    }
    return Behaviors.same();
  }

  private void process(int slot, List<QueueMessage> batch) {
    ctx.pipeToSelf(run(batch).thenCompose(outcome -> delete(outcome.succeeded()).thenApply(v -> outcome)),
        (outcome, failure) -> new Done(slot, failure == null ? outcome
            : new Outcome(List.of(), "system_error", true)));
  }

  private Behavior<Command> onDone(Done d) {
    metrics.mappingBatches(config.uuid(), d.outcome().result()).increment();
    if (stopping) {
      liveSlots--;
    } else if (d.outcome().backOff()) {
      waitingOnTimer.add(d.slot());
      timers.startSingleTimer("poll-" + d.slot(), new Poll(d.slot()), Duration.ofSeconds(1));
    } else {
      receive(d.slot());
    }
    return slotsLeft();
  }

  /** Invokes the function with {@code batch}; bisects on a function error when configured. */
  private CompletionStage<Outcome> run(List<QueueMessage> batch) {
    ByteString event = event(batch);
    return dispatch.run(config.functionName(), config.qualifier(), UUID.randomUUID().toString(), event,
        clock.millis()).thenCompose(attempt -> {
          switch (attempt.kind()) {
            case SUCCESS -> {
              return CompletableFuture.completedFuture(config.reportBatchItemFailures()
                  ? partial(batch, attempt) : new Outcome(batch, "success", false));
            }
            case FUNCTION_ERROR -> {
              if (config.bisectBatchOnFunctionError() && batch.size() > 1) {
                List<QueueMessage> left = batch.subList(0, batch.size() / 2);
                List<QueueMessage> right = batch.subList(batch.size() / 2, batch.size());
                return run(left).thenCompose(a -> run(right).thenApply(b -> {
                  List<QueueMessage> ok = new ArrayList<>(a.succeeded());
                  ok.addAll(b.succeeded());
                  return new Outcome(ok, "bisected", false);
                }));
              }
              return CompletableFuture.completedFuture(new Outcome(List.of(), "function_error", false));
            }
            default -> {
              return CompletableFuture.completedFuture(new Outcome(List.of(),
                  attempt.kind().name().toLowerCase(java.util.Locale.ROOT), true));
            }
          }
        });
  }

  /**
   * A partial batch response: empty or null {@code batchItemFailures} is complete success; anything
   * malformed, or naming a message not in the batch, fails the whole batch.
   */
  static Outcome partial(List<QueueMessage> batch, Attempt attempt) {
    ByteString response = attempt.response();
    if (response == null || response.isEmpty()) {
      return new Outcome(batch, "success", false);
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(response.toArrayUnsafe());
    } catch (IOException e) {
      return new Outcome(List.of(), "partial_failure", false);
    }
    if (root == null || root.isNull() || (root.isObject() && root.isEmpty())) {
      return new Outcome(batch, "success", false);
    }
    JsonNode failures = root.isObject() ? root.get("batchItemFailures") : null;
    if (failures == null || failures.isNull() || (failures.isArray() && failures.isEmpty())) {
      return root.isObject() ? new Outcome(batch, "success", false) : new Outcome(List.of(), "partial_failure", false);
    }
    if (!failures.isArray()) {
      return new Outcome(List.of(), "partial_failure", false);
    }
    Set<String> ids = new HashSet<>();
    batch.forEach(m -> ids.add(m.messageId()));
    Set<String> failed = new HashSet<>();
    for (JsonNode f : failures) {
      JsonNode id = f.get("itemIdentifier");
      if (id == null || !id.isTextual() || id.asText().isEmpty() || !ids.contains(id.asText())) {
        return new Outcome(List.of(), "partial_failure", false);
      }
      failed.add(id.asText());
    }
    return new Outcome(batch.stream().filter(m -> !failed.contains(m.messageId())).toList(), "partial_success",
        false);
  }

  private CompletionStage<Void> delete(List<QueueMessage> messages) {
    if (messages.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    List<QueueActor.Entry> entries = messages.stream()
        .map(m -> new QueueActor.Entry(m.messageId(), m.receiptHandle(), 0)).toList();
    return sharding.entityRefFor(QueueActor.TYPE_KEY, queue)
        .<QueueActor.Reply>ask(replyTo -> new QueueActor.DeleteMessages(entries, replyTo), Duration.ofSeconds(10))
        .thenApply(reply -> null);
  }

  /** The SQS event (contract §5.2) for {@code batch}. */
  ByteString event(List<QueueMessage> batch) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512 * batch.size());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart("Records");
      for (QueueMessage m : batch) {
        g.writeStartObject();
        g.writeStringField("messageId", m.messageId());
        g.writeStringField("receiptHandle", m.receiptHandle());
        g.writeStringField("body", m.body());
        g.writeObjectFieldStart("attributes");
        g.writeStringField("ApproximateReceiveCount", Integer.toString(m.receiveCount()));
        g.writeStringField("SentTimestamp", Long.toString(m.sentAt()));
        g.writeStringField("SenderId", config.eventSourceArn().split(":")[4]);
        g.writeStringField("ApproximateFirstReceiveTimestamp", Long.toString(m.firstReceivedAt()));
        g.writeEndObject();
        g.writeObjectFieldStart("messageAttributes");
        for (QueueMessage.Attribute a : m.attributes()) {
          g.writeObjectFieldStart(a.name());
          g.writeStringField(a.binary() ? "binaryValue" : "stringValue", a.value());
          g.writeArrayFieldStart("stringListValues");
          g.writeEndArray();
          g.writeArrayFieldStart("binaryListValues");
          g.writeEndArray();
          g.writeStringField("dataType", a.dataType());
          g.writeEndObject();
        }
        g.writeEndObject();
        g.writeStringField("md5OfBody", m.md5OfBody());
        if (m.md5OfAttributes() != null) {
          g.writeStringField("md5OfMessageAttributes", m.md5OfAttributes());
        }
        g.writeStringField("eventSource", "aws:sqs");
        g.writeStringField("eventSourceARN", config.eventSourceArn());
        g.writeStringField("awsRegion", region);
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ByteString.fromArrayUnsafe(out.toByteArray());
  }
}
