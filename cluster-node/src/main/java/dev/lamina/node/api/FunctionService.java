package dev.lamina.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.account.AccountActor;
import dev.lamina.actors.metrics.Metrics;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.registry.AliasConfig;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.registry.FunctionRegistry;
import dev.lamina.actors.registry.LayerRef;
import dev.lamina.actors.registry.RegistryClient;
import dev.lamina.persistence.code.CodeDigest;
import dev.lamina.persistence.code.CodeStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The management operations of §1.1–§1.2 of the contract (functions, versions, aliases), shared
 * by the HTTP API and the embedding API. Validation happens before anything is stored: a refused
 * request creates nothing. Zip decoding, inspection and storage run on the blocking executor.
 */
public final class FunctionService {

  /** A configuration and what its {@code FunctionArn} ends with (null: unqualified). */
  public record Found(FunctionConfig config, String arnQualifier) {}

  /** One page of ListFunctions / ListVersionsByFunction; {@code nextMarker} is null on the last page. */
  public record Page(List<Found> functions, String nextMarker) {}

  /** One page of ListAliases. */
  public record AliasPage(String function, List<AliasConfig> aliases, String nextMarker) {}

  private static final int LIST_PAGE_LIMIT = 50;
  private static final Duration ACCOUNT_TIMEOUT = Duration.ofSeconds(10);
  private static final String QUALIFIED_UPDATE = "This operation is permitted on Lambda functions only. Aliases and "
      + "versions do not support this operation. Please specify either a function name or an unqualified function ARN.";

  private final NodeSettings settings;
  private final RegistryClient registry;
  private final CodeUploads uploads;
  private final LayerService layers;
  private final ProvisionedService provisioned;
  private final Executor blocking;
  private final ClusterSharding sharding;
  private final QueueLookup queues;
  private final Metrics metrics;

  public FunctionService(NodeSettings settings, RegistryClient registry, CodeStore code, Executor blocking,
      ClusterSharding sharding, Metrics metrics) {
    this.metrics = metrics;
    this.sharding = sharding;
    this.settings = settings;
    this.registry = registry;
    this.uploads = new CodeUploads(settings, code);
    this.layers = new LayerService(settings, registry, uploads, blocking);
    this.provisioned = new ProvisionedService(registry, sharding, settings.accountId());
    this.queues = new QueueLookup(settings, sharding);
    this.blocking = blocking;
  }

  /** Provisioned concurrency configs and their sandboxes. */
  public ProvisionedService provisioned() {
    return provisioned;
  }

  /** The layer operations, which share this service's code uploads. */
  public LayerService layers() {
    return layers;
  }

  // ---- functions ---------------------------------------------------------------------------

  /**
   * A dead-letter queue must be a Lamina queue that exists. Lambda checks it through the
   * function's role and answers a missing queue with the role's message, so Lamina does too.
   */
  private CompletionStage<Void> checkDeadLetter(String arn) {
    if (arn == null) {
      return CompletableFuture.completedFuture(null);
    }
    String service = arn.split(":", -1).length > 2 ? arn.split(":", -1)[2] : "";
    if (service.equals("sns")) {
      return CompletableFuture.failedFuture(LambdaError.invalid(
          "The provided execution role does not have permissions to call Publish on SNS"));
    }
    LambdaError noQueue = LambdaError.invalid(
        "The provided execution role does not have permissions to call SendMessage on SQS");
    if (!service.equals("sqs")) {
      return CompletableFuture.failedFuture(LambdaError.invalid("The dead-letter target " + arn
          + " is not supported: Lamina sends dead letters to its queues (arn:aws:sqs:...)."));
    }
    return queues.find(arn).thenApply(queue -> {
      if (queue == null) {
        throw noQueue;
      }
      return null;
    });
  }

