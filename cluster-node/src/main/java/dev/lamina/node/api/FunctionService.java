package dev.lamina.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.function.FunctionActor;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.actors.registry.FunctionRegistry;
import dev.lamina.actors.registry.RegistryClient;
import dev.lamina.persistence.code.CodeDigest;
import dev.lamina.persistence.code.CodeStore;
import dev.lamina.persistence.code.ZipPackage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The management operations of §1.1 of the contract, shared by the HTTP API and the embedding
 * API. Validation happens before anything is stored: a refused request creates nothing. Zip
 * decoding, inspection and storage run on the blocking executor.
 */
public final class FunctionService {

  /** One page of ListFunctions; {@code nextMarker} is null on the last page. */
  public record Page(List<FunctionConfig> functions, String nextMarker) {}

  private static final int LIST_PAGE_LIMIT = 50;

  private final NodeSettings settings;
  private final RegistryClient registry;
  private final CodeStore code;
  private final Executor blocking;
  private final ClusterSharding sharding;

  public FunctionService(NodeSettings settings, RegistryClient registry, CodeStore code, Executor blocking,
      ClusterSharding sharding) {
    this.sharding = sharding;
    this.settings = settings;
    this.registry = registry;
    this.code = code;
    this.blocking = blocking;
  }

  public CompletionStage<FunctionConfig> create(JsonNode body) {
    return CompletableFuture.supplyAsync(() -> {
      FunctionName fn = FunctionName.parse(body.path("FunctionName").asText(null));
      if (fn.qualifier() != null) {
        throw LambdaError.invalid("Unsupported FunctionName with qualifier for CreateFunction: " + fn.qualifier());
      }
      FunctionRequests.Create request = FunctionRequests.create(settings, fn.name(), body);
      CodeDigest digest = store(request.zip());
      FunctionConfig c = request.config();
      return new FunctionConfig(c.name(), c.version(), c.runtime(), c.role(), c.handler(), c.description(),
          c.timeoutSeconds(), c.memorySizeMb(), c.ephemeralStorageMb(), c.environment(), digest.hex(), c.codeSize(),
          null, null, c.architecture(), c.tracingMode(), c.deadLetterTargetArn(), c.logFormat(), c.logGroup(), c.tags());
    }, blocking).thenCompose(config ->
        registry.ask(config.name(), reply -> new FunctionRegistry.Create(config, reply)))
        .thenApply(reply -> changed(reply));
  }

