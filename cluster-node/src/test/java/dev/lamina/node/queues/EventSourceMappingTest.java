package dev.lamina.node.queues;

import static dev.lamina.node.queues.QueueFixtures.FUNCTION_ARN_PREFIX;
import static dev.lamina.node.queues.QueueFixtures.QUEUE_ARN_PREFIX;
import static dev.lamina.node.queues.QueueFixtures.await;
import static dev.lamina.node.queues.QueueFixtures.md5Hex;
import static dev.lamina.node.testing.Refusals.assertError;
import static dev.lamina.node.testing.Refusals.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.TestNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingResponse;
import software.amazon.awssdk.services.lambda.model.DeleteEventSourceMappingResponse;
import software.amazon.awssdk.services.lambda.model.EventSourceMappingConfiguration;
import software.amazon.awssdk.services.lambda.model.FunctionResponseType;
import software.amazon.awssdk.services.lambda.model.GetEventSourceMappingResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ListEventSourceMappingsResponse;
import software.amazon.awssdk.services.lambda.model.UpdateEventSourceMappingResponse;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

/**
 * SQS event source mappings over Lamina queues as a Lambda user sees them (contract §1.6, §5.2):
 * the mapping API with its states, filters, pages and exact refusals; and what the poller does —
 * the SQS event a function receives, deletion of what succeeded, retries through the visibility
 * timeout into the queue's DLQ, ReportBatchItemFailures, BisectBatchOnFunctionError — also across a
 * node restart.
 */
