package dev.lamina.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.registry.EventInvokeConfig;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.registry.FunctionRegistry;
import dev.lamina.actors.registry.RegistryClient;
import java.math.BigDecimal;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s) (contract §1.5): how {@code Event}
 * invocations of a qualifier are retried and where their records go. Destinations are Lamina
 * functions and Lamina queues, checked to exist when the config is stored.
 */
public final class EventConfigService {

  /** The destination ARN pattern Lambda validates (printed in its message). */
  private static final String DESTINATION_PATTERN_TEXT =
      "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)";
  private static final Pattern DESTINATION = Pattern.compile(DESTINATION_PATTERN_TEXT);
  private static final String NO_FUNCTION = "The function doesn't exist.";

  private final NodeSettings settings;
  private final RegistryClient registry;
  private final QueueLookup queues;
  private final Clock clock;

  public EventConfigService(NodeSettings settings, RegistryClient registry, ClusterSharding sharding, Clock clock) {
    this.settings = settings;
    this.registry = registry;
    this.queues = new QueueLookup(settings, sharding);
    this.clock = clock;
  }

  /** Put (replace) or, with {@code update}, merge; the stored config as Lambda shows it. */
  public CompletionStage<ObjectNode> put(String rawName, String qualifierParam, JsonNode body, boolean update) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = qualifierOf(fn, qualifierParam);
    Integer retries = range(body, "MaximumRetryAttempts", "maximumRetryAttempts", 0, 2);
    Integer age = range(body, "MaximumEventAgeInSeconds", "maximumEventAgeInSeconds", 60, 21600);
    JsonNode destinations = body.get("DestinationConfig");
    String onSuccess = destination(destinations, "OnSuccess");
    String onFailure = destination(destinations, "OnFailure");
    if (retries == null && age == null && (destinations == null || destinations.isNull())) {
      throw LambdaError.invalid("You must specify at least one of error handling or destination setting.");
    }
    List<String> targets = new ArrayList<>();
    for (String arn : new String[] {onSuccess, onFailure}) {
      if (arn == null || arn.isEmpty()) {
        continue;
      }
      if (arn.startsWith(settings.functionArnPrefix())) {
        String rest = arn.substring(settings.functionArnPrefix().length());
        if (rest.split(":", -1)[0].equals(fn.name())) {
          throw LambdaError.invalid("You can't specify the function as a destination for itself.");
        }
      }
      String service = arn.split(":", -1)[2];
      if (!List.of("lambda", "sqs", "sns", "events", "s3").contains(service)) {
        throw LambdaError.invalid("The provided destination config DestinationConfig(onSuccess="
            + (onSuccess == null ? "null" : "OnSuccess(destination=" + onSuccess + ")") + ", onFailure="
            + (onFailure == null ? "null" : "OnFailure(destination=" + onFailure + ")") + ") is invalid.");
      }
      targets.add(arn);
    }
    EventInvokeConfig config = new EventInvokeConfig(qualifier, retries, age, emptyToNull(onSuccess),
        emptyToNull(onFailure), clock.millis() / 1000.0);
    return CompletableFuture.allOf(targets.stream().map(t -> checkDestination(t).toCompletableFuture())
            .toArray(CompletableFuture[]::new))
        .thenCompose(v -> registry.ask(fn.name(), reply -> new FunctionRegistry.PutEventConfig(config, update, reply)))
        .thenApply(reply -> render(fn.name(), noFunction(reply).eventConfigs().get(0)));
  }

  public CompletionStage<ObjectNode> get(String rawName, String qualifierParam) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = qualifierOf(fn, qualifierParam);
    return registry.ask(fn.name(), reply -> new FunctionRegistry.GetEventConfig(qualifier, reply))
        .thenApply(reply -> render(fn.name(), missingConfig(reply, fn.name(), qualifier).eventConfigs().get(0)));
  }

  public CompletionStage<Void> delete(String rawName, String qualifierParam) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = qualifierOf(fn, qualifierParam);
    return registry.ask(fn.name(), reply -> new FunctionRegistry.DeleteEventConfig(qualifier, reply))
        .thenApply(reply -> {
          missingConfig(reply, fn.name(), qualifier);
          return null;
        });
  }

  /** ListFunctionEventInvokeConfigs: by qualifier, {@code MaxItems} 1–50. */
  public CompletionStage<ObjectNode> list(String rawName, String marker, Integer maxItems) {
    FunctionName fn = FunctionName.parse(rawName);
    int limit = Markers.pageLimit(maxItems, 50, 50);
    String after = marker == null || marker.isEmpty() ? null : Markers.decode(marker);
    return registry.ask(fn.name(), FunctionRegistry.ListEventConfigs::new).thenApply(reply -> {
      List<EventInvokeConfig> all = noFunction(reply).eventConfigs().stream()
          .filter(c -> after == null || c.qualifier().compareTo(after) > 0).toList();
      ObjectNode root = FunctionJson.MAPPER.createObjectNode();
      ArrayNode items = root.putArray("FunctionEventInvokeConfigs");
      all.stream().limit(limit).forEach(c -> items.add(render(fn.name(), c)));
      if (all.size() > limit) {
        root.put("NextMarker", Markers.encode(all.get(limit - 1).qualifier()));
      }
      return root;
    });
  }

  private ObjectNode render(String function, EventInvokeConfig c) {
    ObjectNode n = FunctionJson.MAPPER.createObjectNode();
    n.put("LastModified", BigDecimal.valueOf(Math.round(c.lastModified() * 1000)).movePointLeft(3));
    n.put("FunctionArn", settings.functionArnPrefix() + function + ":" + c.qualifier());
    if (c.maximumRetryAttempts() != null) {
      n.put("MaximumRetryAttempts", c.maximumRetryAttempts());
    }
    if (c.maximumEventAgeInSeconds() != null) {
      n.put("MaximumEventAgeInSeconds", c.maximumEventAgeInSeconds());
    }
    ObjectNode destinations = n.putObject("DestinationConfig");
    ObjectNode success = destinations.putObject("OnSuccess");
    ObjectNode failure = destinations.putObject("OnFailure");
    if (c.onSuccess() != null) {
      success.put("Destination", c.onSuccess());
    }
    if (c.onFailure() != null) {
      failure.put("Destination", c.onFailure());
    }
    return n;
  }

  /** A destination must exist now: a Lamina function (any qualifier it names) or a Lamina queue. */
  private CompletionStage<Void> checkDestination(String arn) {
    LambdaError invalid = LambdaError.invalid("The destination ARN " + arn + " is invalid.");
    if (arn.startsWith(settings.functionArnPrefix())) {
      FunctionName target;
      try {
        target = FunctionName.parse(arn);
      } catch (LambdaError e) {
        return CompletableFuture.failedFuture(invalid);
      }
      return registry.resolve(target.name(), target.qualifier()).handle((resolved, failure) -> {
        if (failure != null) {
          throw invalid;
        }
        return null;
      });
    }
    if (arn.startsWith(settings.queueArnPrefix())) {
      return queues.find(arn).thenApply(queue -> {
        if (queue == null) {
          throw invalid;
        }
        return null;
      });
    }
    return CompletableFuture.failedFuture(invalid);  // SNS, EventBridge, S3, other accounts: none here
  }

  private static String qualifierOf(FunctionName fn, String parameter) {
    String qualifier = fn.qualifierWith(parameter);
    return qualifier == null ? FunctionConfig.LATEST : qualifier;
  }

  private static FunctionRegistry.Reply noFunction(FunctionRegistry.Reply reply) {
    if (reply.errorCode() != null && reply.errorMessage().startsWith("Function not found")) {
      throw LambdaError.notFound(NO_FUNCTION);
    }
    return reply.orThrow();
  }

  private FunctionRegistry.Reply missingConfig(FunctionRegistry.Reply reply, String function, String qualifier) {
    if (reply.errorCode() != null) {
      throw LambdaError.notFound("The function " + settings.functionArnPrefix() + function + ":" + qualifier
          + " doesn't have an EventInvokeConfig");
    }
    return reply;
  }

  private static Integer range(JsonNode body, String member, String path, int min, int max) {
    JsonNode v = body.get(member);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber()) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Could not parse request body into json: Could not parse payload into json: " + member
              + " must be an integer");
    }
    int n = v.asInt();
    if (n < min || n > max) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + n
          + "' at '" + path + "' failed to satisfy constraint: Member must have value "
          + (n < min ? "greater than or equal to " + min : "less than or equal to " + max));
    }
    return n;
  }

  /** The {@code Destination} of {@code DestinationConfig.<which>}, validated against Lambda's pattern. */
  private static String destination(JsonNode destinations, String which) {
    if (destinations == null || destinations.isNull()) {
      return null;
    }
    JsonNode node = destinations.get(which);
    if (node == null || node.isNull() || node.get("Destination") == null || node.get("Destination").isNull()) {
      return null;
    }
    String arn = node.get("Destination").asText();
    String path = "destinationConfig." + Character.toLowerCase(which.charAt(0)) + which.substring(1) + ".destination";
    if (arn.length() > 350) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + arn
          + "' at '" + path + "' failed to satisfy constraint: Member must have length less than or equal to 350");
    }
    if (!DESTINATION.matcher(arn).matches()) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + arn
          + "' at '" + path + "' failed to satisfy constraint: Member must satisfy regular expression pattern: "
          + DESTINATION_PATTERN_TEXT);
    }
    return arn;
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
