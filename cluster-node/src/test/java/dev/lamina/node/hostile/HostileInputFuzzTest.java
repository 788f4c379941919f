package dev.lamina.node.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.Processes;
import dev.lamina.node.testing.RawHttp;
import dev.lamina.node.testing.TestNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * A storm of malformed requests against every route of the Lambda and SQS APIs of one real node
 * (loopback, raw HTTP, SigV4-signed where the request can be signed). Every answer must be a
 * well-formed AWS error (or a success, for the mutations that happen to be valid) without a stack
 * trace or a Java name, within a bound; afterwards the node serves, and what was stored before
 * (a function, its code, a layer, a queue's messages) is exactly as it was.
 *
 * <p>Seeded: the seed is printed; {@code -Dlamina.fuzz.seed=<n>} replays a run,
 * {@code -Dlamina.fuzz.requests} and {@code -Dlamina.fuzz.seconds} bound it (3000 requests, 150 s),
 * {@code -Dlamina.fuzz.debug=<text>} prints every exchange whose kind contains the text (e.g.
 * {@code CreateFunction/valid}).
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class HostileInputFuzzTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** The node as a user configures it once requests are authenticated. */
  static final String AUTH = "lamina.auth.credentials = [{access-key-id = \"lamina\", secret-access-key = \"lamina\"}]";
  private static final Duration RESPONSE_BOUND = Duration.ofSeconds(15);

  @Test
  void aStormOfMalformedRequestsGetsWellFormedErrorsAndLeavesWhatWasStoredIntact() throws Exception {
    long seed = Long.getLong("lamina.fuzz.seed", System.nanoTime());
    int requests = Integer.getInteger("lamina.fuzz.requests", 3000);
    Duration budget = Duration.ofSeconds(Long.getLong("lamina.fuzz.seconds", 150));
    String debug = System.getProperty("lamina.fuzz.debug");
    System.out.println("HostileInputFuzzTest seed=" + seed + " (replay: -Dlamina.fuzz.seed=" + seed + ")");

    Path dataDir = Files.createTempDirectory("lamina-fuzz-");
    TestNode node = TestNode.start(dataDir, false, ConfigFactory.parseString(AUTH));
    try {
      LambdaClient lambda = node.lambda();
      int port = java.net.URI.create(node.endpoint()).getPort();
      SqsClient sqs = TestNode.sqsClient(node.endpoint());

      // ---- given: what must survive the storm ----
      byte[] keepZip = Storm.ECHO_ZIP;
      lambda.createFunction(b -> b.functionName(Storm.KEEP).runtime("python3.12").handler("app.handler")
          .role(Functions.ROLE).environment(e -> e.variables(Map.of("KEPT", "yes")))
          .code(c -> c.zipFile(SdkBytes.fromByteArray(keepZip))));
      lambda.createFunction(b -> b.functionName(Storm.SACRIFICE).runtime("python3.12").handler("app.handler")
          .role(Functions.ROLE).code(c -> c.zipFile(SdkBytes.fromByteArray(Storm.ECHO_ZIP))));
      lambda.publishLayerVersion(b -> b.layerName(Storm.KEEP_LAYER)
          .content(c -> c.zipFile(SdkBytes.fromByteArray(Storm.LAYER_ZIP))));
      String keepQueue = sqs.createQueue(b -> b.queueName(Storm.KEEP_QUEUE)).queueUrl();
      sqs.createQueue(b -> b.queueName(Storm.SACRIFICE_QUEUE));
      Map<String, String> sent = new TreeMap<>();
      for (int i = 0; i < 20; i++) {
        String body = "message " + i + " ✓";
        String id = sqs.sendMessage(b -> b.queueUrl(keepQueue).messageBody(body).messageAttributes(Map.of(
            "n", MessageAttributeValue.builder().dataType("Number").stringValue("42").build()))).messageId();
        sent.put(id, body);
      }
      assertEquals(JSON.readTree("{\"echo\":1}"), Functions.json(Functions.invoke(lambda, Storm.KEEP, "{\"echo\":1}")));
      // The configuration (the code link in GetFunction is presigned afresh on every call).
      JsonNode keepBefore = getJson(port, "/2015-03-31/functions/" + Storm.KEEP).get("Configuration");
      JsonNode layerBefore = withoutLink(getJson(port, "/2018-10-31/layers/" + Storm.KEEP_LAYER + "/versions/1"));

      // ---- when: the storm ----
      Storm storm = new Storm(seed, port);
      Set<String> created = new HashSet<>();
      Map<String, Integer> statuses = new TreeMap<>();
      Map<String, List<String>> failures = new TreeMap<>();   // kind of problem → examples
      long deadline = System.nanoTime() + budget.toNanos();
      int sentCount = 0;
      for (; sentCount < requests && System.nanoTime() < deadline; sentCount++) {
        Storm.Shot shot = storm.next();
        RawHttp.Response response;
        try {
          response = RawHttp.send(port, shot.request(), RESPONSE_BOUND);
        } catch (IOException e) {
          failures.computeIfAbsent("no response: " + e.getClass().getSimpleName(), k -> new java.util.ArrayList<>())
              .add("#" + sentCount + " " + shot.request().describe() + " [" + shot.what() + "]: " + e);
          continue;
        }
        statuses.merge(String.valueOf(response.status()), 1, Integer::sum);
        if (debug != null && shot.what().contains(debug)) {
          System.out.println(shot.request().describe() + " [" + shot.what() + "] -> " + response.status() + " "
              + response.text());
        }
        String problem = problem(shot, response, dataDir);
        if (problem != null) {
          String kind = problem.replaceAll("\\d+", "N");
          failures.computeIfAbsent(kind.substring(0, Math.min(kind.length(), 70)), k -> new java.util.ArrayList<>())
              .add("#" + sentCount + " " + shot.request().describe() + " [" + shot.what() + "]: " + problem);
        }
        if (shot.createsFunction() && response.status() == 201) {
          created.add(JSON.readTree(response.body()).path("FunctionName").asText());
        }
      }
      System.out.println("HostileInputFuzzTest sent " + sentCount + " requests, statuses " + statuses
          + ", functions created on purpose by valid mutations: " + created.size());
      assertTrue(failures.isEmpty(), failures.values().stream().mapToInt(List::size).sum() + " bad answers (seed "
          + seed + ") of " + failures.size() + " kinds:\n" + failures.entrySet().stream()
              .map(k -> k.getValue().size() + " × " + k.getKey() + "\n    e.g. " + String.join("\n    e.g. ",
                  k.getValue().subList(0, Math.min(2, k.getValue().size()))))
              .collect(Collectors.joining("\n")));
      assertTrue(sentCount >= Math.min(requests, 1000), "the storm ran (" + sentCount + " requests)");

      // ---- then: the node serves, and nothing stored changed ----
      assertEquals(200, RawHttp.send(port, new RawHttp.Request("GET", "/health"), RESPONSE_BOUND).status());
      assertEquals(200, RawHttp.send(port, new RawHttp.Request("GET", "/ready"), RESPONSE_BOUND).status());
      assertEquals(keepBefore, getJson(port, "/2015-03-31/functions/" + Storm.KEEP).get("Configuration"),
          "the function kept out of the storm is unchanged (configuration, CodeSha256, RevisionId)");
      assertEquals(layerBefore, withoutLink(getJson(port, "/2018-10-31/layers/" + Storm.KEEP_LAYER + "/versions/1")));
      InvokeResponse invoked = Functions.invoke(lambda, Storm.KEEP, "{\"after\":\"storm\"}");
      assertEquals(JSON.readTree("{\"after\":\"storm\"}"), Functions.json(invoked), "and still runs");
      String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(keepZip));
      RawHttp.Response code = RawHttp.send(port, new RawHttp.Request("GET", "/lamina/code/" + hex + ".zip"),
          RESPONSE_BOUND);
      assertEquals(hex, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(code.body())),
          "its stored package reads back byte for byte");

      Set<String> listed = lambda.listFunctionsPaginator(b -> b.maxItems(50)).functions().stream()
          .map(FunctionConfiguration::functionName).collect(Collectors.toSet());
      Set<String> allowed = new HashSet<>(created);
      allowed.add(Storm.KEEP);
      allowed.add(Storm.SACRIFICE);
      assertTrue(listed.contains(Storm.KEEP), listed.toString());
      Set<String> unexpected = new HashSet<>(listed);
      unexpected.removeAll(allowed);
      assertEquals(Set.of(), unexpected, "only functions the storm created with a valid request exist");

      Map<String, String> received = new HashMap<>();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (received.size() < sent.size() && System.nanoTime() < until) {
        for (Message m : sqs.receiveMessage(b -> b.queueUrl(keepQueue).maxNumberOfMessages(10).waitTimeSeconds(1)
            .messageAttributeNames("All")).messages()) {
          assertEquals("42", m.messageAttributes().get("n").stringValue());
          received.put(m.messageId(), m.body());
        }
      }
      assertEquals(sent, new TreeMap<>(received), "the queue kept out of the storm holds its 20 messages intact");
      sqs.close();
    } finally {
      try {
        node.close();
        assertTrue(awaitNoProcesses(dataDir), "no process of the node is left running");
      } finally {
        TestNode.deleteTree(dataDir);
      }
    }
  }

  /** What is wrong with {@code response} to {@code shot}, or null. */
  static String problem(Storm.Shot shot, RawHttp.Response response, Path dataDir) {
    int status = response.status();
    String text = response.text();
    String excerpt = status + " " + (text.length() > 300 ? text.substring(0, 300) + "…" : text);
    if (status >= 500) {
      return "server error " + excerpt;
    }
    if (status < 400) {
      return null;  // a mutation that happened to be valid
    }
    String leak = Leaks.find(text, dataDir);
    if (leak != null) {
      return "leaks " + leak + ": " + excerpt;
    }
    boolean head = shot.request().method().equals("HEAD");
    if (shot.sqs() && response.header("x-amzn-query-error") != null) {
      // SQS's own error shape: __type and message in the body, the legacy code in a header.
      try {
        JsonNode body = JSON.readTree(response.body());
        if (!body.path("__type").isTextual() || !body.path("message").isTextual()) {
          return "SQS error without __type and message: " + excerpt;
        }
      } catch (IOException e) {
        return "SQS error body is not JSON: " + excerpt;
      }
      return null;
    }
    String type = response.header("x-amzn-ErrorType");
    if (type == null || type.isBlank()) {
      return "no x-amzn-ErrorType: " + excerpt + " " + response.headers();
    }
    if (head) {
      return null;
    }
    try {
      JsonNode body = JSON.readTree(response.body());
      JsonNode message = body == null ? null : body.has("message") ? body.get("message") : body.get("Message");
      if (message == null || !message.isTextual() || message.asText().isBlank()) {
        return "error body without a message: " + excerpt;
      }
    } catch (IOException e) {
      return "error body is not JSON: " + excerpt;
    }
    return null;
  }

  private static JsonNode getJson(int port, String path) throws IOException {
    RawHttp.Response response = RawHttp.send(port, new RawHttp.Request("GET", path), RESPONSE_BOUND);
    assertEquals(200, response.status(), response.text());
    return JSON.readTree(response.body());
  }

  private static boolean awaitNoProcesses(Path dataDir) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (Processes.runningUnder(dataDir) > 0) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(100);
    }
    return true;
  }

  /** What must never appear in an error a client sees. */
  static final class Leaks {
    private static final List<String> NEEDLES = List.of("java.", "javax.", "scala.", "org.apache", "com.fasterxml",
        "dev.lamina", "software.amazon", "Exception:", "Caused by", "NullPointer", "IllegalArgument",
        "IllegalState", "NumberFormat", "IndexOutOfBounds", "ClassCast", "StreamReadConstraints",
        "StreamReadFeature", "CompletionException", "InvalidPath", "(byte[])", "/work/", "/tmp/", "\tat ");
    private static final java.util.regex.Pattern FRAME = java.util.regex.Pattern.compile("\\bat [a-z]+\\.[a-z]+\\.");

    static String find(String text, Path dataDir) {
      for (String needle : NEEDLES) {
        if (text.contains(needle)) {
          return needle;
        }
      }
      if (FRAME.matcher(text).find()) {
        return "a stack frame";
      }
      return dataDir != null && text.contains(dataDir.toString()) ? "the data directory" : null;
    }

    private Leaks() {}
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A layer version without its code link, which is presigned afresh on every call. */
  private static JsonNode withoutLink(JsonNode layerVersion) {
    com.fasterxml.jackson.databind.node.ObjectNode copy = layerVersion.deepCopy();
    if (copy.get("Content") instanceof com.fasterxml.jackson.databind.node.ObjectNode content) {
      content.remove("Location");
    }
    return copy;
  }
}
