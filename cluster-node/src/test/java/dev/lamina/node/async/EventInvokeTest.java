package dev.lamina.node.async;

import static dev.lamina.node.async.AsyncFixture.FUNCTION_ARN;
import static dev.lamina.node.async.AsyncFixture.QUEUE_ARN;
import static dev.lamina.node.async.AsyncFixture.REPORTER;
import static dev.lamina.node.async.AsyncFixture.awaitLog;
import static dev.lamina.node.async.AsyncFixture.awaitMessage;
import static dev.lamina.node.async.AsyncFixture.awaitMessages;
import static dev.lamina.node.async.AsyncFixture.createQueue;
import static dev.lamina.node.async.AsyncFixture.executions;
import static dev.lamina.node.async.AsyncFixture.json;
import static dev.lamina.node.async.AsyncFixture.log;
import static dev.lamina.node.async.AsyncFixture.receiveOnce;
import static dev.lamina.node.testing.Functions.ROLE;
import static dev.lamina.node.testing.Refusals.assertError;
import static dev.lamina.node.testing.Refusals.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * {@code Event} invocations through the AWS SDK (contract §2.5, §1.5): accepted with 202 and the
 * request id the function sees; refused before queueing when too large, not JSON or for a missing
 * function; function errors retried {@code MaximumRetryAttempts} times, then the DLQ message and
 * the on-failure record; success records; throttled events; a function as destination; reserved
 * concurrency 0; a qualifier's own config; config changes; a function deleted with events queued;
 * an event waiting for its retry across a node restart.
 *
 * <p>The node retries function errors after 1 s and 1 s (Lambda: 1 and 2 minutes) and backs off
 * from throttles between 100 ms and 1 s, so every retry schedule completes in seconds.
 */
class EventInvokeTest {

  /** The first and the second retry delay of the node below. */
  private static final Duration RETRY_DELAY = Duration.ofSeconds(1);
  private static final Duration RECORD_WAIT = Duration.ofSeconds(20);

