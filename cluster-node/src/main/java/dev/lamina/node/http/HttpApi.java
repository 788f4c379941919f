package dev.lamina.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.function.InvocationResult;
import dev.lamina.actors.registry.FunctionConfig;
import dev.lamina.node.NodeHealth;
import dev.lamina.node.api.FunctionJson;
import dev.lamina.node.api.FunctionName;
import dev.lamina.node.api.LayerService;
import dev.lamina.node.api.ProvisionedService;
import java.util.List;
import dev.lamina.node.api.FunctionService;
import dev.lamina.node.api.EventConfigService;
import dev.lamina.node.api.InvokeService;
import dev.lamina.node.api.MappingService;
import dev.lamina.node.api.NodeSettings;
import dev.lamina.persistence.code.CodeDigest;
import dev.lamina.persistence.code.CodeStore;
import dev.lamina.persistence.logs.LogStore;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Lambda-compatible REST API (management and Invoke) plus Lamina's own endpoints
 * ({@code /health}, {@code /ready}, {@code /lamina/logs/…}, {@code /lamina/code/…}).
 *
 * <p>Requests other than {@code /health}, {@code /ready} and {@code /metrics} must be signed
 * (AWS Signature Version 4, see {@link ApiAuthentication}) unless authentication is off.
 *
 * <p>This is the one place where {@link LambdaError}s become HTTP: status, {@code x-amzn-ErrorType},
 * and the body members of Appendix B of the contract ({@code message} or {@code Message}, {@code Type}).
 * Anything else that fails is logged with the request id and answered as a ServiceException.
 */
public final class HttpApi {

  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
  private static final String FUNCTIONS = "/2015-03-31/functions";
  /** The largest SQS request body (a 256 KiB message and its attributes, ten in a batch, fit). */
  private static final long SQS_BODY_BYTES = 2 * 1024 * 1024;
  private static final String LAYERS = "/2018-10-31/layers";
  private static final String EVENT_CONFIG_FUNCTIONS = "/2019-09-25/functions/";
  private static final String MAPPINGS = "/2015-03-31/event-source-mappings";
  private static final java.util.regex.Pattern FUNCTION_NAME = java.util.regex.Pattern.compile("[a-zA-Z0-9_-]{1,64}");

  private final ActorSystem<?> system;
  private final NodeSettings settings;
  private final FunctionService functions;
  private final InvokeService invoker;
  private final EventConfigService eventConfigs;
  private final MappingService mappings;
  private final SqsApi sqs;
  private final LogStore logs;
  private final CodeStore code;
  private final NodeHealth health;
  private final Executor blocking;
  private final Supplier<String> metrics;
  private final FunctionJson json;
  private final Materializer mat;
  private final ApiAuthentication auth;
  private final HttpTimeouts timeouts;
  private volatile int boundPort;

  public HttpApi(ActorSystem<?> system, NodeSettings settings, FunctionService functions, InvokeService invoker,
      EventConfigService eventConfigs, MappingService mappings, SqsApi sqs, LogStore logs, CodeStore code,
      NodeHealth health, Executor blocking, Supplier<String> metrics, ApiAuthentication auth) {
    this.auth = auth;
    this.eventConfigs = eventConfigs;
    this.mappings = mappings;
    this.sqs = sqs;
    this.metrics = metrics;
    this.system = system;
    this.settings = settings;
    this.functions = functions;
    this.invoker = invoker;
    this.logs = logs;
    this.code = code;
    this.health = health;
    this.blocking = blocking;
    this.json = new FunctionJson(settings.functionArnPrefix(), settings.layerArnPrefix());
    this.mat = Materializer.matFromSystem(system);
    this.timeouts = HttpTimeouts.from(system.settings().config());
  }

  /**
   * Serves the API: each connection's requests one at a time through {@link Exchanges} (which
   * closes a connection whose next request head does not arrive in time), and requests Pekko
   * cannot parse answered by {@link ParsingErrors} in the AWS error shape.
   */
  public CompletionStage<ServerBinding> bind() {
    Flow<HttpRequest, HttpResponse, NotUsed> exchanges = Flow.fromGraph(new Exchanges(this::handle,
        (request, failure) -> {
          request.discardEntityBytes(mat);
          return errorResponse(failure, UUID.randomUUID().toString());
        }, timeouts.requestHead()));
    return Http.get(system).newServerAt(settings.host(), settings.port())
        .adaptSettings(s -> s.withParsingErrorHandler(ParsingErrors.class.getName()))
        .bindFlow(exchanges)
        .thenApply(binding -> {
          boundPort = binding.localAddress().getPort();
          return binding;
        });
  }

  /** The host a client can reach this node at: the bound address, or the one it used if wildcard. */
  private String reachableHost(HttpRequest request) {
    String bound = settings.host();
    if (!bound.equals("0.0.0.0") && !bound.equals("::")) {
      return bound;
    }
    String used = request.getUri().host().address();
    return used.isEmpty() ? "127.0.0.1" : used;
  }

