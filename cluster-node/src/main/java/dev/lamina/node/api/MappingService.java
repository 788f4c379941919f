package dev.lamina.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.mapping.MappingConfig;
import dev.lamina.actors.mapping.MappingRegistry;
import dev.lamina.actors.mapping.Pollers;
import dev.lamina.actors.registry.RegistryClient;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Create/Get/Update/Delete/ListEventSourceMapping(s) (contract §1.6) over Lamina queues: the
 * mapping is stored in the {@link MappingRegistry} and the node's {@link Pollers} follow every
 * change.
 */
public final class MappingService {

  private static final String SOURCE_PATTERN_TEXT =
      "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)";
  private static final Pattern SOURCE = Pattern.compile(SOURCE_PATTERN_TEXT);
  private static final String NOT_FOUND = "The resource you requested does not exist.";
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final NodeSettings settings;
  private final RegistryClient registry;
  private final ClusterSharding sharding;
  private final ActorRef<Pollers.Command> pollers;
  private final QueueLookup queues;
  private final Clock clock;

  public MappingService(NodeSettings settings, RegistryClient registry, ClusterSharding sharding,
      ActorRef<Pollers.Command> pollers, Clock clock) {
    this.settings = settings;
    this.registry = registry;
    this.sharding = sharding;
    this.pollers = pollers;
    this.queues = new QueueLookup(settings, sharding);
    this.clock = clock;
  }

