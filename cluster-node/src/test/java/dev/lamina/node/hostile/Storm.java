package dev.lamina.node.hostile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lamina.node.testing.RawHttp;
import dev.lamina.persistence.code.TestZips;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.Supplier;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * Malformed requests for every route of the node's Lambda API, Lamina's own endpoints and the SQS
 * API, drawn from one seeded generator. Names of what the fuzz test keeps out of the storm
 * ({@link #KEEP}, {@link #KEEP_QUEUE}, {@link #KEEP_LAYER}) are never generated, so whatever a
 * mutation that happens to be valid does, it cannot touch them legitimately.
 */
final class Storm {

  static final String KEEP = "fz-keep";
  static final String SACRIFICE = "fz-sac";
  static final String KEEP_QUEUE = "fz-keep-q";
  static final String SACRIFICE_QUEUE = "fz-sac-q";
  static final String KEEP_LAYER = "fz-keep-layer";
  static final String ROLE = "arn:aws:iam::000000000000:role/fuzz";
  static final String ACCOUNT = "000000000000";

  static final byte[] ECHO_ZIP = TestZips.zip(Map.of("app.py", "def handler(event, context):\n    return event\n"), 0);
  static final byte[] LAYER_ZIP = TestZips.zip(Map.of("python/kept.py", "KEPT = True\n"), 0);

  /** One request and what the checks need to know about it. */
  record Shot(RawHttp.Request request, String what, boolean sqs, boolean createsFunction) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
      "FOO", "get", "PROPFIND", "M-SEARCH", "GÉT", "G\tET", "POST /x", "CONNECT"};
  private static final String[] HOSTILE = {"", " ", "\u0000", "\u202e", "😀", "ä", "a".repeat(300),
      "../../../etc/passwd", "..", "%00", "%", "%zz", "\\", "${jndi:ldap://x/a}", "<script>", "' OR '1'='1",
      "arn:aws:lambda:us-east-1:000000000000:function:", "::::", "$LATEST", "-1", "0", "9223372036854775808",
      "1e400", "NaN", "null", "true", "\r\nX-Injected: 1", "fz-sac:$LATEST:1", "fz-sac::", "x".repeat(65),
      "arn:aws:lambda:eu-west-1:111111111111:function:fz-sac", "000000000000:function:fz-sac:1",
      "arn:aws:lambda:us-east-1:000000000000:function:fz-sac:live", "arn:aws:sqs:us-east-1:000000000000:",
      "arn:aws:lambda:us-east-1:000000000000:layer:x:1", "\uD800", "/", "?", "#", "&", "="};
  private static final String[] SQS_OPERATIONS = {"CreateQueue", "GetQueueUrl", "ListQueues", "DeleteQueue",
      "GetQueueAttributes", "SetQueueAttributes", "PurgeQueue", "SendMessage", "SendMessageBatch", "ReceiveMessage",
      "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch",
      "StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask", "ListDeadLetterSourceQueues",
      "ListQueueTags", "TagQueue", "Unknown", "", "createqueue"};
  private static final String[] QUERY_NAMES = {"Qualifier", "MaxItems", "Marker", "FunctionVersion", "find", "Arn",
      "List", "CompatibleRuntime", "CompatibleArchitecture", "EventSourceArn", "FunctionName", "RevisionId",
      "offset", "junk"};

  private final Random rnd;
  private final int port;
  private final List<byte[]> zips = new ArrayList<>();
  private final List<Supplier<Shot>> routes = new ArrayList<>();
  private int counter;

  Storm(long seed, int port) {
    this.rnd = new Random(seed);
    this.port = port;
    zips.add(ECHO_ZIP);
    zips.add(TestZips.deflatedZeros("zeros.bin", 100L << 20));                   // ratio bomb
    zips.add(TestZips.deflatedZeros("zeros.bin", 300_000_000L));                 // over 250 MB, declared honestly
    zips.add(TestZips.withCentralField(TestZips.deflatedZeros("z.bin", 300_000_000L), "z.bin", 24, 4, 100));  // lying
    zips.add(TestZips.zip(orderedMap("app.py", "x = 1\n", "../escaped.py", "x = 2\n"), 0));
    zips.add(TestZips.zip(orderedMap("app.py", "x = 1\n", "/tmp/absolute.py", "x = 2\n"), 0));
    zips.add(TestZips.zip(orderedMap("app.py", "x = 1\n", "C:/windows.py", "x = 2\n"), 0));
    zips.add(TestZips.zip(orderedMap("link", "../../../../etc/passwd"), 0120777));
    zips.add(java.util.Arrays.copyOf(ECHO_ZIP, ECHO_ZIP.length / 2));           // truncated
    zips.add("PK\u0003\u0004 not really".getBytes(StandardCharsets.ISO_8859_1));
    zips.add(new byte[0]);
    routes();
  }

  Shot next() {
    return routes.get(rnd.nextInt(routes.size())).get();
  }

  // ---- the routes -----------------------------------------------------------------------------

  private void routes() {
    String f = "/2015-03-31/functions";
    lambda("CreateFunction", "POST", () -> f, this::createFunction, true);
    lambda("ListFunctions", "GET", () -> f, () -> null, false);
    lambda("GetFunction", "GET", () -> f + "/" + fn(), () -> null, false);
    lambda("DeleteFunction", "DELETE", () -> f + "/" + fn(), () -> null, false);
    lambda("GetFunctionConfiguration", "GET", () -> f + "/" + fn() + "/configuration", () -> null, false);
    lambda("UpdateFunctionConfiguration", "PUT", () -> f + "/" + fn() + "/configuration", this::configuration, false);
    lambda("UpdateFunctionCode", "PUT", () -> f + "/" + fn() + "/code", this::code, false);
    routes.add(this::invoke);
    lambda("PublishVersion", "POST", () -> f + "/" + fn() + "/versions",
        () -> obj("Description", "v", "CodeSha256", pick("x", null, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")),
        false);
    lambda("ListVersionsByFunction", "GET", () -> f + "/" + fn() + "/versions", () -> null, false);
    lambda("CreateAlias", "POST", () -> f + "/" + fn() + "/aliases", this::alias, false);
    lambda("ListAliases", "GET", () -> f + "/" + fn() + "/aliases", () -> null, false);
    lambda("GetAlias", "GET", () -> f + "/" + fn() + "/aliases/" + name(), () -> null, false);
    lambda("UpdateAlias", "PUT", () -> f + "/" + fn() + "/aliases/" + name(), this::alias, false);
    lambda("DeleteAlias", "DELETE", () -> f + "/" + fn() + "/aliases/" + name(), () -> null, false);
    String e = "/2019-09-25/functions/";
    lambda("PutFunctionEventInvokeConfig", "PUT", () -> e + fn() + "/event-invoke-config", this::eventConfig, false);
    lambda("UpdateFunctionEventInvokeConfig", "POST", () -> e + fn() + "/event-invoke-config", this::eventConfig,
        false);
    lambda("GetFunctionEventInvokeConfig", "GET", () -> e + fn() + "/event-invoke-config", () -> null, false);
    lambda("DeleteFunctionEventInvokeConfig", "DELETE", () -> e + fn() + "/event-invoke-config", () -> null, false);
    lambda("ListFunctionEventInvokeConfigs", "GET", () -> e + fn() + "/event-invoke-config/list", () -> null, false);
    String m = "/2015-03-31/event-source-mappings";
    lambda("CreateEventSourceMapping", "POST", () -> m, this::mapping, false);
    lambda("ListEventSourceMappings", "GET", () -> m, () -> null, false);
    lambda("GetEventSourceMapping", "GET", () -> m + "/" + uuid(), () -> null, false);
    lambda("UpdateEventSourceMapping", "PUT", () -> m + "/" + uuid(), this::mapping, false);
    lambda("DeleteEventSourceMapping", "DELETE", () -> m + "/" + uuid(), () -> null, false);
    // Provisioned concurrency only for functions that do not exist: a valid one would start sandboxes.
    String p = "/2019-09-30/functions/";
    lambda("PutProvisionedConcurrencyConfig", "PUT", () -> p + absent() + "/provisioned-concurrency",
        () -> obj("ProvisionedConcurrentExecutions", pick(1, -1, 0, 100000, "x", 1e300)), false);
    lambda("GetProvisionedConcurrencyConfig", "GET", () -> p + fn() + "/provisioned-concurrency", () -> null, false);
    lambda("DeleteProvisionedConcurrencyConfig", "DELETE", () -> p + fn() + "/provisioned-concurrency", () -> null,
        false);
    lambda("PutFunctionConcurrency", "PUT", () -> "/2017-10-31/functions/" + fn() + "/concurrency",
        () -> obj("ReservedConcurrentExecutions", pick(10, -1, 0, 5000, "ten", 2.5, null)), false);
    lambda("DeleteFunctionConcurrency", "DELETE", () -> "/2017-10-31/functions/" + fn() + "/concurrency",
        () -> null, false);
    lambda("GetFunctionConcurrency", "GET", () -> p + fn() + "/concurrency", () -> null, false);
    String l = "/2018-10-31/layers";
    lambda("ListLayers/GetLayerVersionByArn", "GET", () -> l, () -> null, false);
    lambda("PublishLayerVersion", "POST", () -> l + "/" + layer() + "/versions", this::layerContent, false);
    lambda("ListLayerVersions", "GET", () -> l + "/" + layer() + "/versions", () -> null, false);
    lambda("GetLayerVersion", "GET", () -> l + "/" + layer() + "/versions/" + version(), () -> null, false);
    lambda("DeleteLayerVersion", "DELETE", () -> l + "/" + layer() + "/versions/" + version(), () -> null, false);
    lambda("AddLayerVersionPermission", "POST", () -> l + "/" + layer() + "/versions/" + version() + "/policy",
        () -> obj("StatementId", pick("s1", "bad id!", ""), "Action", pick("lambda:GetLayerVersion", "lambda:*"),
            "Principal", pick("*", "123456789012", "nobody")), false);
    lambda("GetLayerVersionPolicy", "GET", () -> l + "/" + layer() + "/versions/" + version() + "/policy",
        () -> null, false);
    lambda("RemoveLayerVersionPermission", "DELETE",
        () -> l + "/" + layer() + "/versions/" + version() + "/policy/" + name(), () -> null, false);
    lambda("GetAccountSettings", "GET", () -> "/2016-08-19/account-settings", () -> null, false);
    lambda("TagResource", "POST", () -> "/2017-03-31/tags/" + enc("arn:aws:lambda:us-east-1:000000000000:function:"
        + SACRIFICE), () -> obj("Tags", obj("a", "b")), false);
    lambda("InvokeAsync", "POST", () -> "/2014-11-13/functions/" + fn() + "/invoke-async", () -> obj("a", 1), false);
    lambda("health", "GET", () -> pick("/health", "/ready", "/metrics", "/"), () -> null, false);
    lambda("logs", "GET", () -> "/lamina/logs/" + pick(SACRIFICE, name(), enc("../../etc/passwd"), "%2e%2e%2f"),
        () -> null, false);
    lambda("code", "GET", () -> "/lamina/code/" + pick(hex(), "zz", enc("../blobs/x"), "") + ".zip", () -> null,
        false);
    lambda("unknown", "GET", () -> pick("/2015-03-31", "/2015-03-31/functions/x/y/z/w", "/2020-01-01/functions",
        "/lamina", "/lamina/other", "/favicon.ico", "/2015-03-31/functions//", "//", "/*"), () -> null, false);
    for (int i = 0; i < 4; i++) {
      routes.add(this::sqs);   // SQS has ~20 operations behind one route
    }
    routes.add(this::garbage);
  }

  /** A Lambda route: usually its own method, sometimes another; body and query and headers mutated. */
  private void lambda(String what, String method, Supplier<String> path, Supplier<Object> body, boolean creates) {
    routes.add(() -> {
      String m = rnd.nextInt(10) < 8 ? method : pick(METHODS);
      String target = path.get();
      RawHttp.Request r = new RawHttp.Request(m, target);
      queries(r);
      headers(r, "application/json");
      Object template = body.get();
      String mutation = template == null && rnd.nextInt(3) > 0 ? "none" : mutate(r, template);
      return new Shot(r, what + "/" + mutation, false, creates && m.equals("POST"));
    });
  }

  // ---- bodies -------------------------------------------------------------------------------

  private Object createFunction() {
    ObjectNode n = obj("FunctionName", often("fz-c-" + (counter++ % 40), name(), SACRIFICE, "fz-c-" + rnd.nextInt(1000)),
        "Runtime", often("python3.12", "python2.7", "cobol", "provided.al2023", null, 3),
        "Role", often(ROLE, "r1", null), "Handler", often("app.handler", "", " ", null, "a".repeat(200)),
        "Code", obj("ZipFile", zip()), "Timeout", often(3, 0, 901, -5, "3", 1e10), "MemorySize",
        often(128, 127, 10241, 3e9), "Environment", obj("Variables", often(obj("KEY", "b"), obj("AWS_REGION", "x"),
            obj("KEY", "x".repeat(5000)), "nope", null)));
    if (rnd.nextInt(4) == 0) {
      n.set("Layers", JSON.valueToTree(List.of(often("arn:aws:lambda:us-east-1:000000000000:layer:fz-l-1:1",
          "nope", "arn:aws:lambda:us-east-1:000000000000:layer:" + KEEP_LAYER + ":9"))));
    }
    return n;
  }

  private Object configuration() {
    return obj("Timeout", often(5, 0, 901, "x"), "Description", often("d", "x".repeat(300)), "MemorySize",
        often(256, 1, null), "Environment", obj("Variables", often(obj("OTHER", "c"), "x", obj("1BAD", "v"))),
        "RevisionId", often(null, "nope"), "Handler", often("app.handler", null, ""));
  }

  private Object code() {
    return obj("ZipFile", zip(), "Publish", often(false, "yes", 1), "RevisionId", often(null, "x"),
        "S3Bucket", often(null, "b"));
  }

  private Object alias() {
    return obj("Name", name(), "FunctionVersion", often("$LATEST", "1", "99", "", "x"), "RoutingConfig",
        often(null, obj("AdditionalVersionWeights", obj(often("1", "2", "x"), often(0.5, 2.0, -1, "half"))),
            obj("AdditionalVersionWeights", "x")));
  }

  private Object eventConfig() {
    return obj("MaximumRetryAttempts", often(1, 3, -1, "x"), "MaximumEventAgeInSeconds", often(60, 59, 21601, 1e20),
        "DestinationConfig", often(null, obj("OnFailure", obj("Destination", often(
            "arn:aws:sqs:us-east-1:000000000000:" + SACRIFICE_QUEUE, "arn:aws:sqs:us-east-1:000000000000:nope",
            "x", null))), "x"));
  }

  private Object mapping() {
    return obj("EventSourceArn", often("arn:aws:sqs:us-east-1:000000000000:" + SACRIFICE_QUEUE,
            "arn:aws:kinesis:us-east-1:000000000000:stream/x", "x", null),
        "FunctionName", often(SACRIFICE, name(), null), "BatchSize", often(10, 0, 10001, "x"),
        "Enabled", often(false, "no"), "MaximumBatchingWindowInSeconds", often(0, 301, -1),
        "FunctionResponseTypes", often(null, List.of("ReportBatchItemFailures"), List.of("x"), "x"));
  }

  private Object layerContent() {
    return obj("Content", often(obj("ZipFile", zip()), obj("S3Bucket", "b", "S3Key", "k"), "x", null),
        "CompatibleRuntimes", often(List.of("python3.12"), List.of("cobol"), "x", null),
        "CompatibleArchitectures", often(List.of("x86_64"), List.of("mips")), "LicenseInfo", often("MIT", "x".repeat(600)));
  }

  /** A ZipFile value: a package (good, bomb, escaping, broken) in base64, or not base64 at all. */
  private Object zip() {
    int r = rnd.nextInt(10);
    if (r < 4) {
      return Base64.getEncoder().encodeToString(ECHO_ZIP);
    }
    if (r < 8) {
      return Base64.getEncoder().encodeToString(zips.get(rnd.nextInt(zips.size())));
    }
    return pick("!!!", "a", "====", "QUJD", 12, List.of(1), "PK" + "A".repeat(100));
  }

  // ---- Invoke ---------------------------------------------------------------------------------

  private Shot invoke() {
    String m = rnd.nextInt(10) < 8 ? "POST" : pick(METHODS);
    RawHttp.Request r = new RawHttp.Request(m, "/2015-03-31/functions/" + fn() + "/invocations");
    queries(r);
    headers(r, pick("application/json", "binary/octet-stream", ""));
    if (rnd.nextBoolean()) {
      r.header("X-Amz-Invocation-Type", pick("RequestResponse", "Event", "DryRun", "event", "Sync", ""));
    }
    if (rnd.nextInt(4) == 0) {
      r.header("X-Amz-Log-Type", pick("Tail", "None", "tail", "x"));
    }
    if (rnd.nextInt(4) == 0) {
      r.header("X-Amz-Client-Context", pick(Base64.getEncoder().encodeToString("{\"custom\":{}}".getBytes()),
          "%%%", "not base64", "A".repeat(4000), Base64.getEncoder().encodeToString("not json".getBytes())));
    }
    String mutation = mutate(r, pick(obj("a", 1), List.of(1, 2), "text", 42, null));
    return new Shot(r, "Invoke/" + mutation, false, false);
  }

  // ---- SQS ------------------------------------------------------------------------------------

  private Shot sqs() {
    String op = pick(SQS_OPERATIONS);
    RawHttp.Request r = new RawHttp.Request(rnd.nextInt(10) < 9 ? "POST" : pick(METHODS), pick("/", "/", "/", "/x"))
        .service("sqs");
    r.header("X-Amz-Target", rnd.nextInt(20) == 0 ? pick("AmazonSQS.", "AmazonSQS", "AmazonSQS.SendMessage\u0000",
        "Other." + op) : "AmazonSQS." + op);
    r.header("Content-Type", pick("application/x-amz-json-1.0", "application/x-amz-json-1.0", "application/json",
        "text/plain", "x/y; charset=ebcdic"));
    String queue = "http://127.0.0.1:" + port + "/" + ACCOUNT + "/" + pick(SACRIFICE_QUEUE, "nope", name(), "");
    String arn = "arn:aws:sqs:us-east-1:" + ACCOUNT + ":" + pick(SACRIFICE_QUEUE, "nope", name());
    Object body = switch (op) {
      case "CreateQueue" -> obj("QueueName", often("fz-q-" + rnd.nextInt(20), name(), "x.fifo"), "Attributes",
          often(null, obj("VisibilityTimeout", often("30", "-1", "x")), obj("RedrivePolicy", often("{", "{\"deadLetterTargetArn\":\""
              + arn + "\",\"maxReceiveCount\":\"x\"}", "[]")), obj("Bogus", "1"), "x"));
      case "SendMessage" -> obj("QueueUrl", queue, "MessageBody", often("hello", "", "\u0000", "x".repeat(300_000)),
          "DelaySeconds", often(0, 901, -1, "x"), "MessageAttributes", often(null, obj("a", obj("DataType", "String",
              "StringValue", "v")), obj("a", obj("DataType", "Bogus")), obj("", "x"), "x"));
      case "SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch" -> obj("QueueUrl", queue,
          "Entries", often(List.of(obj("Id", "a", "MessageBody", "x", "ReceiptHandle", "h", "VisibilityTimeout", 5)),
              List.of(), List.of(obj("Id", "a"), obj("Id", "a")), List.of(obj("Id", "bad id!")), "x", null,
              java.util.Collections.nCopies(11, obj("Id", "a", "MessageBody", "x"))));
      case "ReceiveMessage" -> obj("QueueUrl", queue, "MaxNumberOfMessages", often(1, 10, 0, 11, "x"),
          "WaitTimeSeconds", often(0, -1, 21, "x"), "VisibilityTimeout", often(null, -1, 43201),
          "MessageAttributeNames", often(null, List.of("All"), "x"), "AttributeNames", often(null, List.of("All"), 5));
      case "DeleteMessage", "ChangeMessageVisibility" -> obj("QueueUrl", queue, "ReceiptHandle",
          often("bogus", "", null, "x".repeat(2000)), "VisibilityTimeout", often(0, 43201, -1, "x"));
      case "SetQueueAttributes", "GetQueueAttributes" -> obj("QueueUrl", queue, "Attributes", often(
          obj("VisibilityTimeout", often("60", "x", "-5")), obj("Unknown", "1"), "x", null), "AttributeNames",
          often(List.of("All"), List.of("Bogus"), "x", null));
      case "StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask" -> obj("SourceArn", arn,
          "DestinationArn", often(arn, "x", null), "TaskHandle", often("x", "", null), "MaxResults", often(1, 0, 11));
      case "ListQueues", "ListDeadLetterSourceQueues" -> obj("QueueNamePrefix", often("fz", "", null), "MaxResults",
          often(1, 1000, 0, 1001, "x"), "NextToken", often(null, "x", "%%%"), "QueueUrl", queue);
      default -> obj("QueueUrl", queue, "QueueName", name());
    };
    String mutation = mutate(r, body);
    return new Shot(r, "SQS " + op + "/" + mutation, true, false);
  }

  // ---- garbage at the HTTP level ----------------------------------------------------------------

  private Shot garbage() {
    int kind = rnd.nextInt(8);
    RawHttp.Request r;
    String what;
    switch (kind) {
      case 0 -> {
        StringBuilder path = new StringBuilder("/2015-03-31/functions/");
        for (int i = rnd.nextInt(40); i >= 0; i--) {
          path.append((char) rnd.nextInt(256));
        }
        r = new RawHttp.Request(pick(METHODS), "/").rawTarget(path.toString());
        what = "random bytes in the path";
      }
      case 1 -> {
        r = new RawHttp.Request("GET", "/2015-03-31/functions").rawTarget("/2015-03-31/functions?" + "a=b&".repeat(
            rnd.nextInt(2000)) + pick("%", "%zz", "MaxItems=%FF", "x=\u00ff"));
        what = "absurd query";
      }
      case 2 -> {
        r = new RawHttp.Request("GET", "/2015-03-31/functions/" + SACRIFICE).header("X-Big", "x".repeat(
            8000 + rnd.nextInt(20000)));
        what = "oversized header";
      }
      case 3 -> {
        r = new RawHttp.Request("GET", "/2015-03-31/functions");
        for (int i = 0; i < 60 + rnd.nextInt(100); i++) {
          r.header("X-H" + i, "v");
        }
        what = "many headers";
      }
      case 4 -> {
        r = new RawHttp.Request("GET", "/2015-03-31/functions").header(pick("X\u0000Y", "Bad Name", "ä", "X:Y", ""),
            pick("v", "\u0001\u0002", "ä", "\r\n\r\nGET / HTTP/1.1"));
        what = "malformed header";
      }
      case 5 -> {
        r = new RawHttp.Request("GET", "/" + "a".repeat(2000 + rnd.nextInt(10000)));
        what = "long URI";
      }
      case 6 -> {
        r = new RawHttp.Request("POST", "/2015-03-31/functions").body("{\"FunctionName\":\"x\"}")
            .contentLength(rnd.nextInt(5)).header("Content-Type", "application/json");
        what = "Content-Length shorter than the body";
      }
      default -> {
        r = new RawHttp.Request("POST", "/2015-03-31/functions").header("Transfer-Encoding", pick("gzip", "chunked, x",
            "identity")).body("{}");
        what = "odd transfer encoding";
      }
    }
    return new Shot(r, "HTTP/" + what, false, false);
  }

  // ---- mutations ---------------------------------------------------------------------------------

  /** Puts {@code template} (a JSON value, or null for no body) into {@code r}, mutated; returns how. */
  private String mutate(RawHttp.Request r, Object template) {
    JsonNode node = template == null ? null : JSON.valueToTree(template);
    int choice = rnd.nextInt(20) - 4;   // one in four stays valid
    String how;
    byte[] body;
    String text = node == null ? "" : node.toString();
    switch (choice) {
      case -4, -3, -2, -1, 0 -> {
        how = "valid";
        body = utf8(text);
      }
      case 3 -> {
        how = "truncated";
        body = utf8(text.substring(0, text.isEmpty() ? 0 : rnd.nextInt(text.length())));
      }
      case 4 -> {
        how = "flipped bytes";
        body = utf8(text);
        for (int i = 0; i < 1 + rnd.nextInt(5) && body.length > 0; i++) {
          body[rnd.nextInt(body.length)] = (byte) rnd.nextInt(256);
        }
      }
      case 5 -> {
        how = "wrong types";
        body = utf8(wrongTypes(node).toString());
      }
      case 6 -> {
        int depth = pick(100, 1_001, 10_000, 100_000);
        how = "nested " + depth;
        String open = pick("[", "{\"a\":");
        String close = open.equals("[") ? "]" : "}";
        body = utf8(open.repeat(depth) + "1" + close.repeat(depth));
      }
      case 7 -> {
        how = "huge string";
        body = utf8(withField(node, pick("FunctionName", "QueueUrl", "Description", "MessageBody", "x"),
            "x".repeat(pick(100_000, 1_100_000, 3_000_000))));
      }
      case 8 -> {
        how = "huge number";
        body = utf8(text.isEmpty() ? pick("1e400", "-1e400", "9".repeat(5000))
            : text.replaceFirst("(\"[A-Za-z]+\":)", "$1" + pick("1e400", "9".repeat(5000), "-0.0e-99999",
                "123456789012345678901234567890", "1" + "0".repeat(1100)) + ",$1"));
      }
      case 9 -> {
        how = "not UTF-8";
        body = concat(utf8(text.isEmpty() ? "\"" : text.substring(0, text.length() / 2)),
            new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF, (byte) 0x87, (byte) 0xED, (byte) 0xA0, (byte) 0x80},
            utf8(text.isEmpty() ? "\"" : text.substring(text.length() / 2)));
      }
      case 10 -> {
        how = "not an object";
        body = utf8(pick("", "null", "[]", "\"s\"", "1", "true", "{}", "{", "}", "{\"a\"}", "[1,]", "{\"a\":1}{}",
            "\ufeff{}", "{'a':1}", "{\"a\":NaN}"));
      }
      case 11 -> {
        how = "UTF-16";
        body = text.getBytes(StandardCharsets.UTF_16);
      }
      case 12 -> {
        how = "many keys";
        StringBuilder s = new StringBuilder("{");
        for (int i = 0; i < 20_000; i++) {
          s.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":").append(i);
        }
        body = utf8(s.append('}').toString());
      }
      case 13 -> {
        how = "long array";
        body = utf8("[" + "1,".repeat(pick(10_000, 400_000)) + "1]");
      }
      case 14 -> {
        how = "duplicate keys";
        body = utf8(text.length() > 2 ? text.substring(0, text.length() - 1) + "," + text.substring(1) : "{\"a\":1,\"a\":2}");
      }
      default -> {
        how = "random bytes";
        body = new byte[rnd.nextInt(2000)];
        rnd.nextBytes(body);
      }
    }
    r.body(body);
    return how;
  }

  private JsonNode wrongTypes(JsonNode node) {
    if (node == null || !node.isObject()) {
      return JSON.valueToTree(pick(List.of(), 1, "x", Map.of()));
    }
    ObjectNode copy = node.deepCopy();
    List<String> names = new ArrayList<>();
    copy.fieldNames().forEachRemaining(names::add);
    for (String name : names) {
      if (rnd.nextInt(3) == 0) {
        copy.set(name, JSON.valueToTree(pick(List.of(1, 2), Map.of("x", List.of()), 7, -1, 1.5, true, "str",
            new BigInteger("9".repeat(40)), "", null)));
      }
    }
    return copy;
  }

  private String withField(JsonNode node, String field, String value) {
    ObjectNode copy = node != null && node.isObject() ? node.deepCopy() : JSON.createObjectNode();
    copy.put(field, value);
    return copy.toString();
  }

  // ---- path, query and header values --------------------------------------------------------------

  /** A function name for a path: never {@link #KEEP}. */
  private String fn() {
    int r = rnd.nextInt(20);
    if (r < 7) {
      return SACRIFICE;
    }
    if (r < 10) {
      return "fz-c-" + rnd.nextInt(40);
    }
    if (r < 12) {
      return enc(SACRIFICE + ":" + pick("$LATEST", "1", "live", "0", "99999999999999999999", ""));
    }
    return enc(name());
  }

  /** A name that exists nowhere. */
  private String absent() {
    return rnd.nextBoolean() ? "fz-absent-" + rnd.nextInt(1000) : enc(name());
  }

  private String name() {
    return rnd.nextBoolean() ? pick(HOSTILE) : pick("live", "1", "$LATEST", "fz-x-" + rnd.nextInt(100), "a_b-c");
  }

  private String layer() {
    return rnd.nextBoolean() ? "fz-l-" + rnd.nextInt(5)
        : enc(pick(name(), "arn:aws:lambda:us-east-1:000000000000:layer:fz-l-1"));
  }

  private String version() {
    return enc(pick("1", "2", "0", "-1", "99999999999", "abc", "1.5", "", "$LATEST", "1e3"));
  }

  private String uuid() {
    return enc(pick(UUID.randomUUID().toString(), "not-a-uuid", name(), "00000000-0000-0000-0000-000000000000"));
  }

  private String hex() {
    byte[] b = new byte[32];
    rnd.nextBytes(b);
    return java.util.HexFormat.of().formatHex(b);
  }

  private void queries(RawHttp.Request r) {
    if (rnd.nextInt(3) == 0) {
      for (int i = rnd.nextInt(4); i >= 0; i--) {
        r.query(pick(QUERY_NAMES), pick("1", "-1", "0", "ALL", "LayerVersion", "x", "99999999999", "1e9", "",
            "$LATEST", "%", "arn:aws:lambda:us-east-1:000000000000:layer:fz-l-1:1", "a".repeat(1500), name()));
      }
    }
  }

  private void headers(RawHttp.Request r, String contentType) {
    if (rnd.nextInt(5) > 0) {
      r.header("Content-Type", rnd.nextInt(4) > 0 ? contentType
          : pick("text/plain", "application/xml", "x/y; charset=ebcdic", "multipart/form-data; boundary=x", "", "*"));
    }
    if (rnd.nextInt(10) == 0) {
      r.unsigned();
    }
    if (rnd.nextInt(15) == 0) {
      r.header("Expect", "100-continue");
    }
    if (rnd.nextInt(15) == 0) {
      r.header("Content-Encoding", pick("gzip", "br", "x"));
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static String enc(String s) {
    return SdkHttpUtils.urlEncode(s);
  }

  /** The first choice (a valid value, mostly) seven times in eight, else any other. */
  @SafeVarargs
  private <T> T often(T... choices) {
    return rnd.nextInt(8) > 0 || choices.length == 1 ? choices[0] : choices[1 + rnd.nextInt(choices.length - 1)];
  }

  @SafeVarargs
  private <T> T pick(T... choices) {
    return choices[rnd.nextInt(choices.length)];
  }

  /** An object of name/value pairs; null values are left out. */
  private static ObjectNode obj(Object... pairs) {
    ObjectNode n = JSON.createObjectNode();
    for (int i = 0; i < pairs.length; i += 2) {
      if (pairs[i + 1] != null) {
        n.set((String) pairs[i], JSON.valueToTree(pairs[i + 1]));
      }
    }
    return n;
  }

  private static Map<String, String> orderedMap(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