  /** GetFunction / GetFunctionConfiguration. Only {@code $LATEST} exists until versions land. */
  public CompletionStage<FunctionConfig> get(String rawName, String qualifierParam) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = fn.qualifierWith(qualifierParam);
    checkLatest(fn.name(), qualifier);
    return registry.ask(fn.name(), FunctionRegistry.Get::new).thenApply(FunctionRegistry.Reply::orThrow);
  }

  public CompletionStage<Page> list(String marker, Integer maxItems) {
    if (maxItems != null && (maxItems < 1 || maxItems > 10000)) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + maxItems
          + "' at 'maxItems' failed to satisfy constraint: Member must have value "
          + (maxItems < 1 ? "greater than or equal to 1" : "less than or equal to 10000"));
    }
    int limit = Math.min(maxItems == null ? LIST_PAGE_LIMIT : maxItems, LIST_PAGE_LIMIT);
    return registry.allNames().thenCompose(names -> {
      List<String> after = marker == null || marker.isEmpty() ? names
          : names.stream().filter(n -> n.compareTo(Markers.decode(marker)) > 0).toList();
      return collect(after, 0, limit, new ArrayList<>());
    });
  }

  /** Asks the registry for names in slices until a page is full (deleted functions are skipped). */
  private CompletionStage<Page> collect(List<String> names, int from, int limit, List<FunctionConfig> page) {
    if (from >= names.size() || page.size() >= limit) {
      // More names remain: a next page may exist (it can turn out empty if they were all deleted).
      boolean more = page.size() >= limit && from < names.size();
      List<FunctionConfig> out = page.size() > limit ? page.subList(0, limit) : page;
      String next = more || page.size() > limit ? Markers.encode(out.get(out.size() - 1).name()) : null;
      return CompletableFuture.completedFuture(new Page(List.copyOf(out), next));
    }
    int to = Math.min(names.size(), from + limit - page.size() + 1);
    return registry.existing(names.subList(from, to)).thenCompose(found -> {
      page.addAll(found);
      return collect(names, to, limit, page);
    });
  }

  public CompletionStage<FunctionConfig> updateCode(String rawName, JsonNode body) {
    FunctionName fn = FunctionName.parse(rawName);
    checkLatest(fn.name(), fn.qualifier());
    String expected = body.path("RevisionId").asText(null);
    boolean dryRun = body.path("DryRun").asBoolean(false);
    return CompletableFuture.supplyAsync(() -> {
      byte[] zip = FunctionRequests.updateCode(settings, body);
      return new Upload(dryRun ? CodeDigest.of(zip) : store(zip), zip.length);
    }, blocking).thenCompose(upload -> registry.ask(fn.name(), FunctionRegistry.Get::new).thenCompose(reply -> {
      FunctionConfig c = reply.orThrow();
      CodeDigest digest = upload.digest();
      long size = upload.size();
      FunctionConfig updated = new FunctionConfig(c.name(), c.version(), c.runtime(), c.role(), c.handler(),
          c.description(), c.timeoutSeconds(), c.memorySizeMb(), c.ephemeralStorageMb(), c.environment(), digest.hex(),
          size, c.lastModified(), c.revisionId(), c.architecture(), c.tracingMode(), c.deadLetterTargetArn(),
          c.logFormat(), c.logGroup(), c.tags());
      if (dryRun) {
        return CompletableFuture.completedFuture(updated);
      }
      return registry.ask(fn.name(), r -> new FunctionRegistry.Update(updated, c.revisionId(), expected, r))
          .thenApply(this::changed);
    }));
  }

  public CompletionStage<FunctionConfig> updateConfiguration(String rawName, JsonNode body) {
    FunctionName fn = FunctionName.parse(rawName);
    checkLatest(fn.name(), fn.qualifier());
    String expected = body.path("RevisionId").asText(null);
    return registry.ask(fn.name(), FunctionRegistry.Get::new).thenCompose(reply -> {
      FunctionConfig current = reply.orThrow();
      FunctionConfig updated = FunctionRequests.updateConfiguration(settings, current, body);
      return registry.ask(fn.name(), r -> new FunctionRegistry.Update(updated, current.revisionId(), expected, r))
          .thenApply(this::changed);
    });
  }

  public CompletionStage<Void> delete(String rawName, String qualifierParam) {
    FunctionName fn = FunctionName.parse(rawName);
    String qualifier = fn.qualifierWith(qualifierParam);
    if ("$LATEST".equals(qualifier)) {
      throw LambdaError.invalid("$LATEST version cannot be deleted without deleting the function.");
    }
    checkLatest(fn.name(), qualifier);
    return registry.ask(fn.name(), FunctionRegistry.Delete::new).thenApply(reply -> {
      changed(reply);
      // Its warm sandboxes can never serve again: release them now, not at keep-alive expiry.
      sharding.entityRefFor(FunctionActor.TYPE_KEY, FunctionActor.entityId(fn.name(), "$LATEST"))
          .tell(FunctionActor.FunctionDeleted.INSTANCE);
      return null;
    });
  }

  public CompletionStage<ObjectNode> accountSettings() {
    return registry.allNames().thenCompose(registry::existing).thenApply(functions -> {
      ObjectNode root = FunctionJson.MAPPER.createObjectNode();
      ObjectNode limit = root.putObject("AccountLimit");
      limit.put("TotalCodeSize", 80530636800L);
      limit.put("CodeSizeUnzipped", settings.maxUnzippedBytes());
      limit.put("CodeSizeZipped", settings.maxZippedBytes());
      limit.put("ConcurrentExecutions", 1000);
      limit.put("UnreservedConcurrentExecutions", 1000);
      ObjectNode usage = root.putObject("AccountUsage");
      usage.put("TotalCodeSize", functions.stream().mapToLong(FunctionConfig::codeSize).sum());
      usage.put("FunctionCount", functions.size());
      return root;
    });
  }

  /** A qualifier other than $LATEST names a version or alias, which do not exist yet. */
  private void checkLatest(String name, String qualifier) {
    if (qualifier != null && !qualifier.equals("$LATEST")) {
      throw LambdaError.notFound("Function not found: " + settings.functionArnPrefix() + name + ":" + qualifier);
    }
  }

  /** Unwraps a registry reply after a change and drops this node's cached copy at once. */
  private FunctionConfig changed(FunctionRegistry.Reply reply) {
    FunctionConfig config = reply.orThrow();
    registry.invalidate(config.name());
    return config;
  }

  private CodeDigest store(byte[] zip) {
    try {
      ZipPackage.inspect(zip, settings.maxUnzippedBytes());
      return code.put(zip);
    } catch (ZipPackage.InvalidPackageException e) {
      if (e.tooLargeUnzipped()) {
        throw LambdaError.invalid("Unzipped size must be smaller than " + settings.maxUnzippedBytes() + " bytes");
      }
      throw LambdaError.invalid("Could not unzip uploaded file. Please check your file, then try to upload again.");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private record Upload(CodeDigest digest, long size) {}
}