  private static TestNode node;
  private static LambdaClient lambda;
  private static SqsClient sqs;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(Files.createTempDirectory("lamina-events-"), true, ConfigFactory.parseString(
        "lamina.events { retry-delays = [1 s, 1 s], backoff-min = 100 ms, backoff-max = 1 s }"));
    lambda = node.lambda();
    sqs = AsyncFixture.sqs(node);
  }

  @AfterAll
  static void stop() {
    if (sqs != null) {
      sqs.close();
    }
    if (node != null) {
      node.close();
    }
  }

  // ---- accepting an event ----------------------------------------------------------------------

  @Test
  void eventInvokeAnswers202WithTheRequestIdTheFunctionSeesAndRecordsTheSuccess() {
    String successUrl = createQueue(sqs, "ev-id-success");
    reporter("ev-id");
    onSuccess("ev-id", null, QUEUE_ARN + "ev-id-success");
    Instant before = Instant.now();

    InvokeResponse accepted = invokeEvent("ev-id", null, "{\"n\":1}");

    assertEquals(202, accepted.statusCode());
    assertEquals(0, accepted.payload().asByteArray().length, "no payload");
    assertNull(accepted.functionError());
    assertNull(accepted.executedVersion());
    assertNull(accepted.logResult());
    String requestId = accepted.responseMetadata().requestId();
    assertNotNull(requestId);
    assertNotEquals("UNKNOWN", requestId);

    JsonNode record = json(awaitMessage(sqs, successUrl, RECORD_WAIT).body());
    assertEquals("1.0", record.path("version").asText());
    Instant at = Instant.parse(record.path("timestamp").asText());
    assertFalse(at.isBefore(before.minusSeconds(1)), record.toString());
    assertTrue(record.path("timestamp").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"),
        "ISO-8601 with milliseconds: " + record);
    JsonNode context = record.path("requestContext");
    assertEquals(requestId, context.path("requestId").asText());
    assertEquals(FUNCTION_ARN + "ev-id:$LATEST", context.path("functionArn").asText());
    assertEquals("Success", context.path("condition").asText());
    assertEquals(1, context.path("approximateInvokeCount").asInt());
    assertEquals(json("{\"n\":1}"), record.path("requestPayload"));
    assertEquals(json("{\"statusCode\":200,\"executedVersion\":\"$LATEST\"}"), record.path("responseContext"),
        "no functionError member on success");
    assertEquals(requestId, record.path("responsePayload").path("requestId").asText(),
        "the function's context.aws_request_id is the 202's x-amzn-RequestId");
    assertEquals(json("{\"n\":1}"), record.path("responsePayload").path("event"));
    assertEquals(1, executions(log(node, "ev-id"), requestId), "ran once");
  }

  @Test
  void payloadOver262144BytesIsRefusedWith413AndNothingIsQueued() {
    String successUrl = createQueue(sqs, "ev-big-success");
    reporter("ev-big");
    onSuccess("ev-big", null, QUEUE_ARN + "ev-big-success");

    LambdaException tooLarge = refused(() -> invokeEvent("ev-big", null, jsonOfSize(262145)));
    InvokeResponse atLimit = invokeEvent("ev-big", null, jsonOfSize(262144));

    assertError(tooLarge, 413, "RequestEntityTooLargeException",
        "262145 byte payload is too large for the Event invocation type (limit 262144 bytes)");
    assertEquals(202, atLimit.statusCode(), "262144 bytes is within the limit");
    List<Message> records = awaitMessages(sqs, successUrl, 1, RECORD_WAIT);
    records.addAll(receiveOnce(sqs, successUrl, 1));
    assertEquals(List.of(atLimit.responseMetadata().requestId()),
        records.stream().map(m -> json(m.body()).path("requestContext").path("requestId").asText()).toList(),
        "only the accepted event ran");
  }

  @Test
  void payloadThatIsNotJsonIsRefusedWithInvalidRequestContentAndNothingIsQueued() {
    String successUrl = createQueue(sqs, "ev-badjson-success");
    reporter("ev-badjson");
    onSuccess("ev-badjson", null, QUEUE_ARN + "ev-badjson-success");

    LambdaException notJson = refused(() -> invokeEvent("ev-badjson", null, "{\"unterminated\": "));
    InvokeResponse valid = invokeEvent("ev-badjson", null, "{\"ok\":true}");

    assertError(notJson, 400, "InvalidRequestContentException");
    assertTrue(notJson.awsErrorDetails().errorMessage().startsWith(
        "Could not parse request body into json: Could not parse payload into json: "), notJson.toString());
    List<Message> records = awaitMessages(sqs, successUrl, 1, RECORD_WAIT);
    records.addAll(receiveOnce(sqs, successUrl, 1));
    assertEquals(List.of(valid.responseMetadata().requestId()),
        records.stream().map(m -> json(m.body()).path("requestContext").path("requestId").asText()).toList());
  }

  @Test
  void eventInvokeOfAMissingFunctionIs404AndQueuesNothing() {
    LambdaException missing = refused(() -> invokeEvent("ev-ghost", null, "{}"));
    LambdaException missingAlias = refused(() -> invokeEvent("ev-ghost", "live", "{}"));

    assertError(missing, 404, "ResourceNotFoundException",
        "Function not found: " + FUNCTION_ARN + "ev-ghost:$LATEST");
    assertError(missingAlias, 404, "ResourceNotFoundException",
        "Function not found: " + FUNCTION_ARN + "ev-ghost:live");
    String scrape = AsyncFixture.metrics(node);
    assertFalse(scrape.contains("function=\"ev-ghost\""), "no event queue was created for it:\n" + scrape);
  }

  // ---- retries and failure handling ------------------------------------------------------------

  @Test
  void functionErrorIsRetriedMaximumRetryAttemptsTimesThenGoesToTheDlqAndTheOnFailureDestination()
      throws Exception {
    String dlqUrl = createQueue(sqs, "ev-fail-dlq");
    String failureUrl = createQueue(sqs, "ev-fail-failure");
    reporter("ev-fail", QUEUE_ARN + "ev-fail-dlq");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("ev-fail")
        .destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "ev-fail-failure"))));
    String event = "{\"fail\": true, \"message\": \"intentional failure\"}";
    long startedNanos = System.nanoTime();

    String requestId = invokeEvent("ev-fail", null, event).responseMetadata().requestId();

    JsonNode record = json(awaitMessage(sqs, failureUrl, RECORD_WAIT).body());
    long elapsedMillis = (System.nanoTime() - startedNanos) / 1_000_000;
    Message dlq = awaitMessage(sqs, dlqUrl, RECORD_WAIT);
    JsonNode context = record.path("requestContext");
    assertEquals(requestId, context.path("requestId").asText());
    assertEquals(FUNCTION_ARN + "ev-fail:$LATEST", context.path("functionArn").asText());
    assertEquals("RetriesExhausted", context.path("condition").asText());
    assertEquals(3, context.path("approximateInvokeCount").asInt(), "1 attempt + 2 retries (the default)");
    assertEquals(json(event), record.path("requestPayload"));
    assertEquals(json("{\"statusCode\":200,\"executedVersion\":\"$LATEST\",\"functionError\":\"Unhandled\"}"),
        record.path("responseContext"));
    assertEquals("intentional failure", record.path("responsePayload").path("errorMessage").asText(), record.toString());
    assertEquals("ValueError", record.path("responsePayload").path("errorType").asText(), record.toString());
    assertTrue(elapsedMillis >= 2 * RETRY_DELAY.toMillis(), "the retries waited their delays: " + elapsedMillis);

    assertEquals(event, dlq.body(), "the DLQ message is the original event, verbatim");
    assertEquals(Set.of("RequestID", "ErrorCode", "ErrorMessage"), dlq.messageAttributes().keySet());
    assertAttribute(dlq, "RequestID", "String", requestId);
    assertAttribute(dlq, "ErrorCode", "Number", "200");
    assertAttribute(dlq, "ErrorMessage", "String", "intentional failure");

    Thread.sleep(RETRY_DELAY.toMillis() + 500);  // long enough for a 4th attempt to show if there were one
    assertEquals(3, executions(log(node, "ev-fail"), requestId), log(node, "ev-fail"));
    assertEquals(List.of(), receiveOnce(sqs, failureUrl, 0), "one record per event");
  }

  @Test
  void maximumRetryAttemptsZeroRunsAFailingEventOnce() throws Exception {
    String failureUrl = createQueue(sqs, "ev-once-failure");
    reporter("ev-once");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("ev-once").maximumRetryAttempts(0)
        .destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "ev-once-failure"))));

    String requestId = invokeEvent("ev-once", null, "{\"fail\": true}").responseMetadata().requestId();

    JsonNode record = json(awaitMessage(sqs, failureUrl, RECORD_WAIT).body());
    assertEquals("RetriesExhausted", record.path("requestContext").path("condition").asText());
    assertEquals(1, record.path("requestContext").path("approximateInvokeCount").asInt());
    assertEquals("probe failure", record.path("responsePayload").path("errorMessage").asText());
    Thread.sleep(RETRY_DELAY.toMillis() + 500);
    assertEquals(1, executions(log(node, "ev-once"), requestId), log(node, "ev-once"));
  }

  @Test
  void reservedConcurrencyZeroSendsEventsToFailureHandlingWithoutRunningThem() throws Exception {
    String dlqUrl = createQueue(sqs, "ev-off-dlq");
    String failureUrl = createQueue(sqs, "ev-off-failure");
    reporter("ev-off", QUEUE_ARN + "ev-off-dlq");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("ev-off")
        .destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "ev-off-failure"))));
    lambda.putFunctionConcurrency(b -> b.functionName("ev-off").reservedConcurrentExecutions(0));

    InvokeResponse accepted = invokeEvent("ev-off", null, "{\"k\":\"v\"}");

    assertEquals(202, accepted.statusCode(), "accepted, although it cannot run");
    String requestId = accepted.responseMetadata().requestId();
    JsonNode record = json(awaitMessage(sqs, failureUrl, RECORD_WAIT).body());
    Message dlq = awaitMessage(sqs, dlqUrl, RECORD_WAIT);
    JsonNode context = record.path("requestContext");
    assertEquals(requestId, context.path("requestId").asText());
    assertEquals("RetriesExhausted", context.path("condition").asText());
    assertEquals(0, context.path("approximateInvokeCount").asInt(), record.toString());
    assertEquals(json("{\"k\":\"v\"}"), record.path("requestPayload"));
    assertTrue(record.path("responseContext").isMissingNode(), "nothing ran: " + record);
    assertTrue(record.path("responsePayload").isMissingNode(), "nothing ran: " + record);
    assertEquals("{\"k\":\"v\"}", dlq.body());
    assertAttribute(dlq, "RequestID", "String", requestId);
    assertEquals("Number", dlq.messageAttributes().get("ErrorCode").dataType());
    assertEquals(0, executions(log(node, "ev-off"), requestId), "never executed");
  }

  @Test
  void aThrottledEventWaitsWithBackoffAndRunsOnceConcurrencyIsFree() throws Exception {
    String successUrl = createQueue(sqs, "ev-busy-success");
    reporter("ev-busy");
    onSuccess("ev-busy", null, QUEUE_ARN + "ev-busy-success");
    lambda.putFunctionConcurrency(b -> b.functionName("ev-busy").reservedConcurrentExecutions(1));
    ExecutorService caller = Executors.newSingleThreadExecutor();
    try {
      Future<InvokeResponse> holder = caller.submit(() -> Functions.invoke(lambda, "ev-busy", "{\"sleep\": 2}"));
      awaitRunning("ev-busy");  // it holds the only unit now

      String requestId = invokeEvent("ev-busy", null, "{\"n\":1}").responseMetadata().requestId();

      JsonNode record = json(awaitMessage(sqs, successUrl, RECORD_WAIT).body());
      assertTrue(holder.isDone(), "the event ran only after the invocation holding the concurrency ended");
      assertNull(holder.get().functionError(), Functions.body(holder.get()));
      assertEquals(requestId, record.path("requestContext").path("requestId").asText());
      assertEquals("Success", record.path("requestContext").path("condition").asText());
      assertEquals(1, record.path("requestContext").path("approximateInvokeCount").asInt(),
          "throttled attempts are not executions: " + record);
      assertEquals(1, executions(log(node, "ev-busy"), requestId));
      assertTrue(AsyncFixture.metrics(node).contains("lamina_throttles_total{function=\"ev-busy\""),
          "the event was throttled on its way");
    } finally {
      caller.shutdownNow();
      caller.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aChangedConfigOrDeadLetterQueueAppliesToTheNextEvent() {
    String firstUrl = createQueue(sqs, "ev-change-first");
    String secondUrl = createQueue(sqs, "ev-change-second");
    String dlqUrl = createQueue(sqs, "ev-change-dlq");
    reporter("ev-change");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("ev-change").maximumRetryAttempts(0)
        .destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "ev-change-first"))));
    String first = invokeEvent("ev-change", null, "{\"fail\": true}").responseMetadata().requestId();
    JsonNode firstRecord = json(awaitMessage(sqs, firstUrl, RECORD_WAIT).body());

    lambda.updateFunctionEventInvokeConfig(b -> b.functionName("ev-change")
        .destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "ev-change-second"))));
    lambda.updateFunctionConfiguration(b -> b.functionName("ev-change")
        .deadLetterConfig(d -> d.targetArn(QUEUE_ARN + "ev-change-dlq")));
    String second = invokeEvent("ev-change", null, "{\"fail\": true}").responseMetadata().requestId();

    JsonNode secondRecord = json(awaitMessage(sqs, secondUrl, RECORD_WAIT).body());
    Message dlq = awaitMessage(sqs, dlqUrl, RECORD_WAIT);
    assertEquals(first, firstRecord.path("requestContext").path("requestId").asText());
    assertEquals(second, secondRecord.path("requestContext").path("requestId").asText());
    assertEquals(1, secondRecord.path("requestContext").path("approximateInvokeCount").asInt(),
        "the update kept MaximumRetryAttempts 0");
    assertEquals(second, dlq.messageAttributes().get("RequestID").stringValue());
    assertEquals(List.of(), receiveOnce(sqs, firstUrl, 0), "the old destination got nothing more");
  }

  // ---- destinations and qualifiers -------------------------------------------------------------

  @Test
  void aFunctionDestinationReceivesTheRecordAsItsEvent() {
    String successUrl = createQueue(sqs, "ev-dst-success");
    reporter("ev-dst");
    onSuccess("ev-dst", null, QUEUE_ARN + "ev-dst-success");
    reporter("ev-src");
    onSuccess("ev-src", null, FUNCTION_ARN + "ev-dst");

    String sourceId = invokeEvent("ev-src", null, "{\"k\":\"v\"}").responseMetadata().requestId();

    JsonNode outer = json(awaitMessage(sqs, successUrl, RECORD_WAIT).body());
    JsonNode delivered = outer.path("requestPayload");
    assertEquals(FUNCTION_ARN + "ev-dst:$LATEST", outer.path("requestContext").path("functionArn").asText());
    assertNotEquals(sourceId, outer.path("requestContext").path("requestId").asText(),
        "the destination ran as an invocation of its own");
    assertEquals(delivered, outer.path("responsePayload").path("event"), "what ev-dst's handler got as event");
    assertEquals(sourceId, delivered.path("requestContext").path("requestId").asText());
    assertEquals(FUNCTION_ARN + "ev-src:$LATEST", delivered.path("requestContext").path("functionArn").asText());
    assertEquals("Success", delivered.path("requestContext").path("condition").asText());
    assertEquals(json("{\"k\":\"v\"}"), delivered.path("requestPayload"));
    assertEquals(sourceId, delivered.path("responsePayload").path("requestId").asText());
  }

  @Test
  void aQualifiersEventInvokeConfigAppliesOnlyToInvocationsOfThatQualifier() throws Exception {
    String latestUrl = createQueue(sqs, "ev-q-latest");
    String aliasUrl = createQueue(sqs, "ev-q-live");
    reporter("ev-q");
    lambda.publishVersion(b -> b.functionName("ev-q"));
    lambda.createAlias(b -> b.functionName("ev-q").name("live").functionVersion("1"));
    onSuccess("ev-q", null, QUEUE_ARN + "ev-q-latest");
    onSuccess("ev-q", "live", QUEUE_ARN + "ev-q-live");

    String viaLatest = invokeEvent("ev-q", null, "{\"via\":\"latest\"}").responseMetadata().requestId();
    String viaAlias = invokeEvent("ev-q", "live", "{\"via\":\"alias\"}").responseMetadata().requestId();
    String viaVersion = invokeEvent("ev-q", "1", "{\"via\":\"version\"}").responseMetadata().requestId();

    JsonNode latestRecord = json(awaitMessage(sqs, latestUrl, RECORD_WAIT).body());
    JsonNode aliasRecord = json(awaitMessage(sqs, aliasUrl, RECORD_WAIT).body());
    awaitLog(node, "ev-q", l -> l.contains("END RequestId: " + viaVersion), RECORD_WAIT);
    assertEquals(viaLatest, latestRecord.path("requestContext").path("requestId").asText());
    assertEquals(FUNCTION_ARN + "ev-q:$LATEST", latestRecord.path("requestContext").path("functionArn").asText());
    assertEquals(viaAlias, aliasRecord.path("requestContext").path("requestId").asText());
    assertEquals(FUNCTION_ARN + "ev-q:live", aliasRecord.path("requestContext").path("functionArn").asText());
    assertEquals("1", aliasRecord.path("responseContext").path("executedVersion").asText());
    assertEquals("1", aliasRecord.path("responsePayload").path("version").asText());
    // Version 1 has no config of its own: its event ran and left no record in either queue.
    assertEquals(List.of(), receiveOnce(sqs, latestUrl, 1));
    assertEquals(List.of(), receiveOnce(sqs, aliasUrl, 0));
  }

  // ---- deletion --------------------------------------------------------------------------------

  @Test
  void aFunctionCreatedAgainRightAwayDoesNotRunTheEventsOfTheDeletedOne() throws Exception {
    reporter("ev-reborn");
    String old = invokeEvent("ev-reborn", null, "{\"fail\": true}").responseMetadata().requestId();
    // Its first attempt failed: it waits RETRY_DELAY for the next one.
    int ranBefore = executions(awaitLog(node, "ev-reborn", l -> l.contains("END RequestId: " + old), RECORD_WAIT),
        old);

    lambda.deleteFunction(b -> b.functionName("ev-reborn"));
    reporter("ev-reborn");  // before the old event's retry is due
    Thread.sleep(3 * RETRY_DELAY.toMillis());

    assertEquals(ranBefore, executions(log(node, "ev-reborn"), old),
        "the deleted function's event does not run on its successor:\n" + log(node, "ev-reborn"));
  }

  @Test
  void deletingAFunctionDropsItsQueuedEventsAndTheNodeKeepsServing() throws Exception {
    String failureUrl = createQueue(sqs, "ev-doomed-failure");
    String dlqUrl = createQueue(sqs, "ev-doomed-dlq");
    reporter("ev-doomed", QUEUE_ARN + "ev-doomed-dlq");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName("ev-doomed")
        .destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "ev-doomed-failure"))));
    String doomed = invokeEvent("ev-doomed", null, "{\"fail\": true}").responseMetadata().requestId();
    // Its first attempt failed: the event now waits RETRY_DELAY in the queue for its retry.
    int ranBeforeDeletion = executions(awaitLog(node, "ev-doomed", l -> l.contains("END RequestId: " + doomed),
        RECORD_WAIT), doomed);

    lambda.deleteFunction(b -> b.functionName("ev-doomed"));
    Thread.sleep(3 * RETRY_DELAY.toMillis());  // past every retry the event would have had

    assertEquals(List.of(), receiveOnce(sqs, failureUrl, 0), "dropped, not sent to failure handling");
    assertEquals(List.of(), receiveOnce(sqs, dlqUrl, 0), "dropped, not sent to the DLQ");
    // The node still serves, and a function created again under the name runs only its own events.
    String successUrl = createQueue(sqs, "ev-doomed-success");
    reporter("ev-doomed");
    onSuccess("ev-doomed", null, QUEUE_ARN + "ev-doomed-success");
    String fresh = invokeEvent("ev-doomed", null, "{\"n\":2}").responseMetadata().requestId();
    List<Message> records = awaitMessages(sqs, successUrl, 1, RECORD_WAIT);
    Thread.sleep(RETRY_DELAY.toMillis());
    records.addAll(receiveOnce(sqs, successUrl, 0));
    assertEquals(List.of(fresh), records.stream()
        .map(m -> json(m.body()).path("requestContext").path("requestId").asText()).toList());
    assertTrue(executions(log(node, "ev-doomed"), doomed) <= ranBeforeDeletion,
        "the old event did not run again, on the new function or otherwise:\n" + log(node, "ev-doomed"));
    InvokeResponse sync = Functions.invoke(lambda, "ev-doomed", "{\"sync\":1}");
    assertNull(sync.functionError(), Functions.body(sync));
  }

  @Test
  void theEventMetricsOfAFunctionCreatedAgainCountItsEvents() throws Exception {
    reporter("ev-meter");
    List<String> before = new ArrayList<>();
    for (int i = 0; i < 4; i++) {  // one per queue partition of the function
      before.add(invokeEvent("ev-meter", null, "{}").responseMetadata().requestId());
    }
    awaitLog(node, "ev-meter", l -> before.stream().allMatch(id -> l.contains("END RequestId: " + id)), RECORD_WAIT);
    lambda.deleteFunction(b -> b.functionName("ev-meter"));
    reporter("ev-meter");

    List<String> after = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      after.add(invokeEvent("ev-meter", null, "{}").responseMetadata().requestId());
    }

    awaitLog(node, "ev-meter", l -> after.stream().allMatch(id -> l.contains("END RequestId: " + id)), RECORD_WAIT);
    String scrape = AsyncFixture.metrics(node);
    Matcher accepted = Pattern.compile(
        "(?m)^lamina_events_accepted_total\\{function=\"ev-meter\"[^}]*\\} (\\S+)$").matcher(scrape);
    assertTrue(accepted.find(), "the new function's accepted events are in the scrape:\n" + scrape);
    assertEquals(4.0, Double.parseDouble(accepted.group(1)), scrape);
  }

  @Test
  void anEventWaitingForItsRetryIsRetriedAfterANodeRestart() throws Exception {
    Path dataDir = Files.createTempDirectory("lamina-events-restart-");
    Config slowRetry = ConfigFactory.parseString("lamina.events.retry-delays = [3 s]");
    try {
      String requestId;
      try (TestNode first = TestNode.start(dataDir, false, slowRetry); SqsClient firstSqs = AsyncFixture.sqs(first)) {
        createQueue(firstSqs, "kept-failure");
        first.lambda().createFunction(b -> b.functionName("kept").runtime("python3.12").handler("app.handler")
            .role(ROLE).code(c -> c.zipFile(REPORTER)));
        first.lambda().putFunctionEventInvokeConfig(b -> b.functionName("kept").maximumRetryAttempts(1)
            .destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "kept-failure"))));
        requestId = first.lambda().invoke(b -> b.functionName("kept").invocationType(InvocationType.EVENT)
            .payload(SdkBytes.fromUtf8String("{\"fail\": true}"))).responseMetadata().requestId();
        awaitLog(first, "kept", l -> l.contains("END RequestId: " + requestId), RECORD_WAIT);
      }  // stopped while the event waits for its retry

      try (TestNode second = TestNode.start(dataDir, false, slowRetry); SqsClient secondSqs = AsyncFixture.sqs(second)) {
        String failureUrl = secondSqs.getQueueUrl(b -> b.queueName("kept-failure")).queueUrl();
        JsonNode record = json(awaitMessage(secondSqs, failureUrl, RECORD_WAIT).body());
        assertEquals(requestId, record.path("requestContext").path("requestId").asText());
        assertEquals("RetriesExhausted", record.path("requestContext").path("condition").asText());
        assertEquals(2, record.path("requestContext").path("approximateInvokeCount").asInt(),
            "the attempt before the restart counts: " + record);
      }
    } finally {
      TestNode.deleteTree(dataDir);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Waits (bounded) until the node's metrics show one invocation of {@code function} in flight. */
  private static void awaitRunning(String function) throws InterruptedException {
    Pattern running = Pattern.compile(
        "(?m)^lamina_concurrent_executions\\{function=\"" + function + "\"[^}]*\\} 1(\\.0)?$");
    long deadline = System.nanoTime() + RECORD_WAIT.toNanos();
    while (!running.matcher(AsyncFixture.metrics(node)).find()) {
      assertTrue(System.nanoTime() < deadline, "never running:\n" + AsyncFixture.metrics(node));
      Thread.sleep(20);
    }
  }

  private static void reporter(String name) {
    reporter(name, null);
  }

  private static void reporter(String name, String deadLetterArn) {
    lambda.createFunction(b -> {
      b.functionName(name).runtime("python3.12").handler("app.handler").role(ROLE).timeout(10)
          .code(c -> c.zipFile(REPORTER));
      if (deadLetterArn != null) {
        b.deadLetterConfig(d -> d.targetArn(deadLetterArn));
      }
    });
  }

  private static void onSuccess(String function, String qualifier, String destination) {
    lambda.putFunctionEventInvokeConfig(b -> b.functionName(function).qualifier(qualifier)
        .destinationConfig(d -> d.onSuccess(s -> s.destination(destination))));
  }

  private static InvokeResponse invokeEvent(String function, String qualifier, String payload) {
    return lambda.invoke(b -> b.functionName(function).qualifier(qualifier).invocationType(InvocationType.EVENT)
        .payload(SdkBytes.fromUtf8String(payload)));
  }

  /** A JSON object of exactly {@code bytes} bytes. */
  private static String jsonOfSize(int bytes) {
    String shell = "{\"pad\":\"\"}";
    return "{\"pad\":\"" + "x".repeat(bytes - shell.length()) + "\"}";
  }

  private static void assertAttribute(Message message, String name, String dataType, String value) {
    MessageAttributeValue attribute = message.messageAttributes().get(name);
    assertNotNull(attribute, name + " in " + message.messageAttributes());
    assertEquals(dataType, attribute.dataType(), name);
    assertEquals(value, attribute.stringValue(), name);
  }
}