  private CompletionStage<HttpResponse> handle(HttpRequest request) {
    String requestId = UUID.randomUUID().toString();
    CompletionStage<HttpResponse> response;
    // A worker-only node serves no API (route answers 503): there is nothing to authenticate for.
    if (auth != null && settings.frontend() && !ApiAuthentication.isOpen(request.getUri().path())) {
      try {
        // The signature covers the body: it is read whole, with the same deadlines as any body.
        response = auth.authenticate(request, isSqs(request), bodies).thenCompose(result -> result.refusal() != null
            ? CompletableFuture.completedFuture(result.refusal()) : routeOrFail(result.request(), requestId));
      } catch (RuntimeException e) {
        request.discardEntityBytes(mat);
        response = CompletableFuture.failedFuture(e);
      }
    } else {
      response = routeOrFail(request, requestId);
    }
    return response.exceptionally(failure -> errorResponse(failure, requestId))
        .thenApply(r -> r.getHeader("x-amzn-RequestId").isPresent() ? r
            : r.addHeader(RawHeader.create("x-amzn-RequestId", requestId)));
  }

  /**
   * Bodies as the signature check reads them: whole, under the route's own limit where it has a
   * small one (Invoke, SQS), so that a client nobody has authenticated yet cannot make the node
   * buffer more; refused ones drained within the body deadlines.
   */
  private final ApiAuthentication.Bodies bodies = new ApiAuthentication.Bodies() {
    @Override
    public CompletionStage<ByteString> read(HttpRequest request) {
      String path = request.getUri().path();
      if (isSqs(request)) {
        return body(request, SQS_BODY_BYTES, "SQS");
      }
      if (path.endsWith("/invocations")) {
        return body(request, settings.maxSyncPayloadBytes(), null);
      }
      return body(request, auth.maxBodyBytes(), "API");
    }

    @Override
    public CompletionStage<?> drain(HttpRequest request) {
      return request.entity().getDataBytes()
          .idleTimeout(timeouts.bodyStall())
          .completionTimeout(timeouts.body())
          .runWith(Sink.ignore(), mat);
    }
  };

  private CompletionStage<HttpResponse> routeOrFail(HttpRequest request, String requestId) {
    try {
      return route(request, requestId);
    } catch (RuntimeException e) {
      request.discardEntityBytes(mat);
      return CompletableFuture.failedFuture(e);
    }
  }

  /** An SQS JSON-protocol request: {@code POST /} with {@code X-Amz-Target: AmazonSQS.<Operation>}. */
  private static boolean isSqs(HttpRequest request) {
    String path = request.getUri().path();
    return request.method() == HttpMethods.POST && (path.isEmpty() || path.equals("/"))
        && header(request, "X-Amz-Target").map(t -> t.startsWith("AmazonSQS.")).orElse(false);
  }