  /** CreateFunction; with {@code Publish}, the reply is version 1. */
  public CompletionStage<FunctionConfig> create(JsonNode body) {
    FunctionName fn = FunctionName.parse(body.path("FunctionName").asText(null));
    if (fn.qualifier() != null) {
      throw LambdaError.invalid("Unsupported FunctionName with qualifier for CreateFunction: " + fn.qualifier());
    }
    // Decoding up to 50 MB of base64 is blocking work, like inspecting and storing the zip.
    return CompletableFuture.supplyAsync(() -> FunctionRequests.create(settings, fn.name(), body), blocking)
        .thenCompose(request -> checkDeadLetter(request.config().deadLetterTargetArn()).thenApply(v -> request))
        .thenCompose(request -> layers.resolve(request.layers()).thenCompose(refs ->
            registry.ask(fn.name(), r -> new FunctionRegistry.Get(null, r)).thenApply(existing -> {
              if (existing.config() != null) {
                // Refused before the package is stored: a refused request leaves nothing behind.
                throw LambdaError.conflict("Function already exist: " + fn.name());
              }
              return refs;
            }))
            .thenCompose(refs -> CompletableFuture.supplyAsync(() -> {
              CodeUploads.Upload upload = uploads.inspect(request.zip());
              FunctionConfig config = request.config().withLayers(refs)
                  .withCode(null, upload.size(), upload.unzippedSize());
              uploads.checkCombined(config.totalUnzippedSize());
              CodeDigest digest = uploads.store(upload);
              return config.withCode(digest.hex(), upload.size(), upload.unzippedSize());
            }, blocking))
            .thenCompose(config -> registry.ask(config.name(),
                reply -> new FunctionRegistry.Create(config, request.publish(), reply))))
        .thenApply(this::changed);
  }