@ExtendWith(NodePerClass.class)
class EventSourceMappingTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MAPPING_ARN_PREFIX = "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:";
  private static final String NOT_FOUND = "The resource you requested does not exist.";

  /**
   * The test functions: each logs one {@code BATCH <json>} line per invocation; {@code poison}
   * fails a batch holding a "poison" body and logs {@code DONE <bodies>} otherwise; {@code partial}
   * reports the "fail…" bodies as batch item failures on their first receive only.
   */
  private static final String CODE = ""
      + "import json\n"
      + "\n"
      + "def record(event, context):\n"
      + "    print('BATCH ' + json.dumps(event), flush=True)\n"
      + "\n"
      + "def poison(event, context):\n"
      + "    bodies = [r['body'] for r in event['Records']]\n"
      + "    print('BATCH ' + json.dumps(event), flush=True)\n"
      + "    if 'poison' in bodies:\n"
      + "        raise ValueError('poison in ' + json.dumps(bodies))\n"
      + "    print('DONE ' + json.dumps(bodies), flush=True)\n"
      + "\n"
      + "def partial(event, context):\n"
      + "    print('BATCH ' + json.dumps(event), flush=True)\n"
      + "    return {'batchItemFailures': [{'itemIdentifier': r['messageId']} for r in event['Records']\n"
      + "        if r['body'].startswith('fail') and r['attributes']['ApproximateReceiveCount'] == '1']}\n";

  static TestNode node;
  static LambdaClient lambda;
  private static SqsClient sqs;

  @BeforeAll
  static void targets() {
    sqs = QueueFixtures.sqs(node.endpoint());
    function(lambda, "esm-bad", "record", 3);
    sqs.createQueue(b -> b.queueName("esm-bad-q"));
  }

  @AfterAll
  static void closeClient() {
    sqs.close();
  }

  // ---- Create / Get ------------------------------------------------------------------------------

  @Test
  void createAnswers202CreatingWithSqsDefaultsThenGetShowsEnabled() {
    function(lambda, "esm-create", "record", 3);
    sqs.createQueue(b -> b.queueName("esm-create-q"));
    Instant before = Instant.now().minusSeconds(1);

    CreateEventSourceMappingResponse created = lambda.createEventSourceMapping(b -> b
        .eventSourceArn(QUEUE_ARN_PREFIX + "esm-create-q").functionName("esm-create"));
    GetEventSourceMappingResponse got = await("the mapping Enabled", Duration.ofSeconds(10),
        () -> lambda.getEventSourceMapping(b -> b.uuid(created.uuid())), g -> !g.state().equals("Creating"));

    assertEquals(202, created.sdkHttpResponse().statusCode());
    assertEquals("Creating", created.state());
    assertEquals(created.uuid(), UUID.fromString(created.uuid()).toString());
    assertEquals(MAPPING_ARN_PREFIX + created.uuid(), created.eventSourceMappingArn());
    assertEquals(QUEUE_ARN_PREFIX + "esm-create-q", created.eventSourceArn());
    assertEquals(FUNCTION_ARN_PREFIX + "esm-create", created.functionArn());
    assertEquals(10, created.batchSize());
    assertEquals(0, created.maximumBatchingWindowInSeconds());
    assertTrue(created.hasFunctionResponseTypes(), "FunctionResponseTypes is always present");
    assertEquals(List.of(), created.functionResponseTypes());
    assertEquals("USER_INITIATED", created.stateTransitionReason());
    assertTrue(!created.lastModified().isBefore(before) && !created.lastModified().isAfter(Instant.now()),
        created.lastModified().toString());
    assertNull(created.startingPosition(), "no stream settings on an SQS mapping");
    assertNull(created.scalingConfig());

    assertEquals(200, got.sdkHttpResponse().statusCode());
    assertEquals("Enabled", got.state());
    assertEquals(created.uuid(), got.uuid());
    assertEquals(created.eventSourceMappingArn(), got.eventSourceMappingArn());
    assertEquals(created.functionArn(), got.functionArn());
    assertEquals(10, got.batchSize());
    assertEquals(List.of(), got.functionResponseTypes());
  }

  @Test
  void createWithOptionsEchoesThemAndCreateDisabledAnswersDisabled() {
    function(lambda, "esm-options", "record", 3);
    sqs.createQueue(b -> b.queueName("esm-options-q"));
    sqs.createQueue(b -> b.queueName("esm-options-q2"));

    CreateEventSourceMappingResponse created = lambda.createEventSourceMapping(b -> b
        .eventSourceArn(QUEUE_ARN_PREFIX + "esm-options-q").functionName(FUNCTION_ARN_PREFIX + "esm-options")
        .batchSize(50).maximumBatchingWindowInSeconds(2).scalingConfig(s -> s.maximumConcurrency(3))
        .functionResponseTypes(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES));
    CreateEventSourceMappingResponse disabled = lambda.createEventSourceMapping(b -> b
        .eventSourceArn(QUEUE_ARN_PREFIX + "esm-options-q2").functionName("esm-options").enabled(false));

    assertEquals(50, created.batchSize());
    assertEquals(2, created.maximumBatchingWindowInSeconds());
    assertEquals(3, created.scalingConfig().maximumConcurrency());
    assertEquals(List.of(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES), created.functionResponseTypes());
    assertEquals(FUNCTION_ARN_PREFIX + "esm-options", created.functionArn());
    assertEquals("Disabled", disabled.state());
    assertEquals("Disabled", lambda.getEventSourceMapping(b -> b.uuid(disabled.uuid())).state());
  }

  // ---- List ----------------------------------------------------------------------------------------

  @Test
  void listFiltersBySourceAndFunctionAndPagesWithMaxItems() {
    function(lambda, "esm-list-1", "record", 3);
    function(lambda, "esm-list-2", "record", 3);
    sqs.createQueue(b -> b.queueName("esm-list-a"));
    sqs.createQueue(b -> b.queueName("esm-list-b"));
    String a = QUEUE_ARN_PREFIX + "esm-list-a";
    String onA1 = lambda.createEventSourceMapping(b -> b.eventSourceArn(a).functionName("esm-list-1")).uuid();
    String onA2 = lambda.createEventSourceMapping(b -> b.eventSourceArn(a).functionName("esm-list-2")).uuid();
    String onB1 = lambda.createEventSourceMapping(b -> b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-list-b")
        .functionName("esm-list-1")).uuid();

    List<String> bySource = uuids(lambda.listEventSourceMappings(b -> b.eventSourceArn(a)));
    List<String> byFunction = uuids(lambda.listEventSourceMappings(b -> b.functionName("esm-list-1")));
    List<String> byFunctionArn = uuids(lambda.listEventSourceMappings(b -> b
        .functionName(FUNCTION_ARN_PREFIX + "esm-list-1")));
    List<String> byBoth = uuids(lambda.listEventSourceMappings(b -> b.eventSourceArn(a).functionName("esm-list-2")));
    ListEventSourceMappingsResponse first = lambda.listEventSourceMappings(b -> b.eventSourceArn(a).maxItems(1));
    ListEventSourceMappingsResponse second = lambda.listEventSourceMappings(b -> b.eventSourceArn(a).maxItems(1)
        .marker(first.nextMarker()));
    List<String> unknown = uuids(lambda.listEventSourceMappings(b -> b.functionName("esm-no-such-function")));

    assertEquals(sorted(onA1, onA2), sorted(bySource));
    assertEquals(sorted(onA1, onB1), sorted(byFunction));
    assertEquals(sorted(onA1, onB1), sorted(byFunctionArn));
    assertEquals(List.of(onA2), byBoth);
    assertEquals(1, first.eventSourceMappings().size());
    assertNotNull(first.nextMarker());
    assertEquals(1, second.eventSourceMappings().size());
    assertNull(second.nextMarker(), "the last page has no NextMarker");
    assertEquals(sorted(onA1, onA2), sorted(first.eventSourceMappings().get(0).uuid(),
        second.eventSourceMappings().get(0).uuid()));
    assertEquals(List.of(), unknown, "a filter naming nothing that exists is an empty list, not an error");
    EventSourceMappingConfiguration listed = lambda.listEventSourceMappings(b -> b.eventSourceArn(a)
        .functionName("esm-list-2")).eventSourceMappings().get(0);
    assertEquals("Enabled", listed.state());
    assertEquals(MAPPING_ARN_PREFIX + onA2, listed.eventSourceMappingArn());
  }

  // ---- processing ----------------------------------------------------------------------------------

  @Test
  void theFunctionReceivesTheSqsEventAndProcessedMessagesAreDeleted() throws Exception {
    function(lambda, "esm-shape", "record", 3);
    String url = sqs.createQueue(b -> b.queueName("esm-shape-q")).queueUrl();
    String uuid = lambda.createEventSourceMapping(b -> b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-shape-q")
        .functionName("esm-shape")).uuid();
    long before = System.currentTimeMillis();

    List<SendMessageBatchResultEntry> sent = sqs.sendMessageBatch(b -> b.queueUrl(url).entries(
        e -> e.id("1").messageBody("first"),
        e -> e.id("2").messageBody("{\"second\": true}").messageAttributes(Map.of(
            "colour", MessageAttributeValue.builder().dataType("String").stringValue("blue").build())),
        e -> e.id("3").messageBody("third"))).successful();
    List<JsonNode> records = await("3 records in the function's log", Duration.ofSeconds(30),
        () -> records("esm-shape"), r -> r.size() >= 3);

    assertEquals(3, records.size(), records.toString());
    for (SendMessageBatchResultEntry s : sent) {
      JsonNode r = records.stream().filter(x -> x.path("messageId").asText().equals(s.messageId())).findFirst()
          .orElseThrow(() -> new AssertionError("no record for " + s.messageId() + " in " + records));
      String body = r.path("body").asText();
      assertEquals(s.md5OfMessageBody(), md5Hex(body));
      assertEquals(md5Hex(body), r.path("md5OfBody").asText());
      assertFalse(r.path("receiptHandle").asText().isEmpty());
      assertEquals("aws:sqs", r.path("eventSource").asText());
      assertEquals(QUEUE_ARN_PREFIX + "esm-shape-q", r.path("eventSourceARN").asText());
      assertEquals("us-east-1", r.path("awsRegion").asText());
      JsonNode attributes = r.path("attributes");
      assertEquals("1", attributes.path("ApproximateReceiveCount").asText());
      assertTrue(attributes.path("ApproximateReceiveCount").isTextual(), "attribute values are strings");
      long sentAt = Long.parseLong(attributes.path("SentTimestamp").asText());
      assertTrue(sentAt >= before && sentAt <= System.currentTimeMillis(), "epoch millis: " + sentAt);
      assertTrue(Long.parseLong(attributes.path("ApproximateFirstReceiveTimestamp").asText()) >= sentAt);
      assertFalse(attributes.path("SenderId").asText().isEmpty());
      assertTrue(r.path("messageAttributes").isObject());
    }
    JsonNode withAttribute = records.stream().filter(r -> r.path("body").asText().equals("{\"second\": true}"))
        .findFirst().orElseThrow();
    assertEquals(JSON.readTree("{\"stringValue\":\"blue\",\"stringListValues\":[],\"binaryListValues\":[],"
        + "\"dataType\":\"String\"}"), withAttribute.path("messageAttributes").path("colour"));
    assertEquals(0, records.stream().filter(r -> r.path("body").asText().equals("first")).findFirst().orElseThrow()
        .path("messageAttributes").size());
    awaitEmpty("esm-shape-q");

    // What an operator sees on /metrics: batches by outcome, and the queue's depth.
    String scrape = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(node.endpoint() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    java.util.regex.Matcher batches = java.util.regex.Pattern.compile("(?m)^lamina_mapping_batches_total\\{mapping=\""
        + uuid + "\",outcome=\"success\"\\} (\\S+)$").matcher(scrape);
    assertTrue(batches.find(), scrape);
    assertTrue(Double.parseDouble(batches.group(1)) >= 1, scrape);
    assertTrue(scrape.contains("lamina_queue_messages{queue=\"esm-shape-q\",state=\"visible\"} 0.0"), scrape);
  }

  @Test
  void aPoisonMessageEndsInTheQueuesDlqAfterMaxReceiveCountAndTheOthersAreProcessed() {
    function(lambda, "esm-poison", "poison", 2);
    String dlq = sqs.createQueue(b -> b.queueName("esm-poison-dlq")).queueUrl();
    String url = sqs.createQueue(b -> b.queueName("esm-poison-q").attributesWithStrings(Map.of(
        "VisibilityTimeout", "2", "RedrivePolicy",
        "{\"deadLetterTargetArn\":\"" + QUEUE_ARN_PREFIX + "esm-poison-dlq\",\"maxReceiveCount\":\"2\"}"))).queueUrl();
    lambda.createEventSourceMapping(b -> b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-poison-q")
        .functionName("esm-poison").batchSize(1));

    sqs.sendMessageBatch(b -> b.queueUrl(url).entries(e -> e.id("1").messageBody("ok-1"),
        e -> e.id("2").messageBody("poison"), e -> e.id("3").messageBody("ok-2")));
    Message dead = await("the poison message in the DLQ", Duration.ofSeconds(30),
        () -> sqs.receiveMessage(b -> b.queueUrl(dlq).waitTimeSeconds(1).visibilityTimeout(60)
            .messageSystemAttributeNames(software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName.ALL))
            .messages(), m -> !m.isEmpty()).get(0);

    assertEquals("poison", dead.body());
    assertEquals(QUEUE_ARN_PREFIX + "esm-poison-q", dead.attributesAsStrings().get("DeadLetterQueueSourceArn"));
    List<String> done = doneBodies("esm-poison");
    assertEquals(List.of("ok-1", "ok-2"), done.stream().sorted().toList(), "each good message processed once");
    List<JsonNode> poisonAttempts = records("esm-poison").stream()
        .filter(r -> r.path("body").asText().equals("poison")).toList();
    assertEquals(List.of("1", "2"), poisonAttempts.stream()
        .map(r -> r.path("attributes").path("ApproximateReceiveCount").asText()).toList(),
        "tried maxReceiveCount times, then moved");
    awaitEmpty("esm-poison-q");
  }

  @Test
  void reportBatchItemFailuresReturnsOnlyTheReportedMessagesToTheQueue() {
    function(lambda, "esm-partial", "partial", 2);
    String url = sqs.createQueue(b -> b.queueName("esm-partial-q")
        .attributesWithStrings(Map.of("VisibilityTimeout", "2"))).queueUrl();
    lambda.createEventSourceMapping(b -> b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-partial-q")
        .functionName("esm-partial").functionResponseTypes(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES));

    sqs.sendMessageBatch(b -> b.queueUrl(url).entries(e -> e.id("1").messageBody("ok-1"),
        e -> e.id("2").messageBody("fail-1"), e -> e.id("3").messageBody("ok-2"),
        e -> e.id("4").messageBody("fail-2")));
    awaitEmpty("esm-partial-q");
    List<JsonNode> records = records("esm-partial");

    assertEquals(List.of("1"), receiveCounts(records, "ok-1"), "a message not reported is deleted");
    assertEquals(List.of("1"), receiveCounts(records, "ok-2"));
    assertEquals(List.of("1", "2"), receiveCounts(records, "fail-1"), "a reported message comes back");
    assertEquals(List.of("1", "2"), receiveCounts(records, "fail-2"));
  }

  @Test
  void bisectBatchOnFunctionErrorGetsTheGoodMessagesOfAFailingBatchThrough() {
    function(lambda, "esm-bisect", "poison", 2);
    sqs.createQueue(b -> b.queueName("esm-bisect-dlq"));
    String url = sqs.createQueue(b -> b.queueName("esm-bisect-q").attributesWithStrings(Map.of(
        "VisibilityTimeout", "2", "RedrivePolicy",
        "{\"deadLetterTargetArn\":\"" + QUEUE_ARN_PREFIX + "esm-bisect-dlq\",\"maxReceiveCount\":\"1\"}"))).queueUrl();
    CreateEventSourceMappingResponse created = lambda.createEventSourceMapping(b -> b
        .eventSourceArn(QUEUE_ARN_PREFIX + "esm-bisect-q").functionName("esm-bisect").bisectBatchOnFunctionError(true));

    sqs.sendMessageBatch(b -> b.queueUrl(url).entries(e -> e.id("1").messageBody("a"),
        e -> e.id("2").messageBody("b"), e -> e.id("3").messageBody("poison"), e -> e.id("4").messageBody("c")));
    await("the poison message in the DLQ", Duration.ofSeconds(30), () -> count("esm-bisect-dlq"), n -> n == 1);

    assertTrue(created.bisectBatchOnFunctionError());
    assertEquals(List.of("a", "b", "c"), doneBodies("esm-bisect").stream().sorted().toList(),
        "each good message processed once although its first batch failed");
    assertTrue(records("esm-bisect").stream().filter(r -> r.path("body").asText().equals("poison")).count() >= 2,
        "the poison message was tried in the whole batch and in a half");
    awaitEmpty("esm-bisect-q");
  }

  // ---- Update / Delete -----------------------------------------------------------------------------

  @Test
  void aDisabledMappingLeavesMessagesInTheQueueAndReEnablingProcessesThem() {
    function(lambda, "esm-toggle", "record", 3);
    String url = sqs.createQueue(b -> b.queueName("esm-toggle-q")).queueUrl();
    String uuid = lambda.createEventSourceMapping(b -> b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-toggle-q")
        .functionName("esm-toggle")).uuid();
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("before"));
    awaitBody("esm-toggle", "before");

    UpdateEventSourceMappingResponse disabling = lambda.updateEventSourceMapping(b -> b.uuid(uuid).enabled(false));
    String disabledState = await("the mapping Disabled", Duration.ofSeconds(10),
        () -> lambda.getEventSourceMapping(b -> b.uuid(uuid)).state(), s -> !s.equals("Disabling"));
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("while-disabled"));
    QueueFixtures.sleep(3000);
    Map<String, String> whileDisabled = queueAttributes("esm-toggle-q");

    assertEquals(202, disabling.sdkHttpResponse().statusCode());
    assertEquals("Disabling", disabling.state());
    assertEquals("Disabled", disabledState);
    assertFalse(bodies("esm-toggle").contains("while-disabled"), "a disabled mapping invokes nothing");
    assertEquals("1", whileDisabled.get("ApproximateNumberOfMessages"),
        "the message waits, visible, in the queue: " + whileDisabled);

    UpdateEventSourceMappingResponse enabling = lambda.updateEventSourceMapping(b -> b.uuid(uuid).enabled(true));
    awaitBody("esm-toggle", "while-disabled");

    assertEquals("Enabling", enabling.state());
    assertEquals("Enabled", lambda.getEventSourceMapping(b -> b.uuid(uuid)).state());
    awaitEmpty("esm-toggle-q");
  }

  @Test
  void anUpdatedMappingKeepsProcessingWithoutDelay() {
    function(lambda, "esm-update", "record", 3);
    String url = sqs.createQueue(b -> b.queueName("esm-update-q")).queueUrl();
    String uuid = lambda.createEventSourceMapping(b -> b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-update-q")
        .functionName("esm-update")).uuid();
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("before"));
    awaitBody("esm-update", "before");

    UpdateEventSourceMappingResponse updated = lambda.updateEventSourceMapping(b -> b.uuid(uuid).batchSize(5)
        .functionResponseTypes(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES));
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("after"));

    assertEquals(202, updated.sdkHttpResponse().statusCode());
    assertEquals("Updating", updated.state());
    assertEquals(5, updated.batchSize());
    assertEquals(List.of(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES), updated.functionResponseTypes());
    GetEventSourceMappingResponse got = lambda.getEventSourceMapping(b -> b.uuid(uuid));
    assertEquals("Enabled", got.state());
    assertEquals(5, got.batchSize());
    // The queue's VisibilityTimeout is 30 s: a message lost to the replaced poller would take that long.
    awaitBody("esm-update", "after");
  }

  @Test
  void deleteAnswers202DeletingAndTheMappingIsThenGone() {
    function(lambda, "esm-delete", "record", 3);
    String url = sqs.createQueue(b -> b.queueName("esm-delete-q")).queueUrl();
    String uuid = lambda.createEventSourceMapping(b -> b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-delete-q")
        .functionName("esm-delete")).uuid();

    DeleteEventSourceMappingResponse deleted = lambda.deleteEventSourceMapping(b -> b.uuid(uuid));
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("after-delete"));
    QueueFixtures.sleep(2000);

    assertEquals(202, deleted.sdkHttpResponse().statusCode());
    assertEquals("Deleting", deleted.state());
    assertEquals(uuid, deleted.uuid());
    assertEquals(QUEUE_ARN_PREFIX + "esm-delete-q", deleted.eventSourceArn());
    assertError(refused(() -> lambda.getEventSourceMapping(b -> b.uuid(uuid))), 404, "ResourceNotFoundException",
        NOT_FOUND);
    assertError(refused(() -> lambda.updateEventSourceMapping(b -> b.uuid(uuid).enabled(false))), 404,
        "ResourceNotFoundException", NOT_FOUND);
    assertError(refused(() -> lambda.deleteEventSourceMapping(b -> b.uuid(uuid))), 404, "ResourceNotFoundException",
        NOT_FOUND);
    assertFalse(uuids(lambda.listEventSourceMappings(b -> b.functionName("esm-delete"))).contains(uuid));
    assertFalse(bodies("esm-delete").contains("after-delete"), "nothing polls the queue any more");
    assertEquals(1, count("esm-delete-q") + Integer.parseInt(queueAttributes("esm-delete-q")
        .get("ApproximateNumberOfMessagesNotVisible")));
  }

  // ---- bad input -----------------------------------------------------------------------------------

  @Test
  void createWithoutEventSourceArnOrWithANonSqsArnIsAnUnrecognizedEventSource() {
    assertError(refusedCreate(b -> b.eventSourceArn(null)), 400, "InvalidParameterValueException",
        "Unrecognized event source.");
    assertError(refusedCreate(b -> b.eventSourceArn("arn:aws:sns:us-east-1:000000000000:topic")), 400,
        "InvalidParameterValueException", "Unrecognized event source.");
    assertError(refusedCreate(b -> b.eventSourceArn("garbage")), 400, "ValidationException",
        "1 validation error detected: Value 'garbage' at 'eventSourceArn' failed to satisfy constraint: Member must "
            + "satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-"
            + "\\d{1})?:(\\d{12})?:(.*)");
  }

  @Test
  void createForAMissingFunctionOrQueueIsAnInvalidParameterValue() {
    assertError(refusedCreate(b -> b.functionName("esm-no-such-function")), 400, "InvalidParameterValueException",
        "Function does not exist");
    assertError(refusedCreate(b -> b.functionName("esm-no-such-function")
        .eventSourceArn(QUEUE_ARN_PREFIX + "esm-no-such-queue")), 400, "InvalidParameterValueException",
        "Function does not exist");
    assertError(refusedCreate(b -> b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-no-such-queue")), 400,
        "InvalidParameterValueException", "Error occurred while ReceiveMessage. SQS Error Code: "
            + "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist or you "
            + "do not have access to it.");
  }

  @Test
  void createWithBatchSettingsOutOfRangeIsRefused() {
    assertError(refusedCreate(b -> b.batchSize(0)), 400, "ValidationException", "1 validation error detected: "
        + "Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1");
    assertError(refusedCreate(b -> b.batchSize(10001).maximumBatchingWindowInSeconds(1)), 400, "ValidationException",
        "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: Member must have "
            + "value less than or equal to 10000");
    assertError(refusedCreate(b -> b.batchSize(11)), 400, "InvalidParameterValueException",
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10");
    assertError(refusedCreate(b -> b.maximumBatchingWindowInSeconds(301)), 400, "ValidationException",
        "1 validation error detected: Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: "
            + "Member must have value less than or equal to 300");
    assertError(refusedCreate(b -> b.scalingConfig(s -> s.maximumConcurrency(1))), 400, "ValidationException",
        "1 validation error detected: Value '1' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: "
            + "Member must have value greater than or equal to 2");
    assertNoMappingOf("esm-bad");
  }

  @Test
  void createWithSettingsSqsDoesNotHaveIsRefused() {
    assertError(refusedCreate(b -> b.functionResponseTypesWithStrings("Foo")), 400, "ValidationException",
        "1 validation error detected: Value '[Foo]' at 'functionResponseTypes' failed to satisfy constraint: Member "
            + "must satisfy enum value set: [ReportBatchItemFailures]");
    assertError(refusedCreate(b -> b.startingPosition("TRIM_HORIZON")), 400, "InvalidParameterValueException",
        "StartingPosition is not valid for SQS event sources.");
    assertError(refusedCreate(b -> b.destinationConfig(d -> d.onFailure(f -> f
        .destination(QUEUE_ARN_PREFIX + "esm-bad-q")))), 400, "InvalidParameterValueException",
        "Unsupported DestinationConfig parameter for given event source mapping type.");
    assertNoMappingOf("esm-bad");
  }

  @Test
  void aSecondMappingOfTheSameQueueAndFunctionIsAConflictNamingTheFirst() {
    sqs.createQueue(b -> b.queueName("esm-dup-q"));
    String first = lambda.createEventSourceMapping(b -> b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-dup-q")
        .functionName("esm-bad")).uuid();

    LambdaException e = refused(() -> lambda.createEventSourceMapping(b -> b
        .eventSourceArn(QUEUE_ARN_PREFIX + "esm-dup-q").functionName("esm-bad").batchSize(5)));

    assertError(e, 409, "ResourceConflictException", "An event source mapping with SQS arn (\" " + QUEUE_ARN_PREFIX
        + "esm-dup-q \") and function (\" esm-bad \") already exists. Please update or delete the existing mapping "
        + "with UUID " + first);
    assertEquals(List.of(first), uuids(lambda.listEventSourceMappings(b -> b
        .eventSourceArn(QUEUE_ARN_PREFIX + "esm-dup-q"))));
  }

  @Test
  void aQueueVisibilityTimeoutShorterThanTheFunctionTimeoutIsRefused() {
    function(lambda, "esm-slow", "record", 10);
    sqs.createQueue(b -> b.queueName("esm-short-vt").attributesWithStrings(Map.of("VisibilityTimeout", "5")));

    LambdaException e = refused(() -> lambda.createEventSourceMapping(b -> b
        .eventSourceArn(QUEUE_ARN_PREFIX + "esm-short-vt").functionName("esm-slow")));

    assertError(e, 400, "InvalidParameterValueException",
        "Queue visibility timeout: 5 seconds is less than Function timeout: 10 seconds");
    assertNoMappingOf("esm-slow");
  }

  // ---- restart -------------------------------------------------------------------------------------

  @Test
  void aMappingSurvivesANodeRestartAndKeepsPolling() throws Exception {
    Path dataDir = Files.createTempDirectory("lamina-esm-restart-");
    try {
      CreateEventSourceMappingResponse created;
      try (TestNode first = TestNode.startOn(dataDir); SqsClient client = QueueFixtures.sqs(first.endpoint())) {
        function(first.lambda(), "esm-kept", "record", 3);
        String url = client.createQueue(b -> b.queueName("esm-kept-q")).queueUrl();
        created = first.lambda().createEventSourceMapping(b -> b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-kept-q")
            .functionName("esm-kept").batchSize(7));
        client.sendMessage(b -> b.queueUrl(url).messageBody("before restart"));
        await("the first message processed", Duration.ofSeconds(30), () -> QueueFixtures.log(first, "esm-kept"),
            l -> l.contains("before restart"));
      }

      try (TestNode second = TestNode.startOn(dataDir); SqsClient client = QueueFixtures.sqs(second.endpoint())) {
        GetEventSourceMappingResponse got = second.lambda().getEventSourceMapping(b -> b.uuid(created.uuid()));
        assertEquals("Enabled", got.state());
        assertEquals(7, got.batchSize());
        assertEquals(created.eventSourceArn(), got.eventSourceArn());
        assertEquals(created.functionArn(), got.functionArn());

        client.sendMessage(b -> b.queueUrl(QueueFixtures.queueUrl(second, "esm-kept-q")).messageBody("after restart"));
        await("the message sent after the restart processed", Duration.ofSeconds(30),
            () -> QueueFixtures.log(second, "esm-kept"), l -> l.contains("after restart"));
        await("the queue empty", Duration.ofSeconds(10), () -> client.getQueueAttributes(b -> b
            .queueUrl(QueueFixtures.queueUrl(second, "esm-kept-q")).attributeNames(QueueAttributeName.ALL))
            .attributesAsStrings(), a -> a.get("ApproximateNumberOfMessages").equals("0")
            && a.get("ApproximateNumberOfMessagesNotVisible").equals("0"));
      }
    } finally {
      TestNode.deleteTree(dataDir);
    }
  }

  // ---- helpers -------------------------------------------------------------------------------------

  private static void function(LambdaClient client, String name, String handler, int timeoutSeconds) {
    Functions.create(client, name, "python3.12", "esm." + handler,
        SdkBytes.fromByteArray(Examples.zip(Map.of("esm.py", CODE))), timeoutSeconds, Map.of());
  }

  /** A create of a mapping esm-bad-q → esm-bad that would succeed, altered by {@code change}. */
  private static LambdaException refusedCreate(Consumer<CreateEventSourceMappingRequest.Builder> change) {
    return refused(() -> lambda.createEventSourceMapping(b -> {
      b.eventSourceArn(QUEUE_ARN_PREFIX + "esm-bad-q").functionName("esm-bad");
      change.accept(b);
    }));
  }

  private static void assertNoMappingOf(String function) {
    assertEquals(List.of(), uuids(lambda.listEventSourceMappings(b -> b.functionName(function)
        .eventSourceArn(QUEUE_ARN_PREFIX + "esm-bad-q"))), "a refused create leaves no mapping");
  }

  /** Every SQS record the function was invoked with, from the {@code BATCH} lines of its log. */
  private static List<JsonNode> records(String function) {
    List<JsonNode> records = new ArrayList<>();
    for (String line : QueueFixtures.log(node, function).split("\n")) {
      if (line.startsWith("BATCH ")) {
        try {
          JSON.readTree(line.substring("BATCH ".length())).path("Records").forEach(records::add);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return records;
  }

  private static List<String> bodies(String function) {
    return records(function).stream().map(r -> r.path("body").asText()).toList();
  }

  /** The bodies of the batches the {@code poison} handler completed. */
  private static List<String> doneBodies(String function) {
    List<String> bodies = new ArrayList<>();
    for (String line : QueueFixtures.log(node, function).split("\n")) {
      if (line.startsWith("DONE ")) {
        try {
          JSON.readTree(line.substring("DONE ".length())).forEach(b -> bodies.add(b.asText()));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return bodies;
  }

  private static List<String> receiveCounts(List<JsonNode> records, String body) {
    return records.stream().filter(r -> r.path("body").asText().equals(body))
        .map(r -> r.path("attributes").path("ApproximateReceiveCount").asText()).toList();
  }

  private static void awaitBody(String function, String body) {
    await("'" + body + "' processed by " + function, Duration.ofSeconds(15), () -> bodies(function),
        b -> b.contains(body));
  }

  private static Map<String, String> queueAttributes(String queue) {
    return sqs.getQueueAttributes(b -> b.queueUrl(QueueFixtures.queueUrl(node, queue))
        .attributeNames(QueueAttributeName.ALL)).attributesAsStrings();
  }

  private static int count(String queue) {
    return Integer.parseInt(queueAttributes(queue).get("ApproximateNumberOfMessages"));
  }

  private static void awaitEmpty(String queue) {
    await(queue + " empty", Duration.ofSeconds(30), () -> queueAttributes(queue),
        a -> a.get("ApproximateNumberOfMessages").equals("0")
            && a.get("ApproximateNumberOfMessagesNotVisible").equals("0")
            && a.get("ApproximateNumberOfMessagesDelayed").equals("0"));
  }

  private static List<String> uuids(ListEventSourceMappingsResponse response) {
    return response.eventSourceMappings().stream().map(EventSourceMappingConfiguration::uuid).toList();
  }

  private static List<String> sorted(String... values) {
    return List.of(values).stream().sorted().toList();
  }

  private static List<String> sorted(List<String> values) {
    return values.stream().sorted().toList();
  }
}