  private CompletionStage<HttpResponse> route(HttpRequest request, String requestId) {
    String path = request.getUri().path();
    HttpMethod method = request.method();
    if (!settings.frontend() && !path.equals("/health") && !path.equals("/ready") && !path.equals("/metrics")) {
      // A worker-only node runs sandboxes; clients go to the frontend nodes.
      discard(request);
      return CompletableFuture.completedFuture(error(503, "ServiceException", "Message",
          "This node has no frontend role: send API requests to a frontend node", false));
    }
    Optional<String> target = header(request, "X-Amz-Target");
    if (target.isPresent() && target.get().startsWith("AmazonSQS.") && method == HttpMethods.POST
        && (path.isEmpty() || path.equals("/"))) {
      String host = reachableHost(request) + ":" + boundPort;
      return body(request, SQS_BODY_BYTES, "SQS")
          .thenCompose(b -> sqs.handle(target.get().substring("AmazonSQS.".length()), b, host));
    }
    if (path.endsWith("/") && path.length() > 1) {
      path = path.substring(0, path.length() - 1);
    }
    if (path.equals(FUNCTIONS)) {
      if (method == HttpMethods.POST) {
        return body(request, settings.maxCreateRequestBytes(), "CreateFunction")
            .thenCompose(b -> functions.create(jsonBody(b)))
            .thenApply(c -> json(201, json.configuration(c, true)));
      }
      if (method == HttpMethods.GET) {
        discard(request);
        String version = query(request, "FunctionVersion");
        if (version != null && !version.equals("ALL")) {
          throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + version
              + "' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]");
        }
        Integer maxItems = intQuery(request, "MaxItems");
        return functions.list(query(request, "Marker"), maxItems, version != null)
            .thenApply(page -> json(200, functionPage("Functions", page)));
      }
    }
    if (path.startsWith(FUNCTIONS + "/")) {
      String[] parts = path.substring(FUNCTIONS.length() + 1).split("/", -1);
      String name = decode(parts[0]);
      String qualifier = query(request, "Qualifier");
      if (parts.length == 1) {
        if (method == HttpMethods.GET) {
          discard(request);
          return functions.get(name, qualifier).thenApply(found -> {
            FunctionConfig c = found.config();
            ObjectNode root = FunctionJson.MAPPER.createObjectNode();
            root.set("Configuration", json.configuration(c, found.arnQualifier(), true));
            ObjectNode codeNode = root.putObject("Code");
            codeNode.put("RepositoryType", "S3");
            codeNode.put("Location", codeLocation(request, c.codeSha256Hex()));
            if (!c.tags().isEmpty()) {
              ObjectNode tags = root.putObject("Tags");
              c.tags().forEach(tags::put);
            }
            return root;
          }).thenCompose(root -> functions.getConcurrency(FunctionName.parse(name).name()).thenApply(reserved -> {
            if (reserved != null) {
              root.putObject("Concurrency").put("ReservedConcurrentExecutions", reserved);
            }
            return json(200, root);
          }));
        }
        if (method == HttpMethods.DELETE) {
          discard(request);
          return functions.delete(name, qualifier).thenApply(v -> HttpResponse.create().withStatus(204));
        }
      }
      if (parts.length == 2) {
        switch (parts[1]) {
          case "configuration":
            if (method == HttpMethods.GET) {
              discard(request);
              return functions.get(name, qualifier)
                  .thenApply(f -> json(200, json.configuration(f.config(), f.arnQualifier(), true)));
            }
            if (method == HttpMethods.PUT) {
              return body(request, settings.maxCreateRequestBytes(), "UpdateFunctionConfiguration")
                  .thenCompose(b -> functions.updateConfiguration(name, jsonBody(b)))
                  .thenApply(c -> json(200, json.configuration(c, true)));
            }
            break;
          case "code":
            if (method == HttpMethods.PUT) {
              return body(request, settings.maxCreateRequestBytes(), "UpdateFunctionCode")
                  .thenCompose(b -> functions.updateCode(name, jsonBody(b)))
                  .thenApply(c -> json(200, json.configuration(c, true)));
            }
            break;
          case "invocations":
            if (method == HttpMethods.POST) {
              return invoke(request, name, qualifier);
            }
            break;
          case "versions":
            if (method == HttpMethods.POST) {
              return body(request, 1024 * 1024, "PublishVersion")
                  .thenCompose(b -> functions.publish(name, jsonBody(b)))
                  .thenApply(c -> json(201, json.configuration(c, true)));
            }
            if (method == HttpMethods.GET) {
              discard(request);
              return functions.listVersions(name, query(request, "Marker"), intQuery(request, "MaxItems"))
                  .thenApply(page -> json(200, functionPage("Versions", page)));
            }
            break;
          case "aliases":
            if (method == HttpMethods.POST) {
              return body(request, 1024 * 1024, "CreateAlias")
                  .thenCompose(b -> functions.createAlias(name, jsonBody(b)))
                  .thenApply(a -> json(201, json.alias(FunctionName.parse(name).name(), a)));
            }
            if (method == HttpMethods.GET) {
              discard(request);
              return functions.listAliases(name, query(request, "FunctionVersion"), query(request, "Marker"),
                  intQuery(request, "MaxItems")).thenApply(page -> json(200, page("Aliases", page.nextMarker(),
                      page.aliases(), a -> json.alias(page.function(), a))));
            }
            break;
          default:
            break;
        }
      }
      if (parts.length == 3 && parts[1].equals("aliases")) {
        String alias = decode(parts[2]);
        if (method == HttpMethods.GET) {
          discard(request);
          return functions.getAlias(name, alias).thenApply(a -> json(200, json.alias(FunctionName.parse(name).name(), a)));
        }
        if (method == HttpMethods.PUT) {
          return body(request, 1024 * 1024, "UpdateAlias")
              .thenCompose(b -> functions.updateAlias(name, alias, jsonBody(b)))
              .thenApply(a -> json(200, json.alias(FunctionName.parse(name).name(), a)));
        }
        if (method == HttpMethods.DELETE) {
          discard(request);
          return functions.deleteAlias(name, alias).thenApply(v -> HttpResponse.create().withStatus(204));
        }
      }
    }
    if (path.startsWith(EVENT_CONFIG_FUNCTIONS)) {
      CompletionStage<HttpResponse> eventConfig = eventInvokeConfig(request, path, method);
      if (eventConfig != null) {
        return eventConfig;
      }
    }
    if (path.equals(MAPPINGS) || path.startsWith(MAPPINGS + "/")) {
      CompletionStage<HttpResponse> mapping = mappings(request, path, method);
      if (mapping != null) {
        return mapping;
      }
    }
    if (path.startsWith("/2019-09-30/functions/") && path.endsWith("/provisioned-concurrency")) {
      String[] parts = path.split("/", -1);
      if (parts.length == 5) {
        CompletionStage<HttpResponse> response = provisioned(request, method, decode(parts[3]));
        if (response != null) {
          return response;
        }
      }
    }
    if ((path.startsWith("/2017-10-31/functions/") || path.startsWith("/2019-09-30/functions/"))
        && path.endsWith("/concurrency")) {
      String[] parts = path.split("/", -1);
      if (parts.length == 5) {
        CompletionStage<HttpResponse> response = concurrency(request, method, parts[1], decode(parts[3]));
        if (response != null) {
          return response;
        }
      }
    }
    if (path.equals(LAYERS) || path.startsWith(LAYERS + "/")) {
      CompletionStage<HttpResponse> layerResponse = layers(request, path, method);
      if (layerResponse != null) {
        return layerResponse;
      }
    }
    if (path.equals("/2016-08-19/account-settings") && method == HttpMethods.GET) {
      discard(request);
      return functions.accountSettings().thenApply(root -> json(200, root));
    }
    if (path.equals("/health") || path.equals("/ready")) {
      discard(request);
      // /health: the report, 200 while the node serves at all; /ready: 503 until it should take traffic.
      boolean readiness = path.equals("/ready");
      return health.check().thenApply(report -> json(readiness && !report.ready() ? 503 : 200, report.body()));
    }
    if (path.equals("/metrics") && method == HttpMethods.GET) {
      discard(request);
      // Prometheus text exposition format 0.0.4.
      return supply(() -> HttpResponse.create().withStatus(200).withEntity(HttpEntities.create(
          ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8"),
          metrics.get().getBytes(StandardCharsets.UTF_8))));
    }
    if (path.startsWith("/lamina/logs/") && method == HttpMethods.GET) {
      discard(request);
      String function = decode(path.substring("/lamina/logs/".length()));
      if (!FUNCTION_NAME.matcher(function).matches()) {
        // Logs are kept per function name; anything else (a path, an ARN) names no log.
        return CompletableFuture.completedFuture(error(404, "ResourceNotFoundException", "Message",
            "The resource you requested does not exist.", true));
      }
      return logsResponse(function, request);
    }
    if (path.startsWith("/lamina/code/") && method == HttpMethods.GET) {
      discard(request);
      return codeResponse(path.substring("/lamina/code/".length()).replace(".zip", ""));
    }
    discard(request);
    return CompletableFuture.completedFuture(error(404, "UnknownOperationException", "message",
        "Unknown operation " + method.value() + " " + path, true));
  }

  private ObjectNode functionPage(String member, FunctionService.Page page) {
    return page(member, page.nextMarker(), page.functions(), f -> json.configuration(f.config(), f.arnQualifier(), false));
  }

  /** A list operation's answer: {@code NextMarker} unless it is the last page, and the items. */
  private static <T> ObjectNode page(String member, String nextMarker, List<T> items,
      java.util.function.Function<T, JsonNode> render) {
    ObjectNode root = FunctionJson.MAPPER.createObjectNode();
    if (nextMarker != null) {
      root.put("NextMarker", nextMarker);
    }
    ArrayNode list = root.putArray(member);
    items.forEach(item -> list.add(render.apply(item)));
    return root;
  }

  /**
   * Put/DeleteFunctionConcurrency ({@code /2017-10-31/…}) and GetFunctionConcurrency
   * ({@code /2019-09-30/…}): Lambda serves them under different dates. Null when none matches.
   */
  private CompletionStage<HttpResponse> concurrency(HttpRequest request, HttpMethod method, String date,
      String name) {
    if (date.equals("2017-10-31") && method == HttpMethods.PUT) {
      return body(request, 1024 * 1024, "PutFunctionConcurrency")
          .thenCompose(b -> functions.putConcurrency(name, jsonBody(b)))
          .thenApply(n -> json(200, FunctionJson.MAPPER.createObjectNode().put("ReservedConcurrentExecutions", n)));
    }
    if (date.equals("2017-10-31") && method == HttpMethods.DELETE) {
      discard(request);
      return functions.deleteConcurrency(name).thenApply(v -> HttpResponse.create().withStatus(204));
    }
    if (date.equals("2019-09-30") && method == HttpMethods.GET) {
      discard(request);
      return functions.getConcurrency(name).thenApply(n -> {
        ObjectNode root = FunctionJson.MAPPER.createObjectNode();
        if (n != null) {
          root.put("ReservedConcurrentExecutions", n);
        }
        return json(200, root);
      });
    }
    return null;
  }

  /** Put/Get/Delete/ListProvisionedConcurrencyConfig(s); null when none matches. */
  private CompletionStage<HttpResponse> provisioned(HttpRequest request, HttpMethod method, String name) {
    ProvisionedService provisioned = functions.provisioned();
    String qualifier = query(request, "Qualifier");
    if (method == HttpMethods.PUT) {
      return body(request, 1024 * 1024, "PutProvisionedConcurrencyConfig")
          .thenCompose(b -> provisioned.put(name, qualifier, jsonBody(b)))
          .thenApply(s -> json(202, provisionedJson(s, null)));
    }
    if (method == HttpMethods.GET && "ALL".equals(query(request, "List"))) {
      discard(request);
      return provisioned.listPage(name, query(request, "Marker"), intQuery(request, "MaxItems"))
          .thenApply(page -> json(200, page("ProvisionedConcurrencyConfigs", page.nextMarker(), page.configs(),
              c -> provisionedJson(c, json.arn(page.function()) + ":" + c.qualifier()))));
    }
    if (method == HttpMethods.GET) {
      discard(request);
      return provisioned.get(name, qualifier).thenApply(s -> json(200, provisionedJson(s, null)));
    }
    if (method == HttpMethods.DELETE) {
      discard(request);
      return provisioned.delete(name, qualifier).thenApply(v -> HttpResponse.create().withStatus(204));
    }
    return null;
  }

  private static ObjectNode provisionedJson(ProvisionedService.Status s, String functionArn) {
    ObjectNode n = FunctionJson.MAPPER.createObjectNode();
    if (functionArn != null) {
      n.put("FunctionArn", functionArn);
    }
    n.put("RequestedProvisionedConcurrentExecutions", s.requested());
    n.put("AvailableProvisionedConcurrentExecutions", s.allocated());
    n.put("AllocatedProvisionedConcurrentExecutions", s.allocated());
    n.put("Status", s.status());
    if (s.reason() != null) {
      n.put("StatusReason", s.reason());
    }
    n.put("LastModified", s.lastModified());
    return n;
  }

  // ---- Asynchronous invocation ----------------------------------------------------------------

  /** Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s); null when none matches. */
  private CompletionStage<HttpResponse> eventInvokeConfig(HttpRequest request, String path, HttpMethod method) {
    String[] parts = path.substring(EVENT_CONFIG_FUNCTIONS.length()).split("/", -1);
    if (parts.length < 2 || !parts[1].equals("event-invoke-config")) {
      return null;
    }
    String name = decode(parts[0]);
    String qualifier = query(request, "Qualifier");
    if (parts.length == 3 && parts[2].equals("list") && method == HttpMethods.GET) {
      discard(request);
      return eventConfigs.list(name, query(request, "Marker"), intQuery(request, "MaxItems"))
          .thenApply(n -> json(200, n));
    }
    if (parts.length != 2) {
      return null;
    }
    if (method == HttpMethods.PUT || method == HttpMethods.POST) {
      boolean update = method == HttpMethods.POST;
      return body(request, 1024 * 1024, update ? "UpdateFunctionEventInvokeConfig" : "PutFunctionEventInvokeConfig")
          .thenCompose(b -> eventConfigs.put(name, qualifier, jsonBody(b), update))
          .thenApply(n -> json(200, n));
    }
    if (method == HttpMethods.GET) {
      discard(request);
      return eventConfigs.get(name, qualifier).thenApply(n -> json(200, n));
    }
    if (method == HttpMethods.DELETE) {
      discard(request);
      return eventConfigs.delete(name, qualifier).thenApply(v -> HttpResponse.create().withStatus(204));
    }
    return null;
  }

  /** Create/Get/Update/Delete/ListEventSourceMapping(s); null when none matches. */
  private CompletionStage<HttpResponse> mappings(HttpRequest request, String path, HttpMethod method) {
    if (path.equals(MAPPINGS)) {
      if (method == HttpMethods.POST) {
        return body(request, 1024 * 1024, "CreateEventSourceMapping")
            .thenCompose(b -> mappings.create(jsonBody(b))).thenApply(n -> json(202, n));
      }
      if (method == HttpMethods.GET) {
        discard(request);
        return mappings.list(query(request, "EventSourceArn"), query(request, "FunctionName"),
            query(request, "Marker"), intQuery(request, "MaxItems")).thenApply(n -> json(200, n));
      }
      return null;
    }
    String uuid = decode(path.substring(MAPPINGS.length() + 1));
    if (method == HttpMethods.GET) {
      discard(request);
      return mappings.get(uuid).thenApply(n -> json(200, n));
    }
    if (method == HttpMethods.PUT) {
      return body(request, 1024 * 1024, "UpdateEventSourceMapping")
          .thenCompose(b -> mappings.update(uuid, jsonBody(b))).thenApply(n -> json(202, n));
    }
    if (method == HttpMethods.DELETE) {
      discard(request);
      return mappings.delete(uuid).thenApply(n -> json(202, n));
    }
    return null;
  }

  // ---- Layers ---------------------------------------------------------------------------------

  /** The layer operations, or null when none matches (the caller answers 404). */
  private CompletionStage<HttpResponse> layers(HttpRequest request, String path, HttpMethod method) {
    LayerService layers = functions.layers();
    if (path.equals(LAYERS) && method == HttpMethods.GET) {
      discard(request);
      if ("LayerVersion".equals(query(request, "find"))) {
        return layers.getByArn(query(request, "Arn"))
            .thenApply(v -> json(200, json.layerVersion(v, codeLocation(request, v.codeSha256Hex()))));
      }
      return layers.list(query(request, "CompatibleRuntime"), query(request, "CompatibleArchitecture"),
          query(request, "Marker"), intQuery(request, "MaxItems")).thenApply(page -> json(200, page("Layers",
              page.nextMarker(), page.latestMatching(), v -> {
                ObjectNode item = FunctionJson.MAPPER.createObjectNode();
                item.put("LayerName", v.layerName());
                item.put("LayerArn", json.layerArn(v.layerName()));
                item.set("LatestMatchingVersion", json.layerVersionItem(v));
                return item;
              })));
    }
    String[] parts = path.substring(Math.min(path.length(), LAYERS.length() + 1)).split("/", -1);
    if (parts.length < 2 || !parts[1].equals("versions")) {
      return null;
    }
    String name = decode(parts[0]);
    if (parts.length == 2 && method == HttpMethods.POST) {
      return body(request, settings.maxCreateRequestBytes(), "PublishLayerVersion")
          .thenCompose(b -> layers.publish(name, jsonBody(b)))
          .thenApply(v -> json(201, json.layerVersion(v, codeLocation(request, v.codeSha256Hex()))));
    }
    if (parts.length == 2 && method == HttpMethods.GET) {
      discard(request);
      return layers.listVersions(name, query(request, "CompatibleRuntime"), query(request, "CompatibleArchitecture"),
          query(request, "Marker"), intQuery(request, "MaxItems"))
          .thenApply(page -> json(200, page("LayerVersions", page.nextMarker(), page.versions(), json::layerVersionItem)));
    }
    if (parts.length == 3 && method == HttpMethods.GET) {
      discard(request);
      return layers.get(name, parts[2])
          .thenApply(v -> json(200, json.layerVersion(v, codeLocation(request, v.codeSha256Hex()))));
    }
    if (parts.length == 3 && method == HttpMethods.DELETE) {
      discard(request);
      return layers.delete(name, parts[2]).thenApply(v -> HttpResponse.create().withStatus(204));
    }
    if (parts.length >= 4 && parts[3].equals("policy")) {
      return layerPolicy(request, method, layers, name, parts);
    }
    return null;
  }

  /** Add/Get/RemoveLayerVersionPermission on {@code …/versions/{n}/policy[/{sid}]}. */
  private CompletionStage<HttpResponse> layerPolicy(HttpRequest request, HttpMethod method, LayerService layers,
      String name, String[] parts) {
    String version = parts[2];
    String versionArn = settings.layerArnPrefix() + name.substring(name.lastIndexOf(':') + 1) + ":" + version;
    String revision = query(request, "RevisionId");
    if (parts.length == 4 && method == HttpMethods.POST) {
      return body(request, 1024 * 1024, "AddLayerVersionPermission")
          .thenCompose(b -> layers.addPermission(name, version, jsonBody(b), revision))
          .thenApply(policy -> {
            ObjectNode root = FunctionJson.MAPPER.createObjectNode();
            root.put("Statement", json.layerStatement(versionArn,
                policy.statements().get(policy.statements().size() - 1)).toString());
            root.put("RevisionId", policy.revisionId());
            return json(201, root);
          });
    }
    if (parts.length == 4 && method == HttpMethods.GET) {
      discard(request);
      return layers.policy(name, version).thenApply(policy -> {
        ObjectNode root = FunctionJson.MAPPER.createObjectNode();
        root.put("Policy", json.layerPolicy(versionArn, policy).toString());
        root.put("RevisionId", policy.revisionId());
        return json(200, root);
      });
    }
    if (parts.length == 5 && method == HttpMethods.DELETE) {
      discard(request);
      return layers.removePermission(name, version, decode(parts[4]), revision)
          .thenApply(v -> HttpResponse.create().withStatus(204));
    }
    return null;
  }

  /**
   * Where a client can download a stored package (GetFunction's and layers' {@code Location}):
   * presigned with the caller's key, like AWS's links, so a plain GET works for 10 minutes.
   */
  private String codeLocation(HttpRequest request, String sha256Hex) {
    String url = "http://" + reachableHost(request) + ":" + boundPort + "/lamina/code/" + sha256Hex + ".zip";
    return auth == null ? url : auth.presign(request, url);
  }

  // ---- Invoke ---------------------------------------------------------------------------------

  private CompletionStage<HttpResponse> invoke(HttpRequest request, String name, String qualifier) {
    InvokeService.Options options = new InvokeService.Options(
        header(request, "X-Amz-Invocation-Type").orElse("RequestResponse"),
        header(request, "X-Amz-Log-Type").map("Tail"::equals).orElse(false),
        header(request, "X-Amz-Client-Context").orElse(null),
        header(request, "X-Amzn-Trace-Id").orElse(null));
    long limit = settings.maxSyncPayloadBytes();
    return body(request, limit, null).thenCompose(payload -> invoker.invoke(name, qualifier, payload, options))
        .thenApply(result -> {
          if (result == null) {
            return HttpResponse.create().withStatus(204);
          }
          if (result.refused()) {
            throw new CompletionException(new LambdaError(LambdaError.Code.valueOf(result.errorCode()),
                result.errorMessage(), result.errorReason()));
          }
          if (result.payload() == null) {
            // An Event invocation: accepted, in the journal.
            return HttpResponse.create().withStatus(202)
                .addHeader(RawHeader.create("x-amzn-RequestId", result.requestId()));
          }
          return invokeResponse(result);
        });
  }

  private static HttpResponse invokeResponse(InvocationResult result) {
    HttpResponse response = HttpResponse.create().withStatus(200)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, result.payload()))
        .addHeader(RawHeader.create("X-Amz-Executed-Version", result.executedVersion()))
        .addHeader(RawHeader.create("x-amzn-RequestId", result.requestId()));
    if (result.functionError()) {
      response = response.addHeader(RawHeader.create("X-Amz-Function-Error", "Unhandled"));
    }
    if (result.logResult() != null) {
      response = response.addHeader(RawHeader.create("X-Amz-Log-Result", result.logResult()));
    }
    return response;
  }

  // ---- Lamina's own endpoints ---------------------------------------------------------------

  private CompletionStage<HttpResponse> logsResponse(String function, HttpRequest request) {
    String given = query(request, "offset");
    long offset;
    try {
      offset = given == null ? 0 : Long.parseLong(given);
    } catch (NumberFormatException e) {
      offset = -1;
    }
    if (offset < 0) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + given
          + "' at 'offset' failed to satisfy constraint: Member must be a number greater than or equal to 0");
    }
    long from = offset;
    return supply(() -> {
      try {
        LogStore.Chunk chunk = logs.read(function, from, 1024 * 1024);
        return HttpResponse.create().withStatus(200)
            .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, chunk.text()))
            .addHeader(RawHeader.create("X-Lamina-Next-Offset", Long.toString(chunk.nextOffset())));
      } catch (IOException e) {
        throw new CompletionException(e);
      }
    });
  }

  private CompletionStage<HttpResponse> codeResponse(String hex) {
    CodeDigest digest;
    try {
      digest = new CodeDigest(hex);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(error(404, "ResourceNotFoundException", "Message",
          "The resource you requested does not exist.", true));
    }
    return supply(() -> {
      java.util.Optional<byte[]> zip;
      try {
        zip = code.zip(digest);   // from this node's disk or from Cassandra, whichever the profile uses
      } catch (IOException e) {
        throw new CompletionException(e);
      }
      return zip.map(bytes -> HttpResponse.create().withStatus(200).withEntity(HttpEntities.create(
              org.apache.pekko.http.javadsl.model.ContentTypes.APPLICATION_OCTET_STREAM, bytes)))
          .orElseGet(() -> error(404, "ResourceNotFoundException", "Message",
              "The resource you requested does not exist.", true));
    });
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /**
   * The request body, strictly, refusing more than {@code limit} bytes with the operation's 413
   * (Invoke when {@code operation} is null).
   */
  private CompletionStage<ByteString> body(HttpRequest request, long limit, String operation) {
    LambdaError tooLarge = new LambdaError(LambdaError.Code.RequestEntityTooLargeException,
        "Request must be smaller than " + limit + " bytes for the "
            + (operation == null ? "InvokeFunction" : operation) + " operation");
    if (request.entity().getContentLengthOption().orElse(0L) > limit) {
      // Drain first: answering before the body is read makes the server close the connection,
      // and the client would report a broken pipe instead of the 413.
      return request.discardEntityBytes(mat).completionStage()
          .thenCompose(done -> CompletableFuture.failedFuture(tooLarge));
    }
    if (request.entity() instanceof HttpEntity.Strict strict) {
      // Small bodies arrive whole: no stream to drain and no thread hop on the invoke path.
      return CompletableFuture.completedFuture(strict.getData());
    }
    // A body that stalls, or trickles in for longer than any real upload takes, is cut off.
    return request.entity().withSizeLimit(limit).getDataBytes()
        .idleTimeout(timeouts.bodyStall())
        .completionTimeout(timeouts.body())
        .runFold(ByteString.emptyByteString(), ByteString::concat, mat)
        .exceptionally(failure -> {
          Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
          if (cause instanceof EntityStreamSizeException) {
            throw tooLarge;
          }
          if (cause instanceof TimeoutException) {
            throw new Refusal(408, "RequestTimeoutException", "The request body did not arrive in time: nothing for "
                + timeouts.bodyStall().toSeconds() + " s, or more than " + timeouts.body().toSeconds() + " s in all.");
          }
          if (cause instanceof EntityStreamException) {
            throw new Refusal(400, "ValidationException", "The request body ended before its declared length.");
          }
          throw new CompletionException(cause);
        });
  }

  private static JsonNode jsonBody(ByteString body) {
    if (body.isEmpty()) {
      return FunctionJson.MAPPER.createObjectNode();
    }
    try {
      JsonNode node = FunctionJson.MAPPER.readTree(body.toArrayUnsafe());
      if (node == null || !node.isObject()) {
        throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
            "Could not parse request body into json: the body must be a JSON object");
      }
      return node;
    } catch (IOException e) {
      throw new LambdaError(LambdaError.Code.InvalidRequestContentException,
          "Could not parse request body into json: " + FunctionJson.parseProblem(e));
    }
  }

  private CompletionStage<HttpResponse> supply(Supplier<HttpResponse> work) {
    return CompletableFuture.supplyAsync(work, blocking);
  }

  private void discard(HttpRequest request) {
    request.discardEntityBytes(mat);
  }

  private static Optional<String> header(HttpRequest request, String name) {
    return request.getHeader(name).map(h -> h.value());
  }

  private static String query(HttpRequest request, String name) {
    return request.getUri().query().get(name).orElse(null);
  }

  private static Integer intQuery(HttpRequest request, String name) {
    String v = query(request, name);
    if (v == null) {
      return null;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + v
          + "' at '" + Character.toLowerCase(name.charAt(0)) + name.substring(1) + "' failed to satisfy constraint: "
          + "Member must be a number");
    }
  }

  private static String decode(String segment) {
    return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static HttpResponse json(int status, JsonNode body) {
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()));
  }

  // ---- errors ----------------------------------------------------------------------------------

  private static HttpResponse errorResponse(Throwable failure, String requestId) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof java.util.concurrent.ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof LambdaError e) {
      return lambdaError(e);
    }
    if (cause instanceof Refusal r) {
      return error(r.status, r.type, "message", r.getMessage(), true);
    }
    log.error("request {} failed", requestId, cause);
    return error(500, "ServiceException", "Message", "An internal error occurred. RequestId: " + requestId, false);
  }

  static HttpResponse lambdaError(LambdaError e) {
    return switch (e.code()) {
      case ResourceNotFoundException -> error(404, e.code().name(), "Message", e.getMessage(), true);
      case ProvisionedConcurrencyConfigNotFoundException -> error(404, e.code().name(), "message", e.getMessage(), true);
      case ResourceConflictException -> error(409, e.code().name(), "message", e.getMessage(), true);
      case InvalidParameterValueException, InvalidRequestContentException ->
          error(400, e.code().name(), "message", e.getMessage(), true);
      case ValidationException -> error(400, e.code().name(), "message", e.getMessage(), false);
      case RequestEntityTooLargeException -> error(413, e.code().name(), "message", e.getMessage(), true);
      case PreconditionFailedException -> error(412, e.code().name(), "message", e.getMessage(), true);
      case UnsupportedMediaTypeException -> error(415, e.code().name(), "message", e.getMessage(), true);
      case AccessDeniedException -> error(403, e.code().name(), "Message", e.getMessage(), false);
      case TooManyRequestsException -> throttled(e);
      case ServiceException -> error(500, e.code().name(), "Message", e.getMessage(), false);
    };
  }

  private static HttpResponse throttled(LambdaError e) {
    ObjectNode body = FunctionJson.MAPPER.createObjectNode();
    if (e.reason() != null) {
      body.put("Reason", e.reason());
    }
    body.put("Type", "User");
    body.put("message", e.getMessage());
    return json(429, body)
        .addHeader(RawHeader.create("x-amzn-ErrorType", e.code().name()))
        .addHeader(RawHeader.create("Retry-After", "1"));
  }

  /** A client error of the HTTP exchange itself (no Lambda operation has one): status, type, message. */
  private static final class Refusal extends RuntimeException {
    final int status;
    final String type;

    Refusal(int status, String type, String message) {
      super(message, null, false, false);
      this.status = status;
      this.type = type;
    }
  }

  static HttpResponse error(int status, String code, String messageKey, String message, boolean user) {
    ObjectNode body = FunctionJson.MAPPER.createObjectNode();
    if (status == 500) {
      body.put("Type", "Service");
    } else if (user) {
      body.put("Type", "User");
    }
    body.put(messageKey, message);
    return json(status, body).addHeader(RawHeader.create("x-amzn-ErrorType", code));
  }
}