  public CompletionStage<ObjectNode> create(JsonNode body) {
    String source = FunctionRequests.text(body, "EventSourceArn");
    if (source == null || source.isEmpty()) {
      throw LambdaError.invalid("Unrecognized event source.");
    }
    if (!SOURCE.matcher(source).matches()) {
      throw validation(source, "eventSourceArn", "Member must satisfy regular expression pattern: "
          + SOURCE_PATTERN_TEXT);
    }
    String rawFunction = FunctionRequests.text(body, "FunctionName");
    if (rawFunction == null || rawFunction.isEmpty()) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value null at "
          + "'functionName' failed to satisfy constraint: Member must not be null");
    }
    FunctionName fn = FunctionName.parse(rawFunction);
    if (!source.split(":", -1)[2].equals("sqs")) {
      throw LambdaError.invalid("Unrecognized event source.");
    }
    if (body.hasNonNull("StartingPosition")) {
      throw LambdaError.invalid("StartingPosition is not valid for SQS event sources.");
    }
    rejectDestinations(body);
    boolean enabled = !body.hasNonNull("Enabled") || body.get("Enabled").asBoolean();
    int batchSize = range(body, "BatchSize", "batchSize", 1, 10000, 10);
    int window = range(body, "MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, 300, 0);
    checkBatching(batchSize, window);
    MappingConfig config = new MappingConfig(UUID.randomUUID().toString(), source, fn.name(), fn.qualifier(),
        settings.functionArnPrefix() + fn.name() + (fn.qualifier() == null ? "" : ":" + fn.qualifier()),
        batchSize, window, enabled, scaling(body, null), responseTypes(body, false),
        body.hasNonNull("BisectBatchOnFunctionError") && body.get("BisectBatchOnFunctionError").asBoolean(),
        now());
    return checkTargets(fn, source)
        .thenCompose(v -> ask(reply -> new MappingRegistry.Put(config, true, reply)))
        .thenApply(reply -> conflictOrMissing(reply, config))
        .thenCompose(stored -> sync().thenApply(v -> render(stored, enabled ? "Creating" : "Disabled")));
  }

  public CompletionStage<ObjectNode> get(String uuid) {
    return find(uuid).thenApply(c -> render(c, c.enabled() ? "Enabled" : "Disabled"));
  }

  public CompletionStage<ObjectNode> update(String uuid, JsonNode body) {
    rejectDestinations(body);
    return find(uuid).thenCompose(current -> {
      FunctionName fn = body.hasNonNull("FunctionName") ? FunctionName.parse(body.get("FunctionName").asText())
          : new FunctionName(current.functionName(), current.qualifier());
      boolean enabled = body.hasNonNull("Enabled") ? body.get("Enabled").asBoolean() : current.enabled();
      int batchSize = range(body, "BatchSize", "batchSize", 1, 10000, current.batchSize());
      int window = range(body, "MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", 0, 300,
          current.maximumBatchingWindowSeconds());
      checkBatching(batchSize, window);
      MappingConfig changed = new MappingConfig(uuid, current.eventSourceArn(), fn.name(), fn.qualifier(),
          body.hasNonNull("FunctionName")
              ? settings.functionArnPrefix() + fn.name() + (fn.qualifier() == null ? "" : ":" + fn.qualifier())
              : current.functionArn(),
          batchSize, window, enabled, scaling(body, current.maximumConcurrency()),
          body.has("FunctionResponseTypes") ? responseTypes(body, false) : current.reportBatchItemFailures(),
          body.hasNonNull("BisectBatchOnFunctionError") ? body.get("BisectBatchOnFunctionError").asBoolean()
              : current.bisectBatchOnFunctionError(),
          now());
      String state = enabled == current.enabled() ? "Updating" : enabled ? "Enabling" : "Disabling";
      CompletionStage<Void> check = body.hasNonNull("FunctionName") ? checkTargets(fn, current.eventSourceArn())
          : CompletableFuture.completedFuture(null);
      return check.thenCompose(v -> ask(reply -> new MappingRegistry.Put(changed, false, reply)))
          .thenApply(reply -> conflictOrMissing(reply, changed))
          .thenCompose(stored -> sync().thenApply(v -> render(stored, state)));
    });
  }

  public CompletionStage<ObjectNode> delete(String uuid) {
    return ask(reply -> new MappingRegistry.Remove(uuid, reply)).thenCompose(reply -> {
      if (reply.missing()) {
        throw LambdaError.notFound(NOT_FOUND);
      }
      return sync().thenApply(v -> render(reply.mappings().get(0), "Deleting"));
    });
  }

  /** ListEventSourceMappings, filtered by source and function (name or ARN), {@code MaxItems} ≤ 100. */
  public CompletionStage<ObjectNode> list(String source, String function, String marker, Integer maxItems) {
    int limit = Markers.pageLimit(maxItems, 10000, 100);
    String functionName = function == null || function.isEmpty() ? null : FunctionName.parse(function).name();
    String after = marker == null || marker.isEmpty() ? null : Markers.decode(marker);
    return all().thenApply(mappings -> {
      List<MappingConfig> matching = mappings.stream()
          .filter(m -> source == null || source.isEmpty() || m.eventSourceArn().equals(source))
          .filter(m -> functionName == null || m.functionName().equals(functionName))
          .filter(m -> after == null || m.uuid().compareTo(after) > 0)
          .toList();
      ObjectNode root = FunctionJson.MAPPER.createObjectNode();
      ArrayNode items = root.putArray("EventSourceMappings");
      matching.stream().limit(limit).forEach(m -> items.add(render(m, m.enabled() ? "Enabled" : "Disabled")));
      if (matching.size() > limit) {
        root.put("NextMarker", Markers.encode(matching.get(limit - 1).uuid()));
      }
      return root;
    });
  }

  /** Tells the pollers that the mappings changed (they load them again). */
  private CompletionStage<Void> sync() {
    pollers.tell(new Pollers.Refresh());
    return CompletableFuture.completedFuture(null);
  }

  private CompletionStage<List<MappingConfig>> all() {
    return ask(MappingRegistry.GetAll::new).thenApply(MappingRegistry.Reply::mappings);
  }

  private CompletionStage<MappingConfig> find(String uuid) {
    return all().thenApply(mappings -> mappings.stream().filter(m -> m.uuid().equals(uuid)).findFirst()
        .orElseThrow(() -> LambdaError.notFound(NOT_FOUND)));
  }

  private CompletionStage<MappingRegistry.Reply> ask(
      Function<ActorRef<MappingRegistry.Reply>, MappingRegistry.Command> command) {
    EntityRef<MappingRegistry.Command> ref = sharding.entityRefFor(MappingRegistry.TYPE_KEY, MappingRegistry.ALL);
    return ref.ask(command::apply, TIMEOUT);
  }

  private MappingConfig conflictOrMissing(MappingRegistry.Reply reply, MappingConfig config) {
    if (reply.missing()) {
      throw LambdaError.notFound(NOT_FOUND);
    }
    if (reply.conflict() != null) {
      throw LambdaError.conflict("An event source mapping with SQS arn (\" " + config.eventSourceArn()
          + " \") and function (\" " + config.functionName() + " \") already exists. Please update or delete the "
          + "existing mapping with UUID " + reply.conflict());
    }
    return reply.mappings().get(0);
  }

  /** The function first (400, not 404, when missing), then the queue and its visibility timeout. */
  private CompletionStage<Void> checkTargets(FunctionName fn, String source) {
    return registry.resolve(fn.name(), fn.qualifier()).handle((resolved, failure) -> {
      if (failure != null) {
        throw LambdaError.invalid("Function does not exist");
      }
      return resolved.main();
    }).thenCompose(function -> {
      return queues.find(source).thenAccept(reply -> {
        if (reply == null) {
          throw LambdaError.invalid("Error occurred while ReceiveMessage. SQS Error Code: "
              + "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist or "
              + "you do not have access to it.");
        }
        int visibility = reply.attributes().visibilityTimeoutSeconds();
        if (visibility < function.timeoutSeconds()) {
          throw LambdaError.invalid("Queue visibility timeout: " + visibility + " seconds is less than Function "
              + "timeout: " + function.timeoutSeconds() + " seconds");
        }
      });
    });
  }


  private ObjectNode render(MappingConfig c, String state) {
    ObjectNode n = FunctionJson.MAPPER.createObjectNode();
    n.put("UUID", c.uuid());
    n.put("BatchSize", c.batchSize());
    n.put("MaximumBatchingWindowInSeconds", c.maximumBatchingWindowSeconds());
    n.put("EventSourceArn", c.eventSourceArn());
    n.put("EventSourceMappingArn", settings.mappingArnPrefix() + c.uuid());
    n.put("FunctionArn", c.functionArn());
    n.put("LastModified", BigDecimal.valueOf(Math.round(c.lastModified() * 1000)).movePointLeft(3));
    n.put("State", state);
    n.put("StateTransitionReason", "USER_INITIATED");
    ArrayNode types = n.putArray("FunctionResponseTypes");
    if (c.reportBatchItemFailures()) {
      types.add("ReportBatchItemFailures");
    }
    if (c.maximumConcurrency() != null) {
      n.putObject("ScalingConfig").put("MaximumConcurrency", c.maximumConcurrency());
    }
    if (c.bisectBatchOnFunctionError()) {
      n.put("BisectBatchOnFunctionError", true);
    }
    return n;
  }

  private double now() {
    return clock.millis() / 1000.0;
  }

  private static void checkBatching(int batchSize, int window) {
    if (batchSize > 10 && window == 0) {
      throw LambdaError.invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is "
          + "greater than 10");
    }
  }

  private static void rejectDestinations(JsonNode body) {
    JsonNode d = body.get("DestinationConfig");
    if (d != null && d.isObject() && (d.hasNonNull("OnFailure") || d.hasNonNull("OnSuccess"))
        && !(isEmptyDestination(d.get("OnFailure")) && isEmptyDestination(d.get("OnSuccess")))) {
      throw LambdaError.invalid("Unsupported DestinationConfig parameter for given event source mapping type.");
    }
  }

  private static boolean isEmptyDestination(JsonNode n) {
    return n == null || n.isNull() || !n.hasNonNull("Destination") || n.get("Destination").asText().isEmpty();
  }

  private static Integer scaling(JsonNode body, Integer current) {
    JsonNode s = body.get("ScalingConfig");
    if (s == null || s.isNull()) {
      return current;
    }
    if (!s.hasNonNull("MaximumConcurrency")) {
      return null;
    }
    int n = s.get("MaximumConcurrency").asInt();
    if (n < 2 || n > 1000) {
      throw validation(Integer.toString(n), "scalingConfig.maximumConcurrency", "Member must have value "
          + (n < 2 ? "greater than or equal to 2" : "less than or equal to 1000"));
    }
    return n;
  }

  private static boolean responseTypes(JsonNode body, boolean current) {
    JsonNode t = body.get("FunctionResponseTypes");
    if (t == null || t.isNull()) {
      return current;
    }
    if (!t.isArray() || t.size() > 1) {
      throw validation(t.toString(), "functionResponseTypes", "Member must have length less than or equal to 1");
    }
    for (JsonNode v : t) {
      if (!v.asText().equals("ReportBatchItemFailures")) {
        throw validation("[" + v.asText() + "]", "functionResponseTypes",
            "Member must satisfy enum value set: [ReportBatchItemFailures]");
      }
    }
    return t.size() == 1;
  }

  private static int range(JsonNode body, String member, String path, int min, int max, int dflt) {
    JsonNode v = body.get(member);
    if (v == null || v.isNull()) {
      return dflt;
    }
    int n = v.asInt();
    if (n < min || n > max) {
      throw validation(Integer.toString(n), path, "Member must have value "
          + (n < min ? "greater than or equal to " + min : "less than or equal to " + max));
    }
    return n;
  }

  private static LambdaError validation(String value, String path, String constraint) {
    return new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + value
        + "' at '" + path + "' failed to satisfy constraint: " + constraint);
  }
}
