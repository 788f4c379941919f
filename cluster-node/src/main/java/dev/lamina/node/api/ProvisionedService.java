package dev.lamina.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.account.AccountActor;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.registry.FunctionRegistry;
import dev.lamina.actors.registry.ProvisionedConfig;
import dev.lamina.actors.registry.RegistryClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Provisioned concurrency (§1.4 of the contract): the configs live in the function's registry
 * entity; each published version's {@link FunctionActor} is told how many sandboxes to keep
 * initialised, and reports how many are. An alias's share is split between its versions by their
 * routing weights.
 */
public final class ProvisionedService {

  /** A config with its progress, as the Get/List operations show it. */
  public record Status(String qualifier, int requested, int allocated, String status, String reason,
      String lastModified) {}

  private static final Duration ASK = Duration.ofSeconds(10);

  private final RegistryClient registry;
  private final ClusterSharding sharding;
  private final String accountId;
  /** Per function, the versions last told to provision (so that dropped ones are told 0). */
  private final Map<String, Map<String, FunctionConfig>> told = new ConcurrentHashMap<>();

  ProvisionedService(RegistryClient registry, ClusterSharding sharding, String accountId) {
    this.registry = registry;
    this.sharding = sharding;
    this.accountId = accountId;
  }

  public CompletionStage<Status> put(String rawName, String qualifierParam, JsonNode body) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = required(fn, qualifierParam);
    int requested = FunctionRequests.requiredInt(body, "ProvisionedConcurrentExecutions",
        "provisionedConcurrentExecutions", 1);
    // Provisioned sandboxes hold concurrency: all of the function's must fit what it may use.
    return registry.ask(fn.name(), FunctionRegistry.GetProvisioned::new)
        .thenCompose(current -> {
          current.orThrow();
          int others = current.provisioned().stream().filter(p -> !p.qualifier().equals(qualifier))
              .mapToInt(ProvisionedConfig::requested).sum();
          return sharding.entityRefFor(AccountActor.TYPE_KEY, accountId).<AccountActor.Reply>ask(
              r -> new AccountActor.CheckProvisioned(fn.name(), others + requested, r), ASK);
        })
        .thenCompose(check -> {
          check.orThrow();
          return registry.ask(fn.name(), r -> new FunctionRegistry.PutProvisioned(qualifier, requested, r));
        })
        .thenApply(reply -> {
          apply(fn.name(), reply.orThrow());
          ProvisionedConfig config = reply.provisioned().stream().filter(p -> p.qualifier().equals(qualifier))
              .findFirst().orElseThrow();
          return new Status(qualifier, requested, 0, "IN_PROGRESS", null, config.lastModified());
        });
  }

  public CompletionStage<Status> get(String rawName, String qualifierParam) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = required(fn, qualifierParam);
    return list(fn.name()).thenApply(all -> all.stream().filter(s -> s.qualifier().equals(qualifier)).findFirst()
        .orElseThrow(() -> new LambdaError(LambdaError.Code.ProvisionedConcurrencyConfigNotFoundException,
            "No Provisioned Concurrency Config found for this function")));
  }

  public CompletionStage<Void> delete(String rawName, String qualifierParam) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = required(fn, qualifierParam);
    return registry.ask(fn.name(), r -> new FunctionRegistry.DeleteProvisioned(qualifier, r)).thenApply(reply -> {
      apply(fn.name(), reply.orThrow());
      return null;
    });
  }

  /** One page of ListProvisionedConcurrencyConfigs. */
  public record Page(String function, List<Status> configs, String nextMarker) {}

  /** ListProvisionedConcurrencyConfigs: by qualifier, {@code maxItems} 1–50. */
  public CompletionStage<Page> listPage(String rawName, String marker, Integer maxItems) {
    String function = FunctionName.parse(rawName).name();
    int limit = Markers.pageLimit(maxItems, 50, 50);
    String after = marker == null || marker.isEmpty() ? null : Markers.decode(marker);
    return list(function).thenApply(all -> {
      List<Status> rest = after == null ? all : all.stream().filter(s -> s.qualifier().compareTo(after) > 0).toList();
      List<Status> page = rest.subList(0, Math.min(limit, rest.size()));
      String next = rest.size() > limit ? Markers.encode(page.get(page.size() - 1).qualifier()) : null;
      return new Page(function, List.copyOf(page), next);
    });
  }

  /** Every config of the function with its progress, by qualifier. */
  public CompletionStage<List<Status>> list(String functionName) {
    return registry.ask(functionName, FunctionRegistry.GetProvisioned::new).thenCompose(reply -> {
      reply.orThrow();
      Map<String, CompletableFuture<FunctionActor.ProvisionedStatus>> byVersion = new HashMap<>();
      for (FunctionRegistry.Target t : reply.targets()) {
        byVersion.computeIfAbsent(t.version().version(), v -> sharding.entityRefFor(FunctionActor.TYPE_KEY,
            FunctionActor.entityId(functionName, v))
            .<FunctionActor.ProvisionedStatus>ask(FunctionActor.GetProvisioned::new, ASK).toCompletableFuture());
      }
      return CompletableFuture.allOf(byVersion.values().toArray(CompletableFuture[]::new)).thenApply(done -> {
        List<Status> out = new ArrayList<>();
        for (ProvisionedConfig p : reply.provisioned()) {
          int allocated = 0;
          String failure = null;
          for (FunctionRegistry.Target t : reply.targets()) {
            if (!t.qualifier().equals(p.qualifier())) {
              continue;
            }
            FunctionActor.ProvisionedStatus s = byVersion.get(t.version().version()).getNow(null);   // all done
            // A version shared by several configs is ready for each in proportion.
            allocated += s.target() == 0 ? 0 : Math.min(t.target(), s.ready() * t.target() / s.target());
            failure = failure != null ? failure : s.failure();
          }
          String status = failure != null ? "FAILED" : allocated >= p.requested() ? "READY" : "IN_PROGRESS";
          out.add(new Status(p.qualifier(), p.requested(), allocated, status, failure, p.lastModified()));
        }
        return out;
      });
    });
  }

  /** The function was deleted: its versions' actors have stopped provisioning already. */
  void forget(String function) {
    told.remove(function);
  }

  /** Tells every version of {@code function} what to keep provisioned now (after a node start too). */
  public CompletionStage<Void> reapply(String function) {
    return registry.ask(function, FunctionRegistry.GetProvisioned::new).thenApply(reply -> {
      if (reply.errorCode() == null) {
        apply(function, reply);
      }
      return null;
    });
  }

  private void apply(String function, FunctionRegistry.Reply plan) {
    Map<String, Integer> targets = new HashMap<>();
    Map<String, FunctionConfig> configs = new HashMap<>();
    for (FunctionRegistry.Target t : plan.targets()) {
      targets.merge(t.version().version(), t.target(), Integer::sum);
      configs.put(t.version().version(), t.version());
    }
    Map<String, FunctionConfig> before = told.getOrDefault(function, Map.of());
    before.forEach((version, config) -> {
      if (!targets.containsKey(version)) {
        tell(function, config, 0);
      }
    });
    targets.forEach((version, target) -> tell(function, configs.get(version), target));
    if (configs.isEmpty()) {
      told.remove(function);
    } else {
      told.put(function, Map.copyOf(configs));
    }
  }

  private void tell(String function, FunctionConfig version, int target) {
    sharding.entityRefFor(FunctionActor.TYPE_KEY, FunctionActor.entityId(function, version.version()))
        .tell(new FunctionActor.Provision(version, target));
  }

  /** The Qualifier these operations require: a published version or an alias. */
  private static String required(FunctionName fn, String parameter) {
    String qualifier = fn.qualifierWith(parameter);
    if (qualifier == null) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value null at "
          + "'qualifier' failed to satisfy constraint: Member must not be null");
    }
    if (qualifier.equals(FunctionConfig.LATEST)) {
      throw LambdaError.invalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
    }
    return qualifier;
  }
}