  /**
   * GetFunction / GetFunctionConfiguration of {@code $LATEST}, a version or an alias (then the
   * configuration of the version the alias points to, under the alias ARN).
   */
  public CompletionStage<Found> get(String rawName, String qualifierParam) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = fn.qualifierWith(qualifierParam);
    return registry.ask(fn.name(), r -> new FunctionRegistry.Get(qualifier, r)).thenApply(reply -> {
      FunctionConfig config = reply.configOrThrow();
      String arnQualifier = reply.alias() != null ? reply.alias().name() : config.isLatest() ? null : config.version();
      return new Found(config, arnQualifier);
    });
  }

  /** ListFunctions; with {@code allVersions} (FunctionVersion=ALL) every version of every function. */
  public CompletionStage<Page> list(String marker, Integer maxItems, boolean allVersions) {
    int limit = Markers.pageLimit(maxItems, 10000, LIST_PAGE_LIMIT);
    ListPosition after = ListPosition.decode(marker);
    Function<List<String>, CompletionStage<List<Found>>> fetch = allVersions
        ? names -> registry.versionsOf(names).thenApply(lists -> lists.stream().flatMap(List::stream)
            .map(c -> new Found(c, c.version())).toList())
        : names -> registry.existing(names).thenApply(configs -> configs.stream().map(c -> new Found(c, null)).toList());
    return registry.allNames().thenCompose(names -> {
      List<String> remaining = after == null ? names
          : names.stream().filter(n -> n.compareTo(after.name()) >= 0).toList();
      return collect(remaining, 0, limit, after, fetch, new ArrayList<>());
    });
  }

  /** Asks the registry for names in slices until a page is full (deleted functions are skipped). */
  private CompletionStage<Page> collect(List<String> names, int from, int limit, ListPosition after,
      Function<List<String>, CompletionStage<List<Found>>> fetch, List<Found> page) {
    if (from >= names.size() || page.size() > limit) {
      boolean more = page.size() > limit;
      List<Found> out = more ? page.subList(0, limit) : page;
      String next = more ? ListPosition.of(out.get(out.size() - 1).config()).encode() : null;
      return CompletableFuture.completedFuture(new Page(List.copyOf(out), next));
    }
    int to = Math.min(names.size(), from + limit - page.size() + 1);
    return fetch.apply(names.subList(from, to)).thenCompose(found -> {
      found.stream().filter(f -> after == null || ListPosition.of(f.config()).isAfter(after)).forEach(page::add);
      return collect(names, to, limit, after, fetch, page);
    });
  }

  /** UpdateFunctionCode; with {@code Publish}, the reply is the published version. */
  public CompletionStage<FunctionConfig> updateCode(String rawName, JsonNode body) {
    FunctionName fn = unqualified(rawName);
    String expected = body.path("RevisionId").asText(null);
    boolean dryRun = body.path("DryRun").asBoolean(false);
    boolean publish = body.path("Publish").asBoolean(false);
    return CompletableFuture.supplyAsync(() -> {
      CodeUploads.Upload upload = uploads.inspect(FunctionRequests.updateCode(settings, body));
      return new Checked(upload, CodeDigest.of(upload.zip()));
    }, blocking).thenCompose(checked -> registry.ask(fn.name(), r -> new FunctionRegistry.Get(null, r))
        .thenCompose(reply -> {
          FunctionConfig current = reply.configOrThrow();
          CodeUploads.Upload upload = checked.upload();
          FunctionConfig updated = current.withCode(checked.digest().hex(), upload.size(), upload.unzippedSize());
          uploads.checkCombined(updated.totalUnzippedSize());
          if (expected != null && !expected.equals(current.revisionId())) {
            // The registry checks again; refusing here keeps a refused package out of the store.
            throw new LambdaError(LambdaError.Code.PreconditionFailedException, FunctionRegistry.REVISION_MISMATCH);
          }
          if (dryRun) {
            return CompletableFuture.completedFuture(updated);
          }
          return CompletableFuture.supplyAsync(() -> uploads.store(upload), blocking)
              .thenCompose(digest -> registry.ask(fn.name(),
                  r -> new FunctionRegistry.Update(updated, current.revisionId(), expected, publish, r)))
              .thenApply(this::changed);
        }));
  }

  public CompletionStage<FunctionConfig> updateConfiguration(String rawName, JsonNode body) {
    FunctionName fn = unqualified(rawName);
    String expected = body.path("RevisionId").asText(null);
    List<String> layerArns = FunctionRequests.layers(body);
    return registry.ask(fn.name(), r -> new FunctionRegistry.Get(null, r)).thenCompose(reply -> {
      FunctionConfig current = reply.configOrThrow();
      FunctionConfig changed = FunctionRequests.updateConfiguration(settings, current, body);
      CompletionStage<List<LayerRef>> refs = (java.util.Objects.equals(changed.deadLetterTargetArn(),
          current.deadLetterTargetArn()) ? CompletableFuture.<Void>completedFuture(null)
          : checkDeadLetter(changed.deadLetterTargetArn()))
          .thenCompose(v -> layerArns == null
              ? CompletableFuture.completedFuture(current.layers()) : layers.resolve(layerArns));
      return refs.thenCompose(layerRefs -> {
        FunctionConfig updated = changed.withLayers(layerRefs);
        uploads.checkCombined(updated.totalUnzippedSize());
        return registry.ask(fn.name(),
            r -> new FunctionRegistry.Update(updated, current.revisionId(), expected, false, r));
      }).thenApply(this::changed);
    });
  }

  /**
   * DeleteFunction: the whole function (no qualifier) or one published version. Sandboxes of what
   * is gone are released at once.
   */
  public CompletionStage<Void> delete(String rawName, String qualifierParam) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = fn.qualifierWith(qualifierParam);
    if (FunctionConfig.LATEST.equals(qualifier)) {
      throw LambdaError.invalid("$LATEST version cannot be deleted without deleting the function.");
    }
    if (qualifier != null && !qualifier.chars().allMatch(Character::isDigit)) {
      throw LambdaError.invalid("Deletion of aliases is not currently supported.");
    }
    return registry.ask(fn.name(), r -> new FunctionRegistry.Delete(qualifier, r)).thenApply(reply -> {
      reply.orThrow();
      registry.invalidate(fn.name());
      if (qualifier == null) {
        provisioned.forget(fn.name());
        // A function created again under this name starts without reserved concurrency.
        askAccount(r -> new AccountActor.FunctionGone(fn.name(), r));
        metrics.forgetFunction(fn.name());
        // Its queued events are dropped now: a function created again under the name must not
        // run the events of this one.
        dropQueuedEvents(fn.name());
      }
      // Their warm sandboxes can never serve again: release them now, not at keep-alive expiry.
      for (FunctionConfig gone : reply.versions()) {
        sharding.entityRefFor(FunctionActor.TYPE_KEY, FunctionActor.entityId(fn.name(), gone.version()))
            .tell(FunctionActor.FunctionDeleted.INSTANCE);
      }
      return null;
    });
  }

  /**
   * Tells every event queue partition of the function that has a journal (whatever the partition
   * count was when it was written) to drop what it holds; partitions that never held an event are
   * left alone.
   */
  private void dropQueuedEvents(String function) {
    registry.entityIds(dev.lamina.actors.events.EventQueue.TYPE_KEY.name()).thenAccept(journals -> journals.stream()
        .filter(id -> id.startsWith(function + "#"))
        .forEach(id -> sharding.entityRefFor(dev.lamina.actors.events.EventQueue.TYPE_KEY, id)
            .tell(new dev.lamina.actors.events.EventQueue.DropQueued())));
  }

  // ---- versions ----------------------------------------------------------------------------

  /** PublishVersion: a new version from {@code $LATEST}, or the latest version if nothing changed. */
  public CompletionStage<FunctionConfig> publish(String rawName, JsonNode body) {
    FunctionName fn = unqualified(rawName);
    String description = body.hasNonNull("Description") ? body.get("Description").asText() : null;
    if (description != null && description.length() > 256) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '"
          + description + "' at 'description' failed to satisfy constraint: Member must have length less than or "
          + "equal to 256");
    }
    String codeSha = body.hasNonNull("CodeSha256") ? body.get("CodeSha256").asText() : null;
    String expected = body.hasNonNull("RevisionId") ? body.get("RevisionId").asText() : null;
    return registry.ask(fn.name(), r -> new FunctionRegistry.Publish(codeSha, description, expected, r))
        .thenApply(this::changed);
  }

  /** ListVersionsByFunction: {@code $LATEST} first, then the versions in ascending order. */
  public CompletionStage<Page> listVersions(String rawName, String marker, Integer maxItems) {
    FunctionName fn = FunctionName.parse(rawName);
    int limit = Markers.pageLimit(maxItems, 10000, LIST_PAGE_LIMIT);
    ListPosition after = ListPosition.decode(marker);
    return registry.ask(fn.name(), FunctionRegistry.ListVersions::new).thenApply(reply -> {
      List<Found> all = reply.orThrow().versions().stream()
          .filter(c -> after == null || ListPosition.of(c).isAfter(after))
          .map(c -> new Found(c, c.version()))
          .toList();
      List<Found> page = all.subList(0, Math.min(limit, all.size()));
      String next = all.size() > limit ? ListPosition.of(page.get(page.size() - 1).config()).encode() : null;
      return new Page(List.copyOf(page), next);
    });
  }

  // ---- aliases -----------------------------------------------------------------------------

  public CompletionStage<AliasConfig> createAlias(String rawName, JsonNode body) {
    FunctionName fn = FunctionName.parse(rawName);
    AliasConfig alias = AliasRequests.create(body);
    return registry.ask(fn.name(), r -> new FunctionRegistry.CreateAlias(alias, r))
        .thenApply(reply -> changedAlias(fn.name(), reply));
  }

  public CompletionStage<AliasConfig> getAlias(String rawName, String alias) {
    FunctionName fn = FunctionName.parse(rawName);
    AliasRequests.checkName(alias);
    return registry.ask(fn.name(), r -> new FunctionRegistry.GetAlias(alias, r))
        .thenApply(reply -> reply.orThrow().alias());
  }

  public CompletionStage<AliasConfig> updateAlias(String rawName, String alias, JsonNode body) {
    FunctionName fn = FunctionName.parse(rawName);
    AliasRequests.checkName(alias);
    AliasRequests.Update u = AliasRequests.update(body);
    return registry.ask(fn.name(), r -> new FunctionRegistry.UpdateAlias(alias, u.functionVersion(), u.description(),
        u.weights(), u.revisionId(), r)).thenApply(reply -> changedAlias(fn.name(), reply));
  }

  public CompletionStage<Void> deleteAlias(String rawName, String alias) {
    FunctionName fn = FunctionName.parse(rawName);
    AliasRequests.checkName(alias);
    return registry.ask(fn.name(), r -> new FunctionRegistry.DeleteAlias(alias, r)).thenApply(reply -> {
      reply.orThrow();
      registry.invalidate(fn.name());
      provisioned.reapply(fn.name());
      return null;
    });
  }

  /** ListAliases, by name; with {@code functionVersion}, only aliases routing to that version. */
  public CompletionStage<AliasPage> listAliases(String rawName, String functionVersion, String marker,
      Integer maxItems) {
    FunctionName fn = FunctionName.parse(rawName);
    if (functionVersion != null) {
      AliasRequests.checkFunctionVersion(functionVersion);
    }
    int limit = Markers.pageLimit(maxItems, 10000, LIST_PAGE_LIMIT);
    String after = marker == null || marker.isEmpty() ? null : Markers.decode(marker);
    return registry.ask(fn.name(), r -> new FunctionRegistry.ListAliases(functionVersion, r)).thenApply(reply -> {
      List<AliasConfig> all = reply.orThrow().aliases().stream()
          .filter(a -> after == null || a.name().compareTo(after) > 0)
          .toList();
      List<AliasConfig> page = all.subList(0, Math.min(limit, all.size()));
      String next = all.size() > limit ? Markers.encode(page.get(page.size() - 1).name()) : null;
      return new AliasPage(fn.name(), List.copyOf(page), next);
    });
  }

  // ---- concurrency -------------------------------------------------------------------------

  /** PutFunctionConcurrency: the account checks that enough stays unreserved. */
  public CompletionStage<Integer> putConcurrency(String rawName, JsonNode body) {
    FunctionName fn = unqualified(rawName);
    int reserved = FunctionRequests.requiredInt(body, "ReservedConcurrentExecutions", "reservedConcurrentExecutions", 0);
    return existing(fn).thenCompose(c -> askAccount(r -> new AccountActor.PutReserved(fn.name(), reserved, r)))
        .thenApply(reply -> reply.orThrow().reserved());
  }

  /** GetFunctionConcurrency: the reserved concurrency, or null when none is set. */
  public CompletionStage<Integer> getConcurrency(String rawName) {
    FunctionName fn = unqualified(rawName);
    return existing(fn).thenCompose(c -> askAccount(r -> new AccountActor.GetReserved(fn.name(), r)))
        .thenApply(reply -> reply.orThrow().reserved());
  }

  public CompletionStage<Void> deleteConcurrency(String rawName) {
    FunctionName fn = unqualified(rawName);
    return existing(fn).thenCompose(c -> askAccount(r -> new AccountActor.DeleteReserved(fn.name(), r)))
        .thenApply(reply -> {
          reply.orThrow();
          return null;
        });
  }

  private CompletionStage<FunctionConfig> existing(FunctionName fn) {
    return registry.ask(fn.name(), r -> new FunctionRegistry.Get(null, r)).thenApply(FunctionRegistry.Reply::configOrThrow);
  }

  private CompletionStage<AccountActor.Reply> askAccount(Function<ActorRef<AccountActor.Reply>, AccountActor.Command> ask) {
    return sharding.entityRefFor(AccountActor.TYPE_KEY, settings.accountId()).ask(ask::apply, ACCOUNT_TIMEOUT);
  }

  // ---- account -----------------------------------------------------------------------------

  public CompletionStage<ObjectNode> accountSettings() {
    return askAccount(AccountActor.GetSettings::new).thenCompose(account ->
        registry.allNames().thenCompose(registry::versionsOf).thenApply(functions -> {
      ObjectNode root = FunctionJson.MAPPER.createObjectNode();
      ObjectNode limit = root.putObject("AccountLimit");
      limit.put("TotalCodeSize", 80530636800L);
      limit.put("CodeSizeUnzipped", settings.maxUnzippedBytes());
      limit.put("CodeSizeZipped", settings.maxZippedBytes());
      limit.put("ConcurrentExecutions", account.limit());
      limit.put("UnreservedConcurrentExecutions", account.unreserved());
      ObjectNode usage = root.putObject("AccountUsage");
      // Every version's package counts, as in Lambda (the same code in two versions counts twice).
      usage.put("TotalCodeSize", functions.stream().flatMap(List::stream).mapToLong(FunctionConfig::codeSize).sum());
      usage.put("FunctionCount", functions.size());
      return root;
    }));
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** Updates and publishing apply to the function itself, not to a version or an alias. */
  private static FunctionName unqualified(String rawName) {
    FunctionName fn = FunctionName.parse(rawName);
    if (fn.qualifier() != null && !fn.qualifier().equals(FunctionConfig.LATEST)) {
      throw LambdaError.invalid(QUALIFIED_UPDATE);
    }
    return fn;
  }

  /** Unwraps a registry reply after a change and drops this node's cached copy at once. */
  private FunctionConfig changed(FunctionRegistry.Reply reply) {
    FunctionConfig config = reply.configOrThrow();
    registry.invalidate(config.name());
    return config;
  }

  private AliasConfig changedAlias(String function, FunctionRegistry.Reply reply) {
    AliasConfig alias = reply.orThrow().alias();
    registry.invalidate(function);
    provisioned.reapply(function);   // an alias's provisioned share follows its versions and weights
    return alias;
  }

  /** A checked package and its digest, computed together off the actor threads. */
  private record Checked(CodeUploads.Upload upload, CodeDigest digest) {}

  /** Where a list page ended: a function name and a version of it ({@code $LATEST} sorts first). */
  private record ListPosition(String name, long version) {

    static ListPosition of(FunctionConfig c) {
      return new ListPosition(c.name(), c.isLatest() ? -1 : Long.parseLong(c.version()));
    }

    static ListPosition decode(String marker) {
      if (marker == null || marker.isEmpty()) {
        return null;
      }
      String text = Markers.decode(marker);
      int at = text.lastIndexOf(':');
      try {
        return new ListPosition(text.substring(0, Math.max(at, 0)), Long.parseLong(text.substring(at + 1)));
      } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
        throw LambdaError.invalid("Invalid Marker: " + marker);
      }
    }

    String encode() {
      return Markers.encode(name + ":" + version);
    }

    boolean isAfter(ListPosition other) {
      int byName = name.compareTo(other.name);
      return byName > 0 || (byName == 0 && version > other.version);
    }
  }
}
