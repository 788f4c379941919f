package dev.lamina.node.queues;

import static dev.lamina.node.queues.QueueFixtures.FUNCTION_ARN_PREFIX;
import static dev.lamina.node.queues.QueueFixtures.QUEUE_ARN_PREFIX;
import static dev.lamina.node.queues.QueueFixtures.await;
import static dev.lamina.node.queues.QueueFixtures.md5Hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResultEntry;
import software.amazon.awssdk.services.sqs.model.InvalidAttributeNameException;
import software.amazon.awssdk.services.sqs.model.InvalidAttributeValueException;
import software.amazon.awssdk.services.sqs.model.ListMessageMoveTasksResultEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;
import software.amazon.awssdk.services.sqs.model.QueueNameExistsException;
import software.amazon.awssdk.services.sqs.model.ReceiptHandleIsInvalidException;
import software.amazon.awssdk.services.sqs.model.ResourceNotFoundException;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageResponse;
import software.amazon.awssdk.services.sqs.model.SqsException;

/**
 * Lamina queues as an SQS user sees them through the AWS SDK v2 SqsClient (SQS JSON protocol):
 * queue lifecycle and attributes, messages with attributes (the SDK's MD5 checks on), batches with
 * per-entry failures, visibility, delays, long polls, purge, size limits, the redrive policy and
 * dead-letter redrive (back to the source, to another queue, to a function), restarts, and the
 * error shapes.
 */
@ExtendWith(NodePerClass.class)
class QueuesTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  static TestNode node;
  static LambdaClient lambda;
  private static SqsClient sqs;

  @BeforeAll
  static void client() {
    sqs = QueueFixtures.sqs(node.endpoint());
  }

  @AfterAll
  static void closeClient() {
    sqs.close();
  }

  // ---- CreateQueue / GetQueueUrl / ListQueues / DeleteQueue ----------------------------------------

  @Test
  void createQueueAnswersTheQueueUrlAndIsIdempotentWithTheSameAttributes() {
    String url = sqs.createQueue(b -> b.queueName("q-create")
        .attributesWithStrings(Map.of("VisibilityTimeout", "5"))).queueUrl();

    String again = sqs.createQueue(b -> b.queueName("q-create")
        .attributesWithStrings(Map.of("VisibilityTimeout", "5"))).queueUrl();
    String plain = sqs.createQueue(b -> b.queueName("q-create")).queueUrl();

    assertEquals(QueueFixtures.queueUrl(node, "q-create"), url);
    assertEquals(url, again);
    assertEquals(url, plain, "no attributes: the existing queue's URL");
    assertEquals(url, sqs.getQueueUrl(b -> b.queueName("q-create")).queueUrl());
    assertEquals("5", attributes("q-create").get("VisibilityTimeout"));
  }

  @Test
  void createQueueWithADifferentAttributeValueIsRefusedWithQueueNameExists() {
    sqs.createQueue(b -> b.queueName("q-exists").attributesWithStrings(Map.of("DelaySeconds", "1")));

    QueueNameExistsException e = assertThrows(QueueNameExistsException.class, () -> sqs.createQueue(b -> b
        .queueName("q-exists").attributesWithStrings(Map.of("DelaySeconds", "2"))));

    assertEquals(400, e.statusCode());
    assertEquals("QueueAlreadyExists", e.awsErrorDetails().errorCode());
    assertEquals("A queue already exists with the same name and a different value for attribute DelaySeconds",
        e.awsErrorDetails().errorMessage());
    assertEquals("1", attributes("q-exists").get("DelaySeconds"), "the existing queue is unchanged");
  }

  @Test
  void listQueuesFiltersByPrefixAndPagesWithMaxResults() {
    for (String name : List.of("lq-alpha-2", "lq-alpha-1", "lq-beta")) {
      sqs.createQueue(b -> b.queueName(name));
    }

    List<String> alpha = sqs.listQueues(b -> b.queueNamePrefix("lq-alpha")).queueUrls();
    var firstPage = sqs.listQueues(b -> b.queueNamePrefix("lq-").maxResults(2));
    List<String> paged = sqs.listQueuesPaginator(b -> b.queueNamePrefix("lq-").maxResults(1)).queueUrls().stream()
        .toList();
    List<String> none = sqs.listQueues(b -> b.queueNamePrefix("lq-nothing")).queueUrls();

    assertEquals(List.of(QueueFixtures.queueUrl(node, "lq-alpha-1"), QueueFixtures.queueUrl(node, "lq-alpha-2")),
        alpha);
    assertEquals(2, firstPage.queueUrls().size());
    assertNotNull(firstPage.nextToken(), "more remain after a page of MaxResults");
    assertEquals(List.of(QueueFixtures.queueUrl(node, "lq-alpha-1"), QueueFixtures.queueUrl(node, "lq-alpha-2"),
        QueueFixtures.queueUrl(node, "lq-beta")), paged);
    assertEquals(List.of(), none);
  }

  @Test
  void deletedQueueIsGoneForEveryOperation() {
    String url = sqs.createQueue(b -> b.queueName("q-deleted")).queueUrl();
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("left behind"));

    sqs.deleteQueue(b -> b.queueUrl(url));

    assertNoQueue(assertThrows(QueueDoesNotExistException.class, () -> sqs.getQueueUrl(b -> b.queueName("q-deleted"))));
    assertNoQueue(assertThrows(QueueDoesNotExistException.class,
        () -> sqs.sendMessage(b -> b.queueUrl(url).messageBody("x"))));
    assertNoQueue(assertThrows(QueueDoesNotExistException.class, () -> sqs.receiveMessage(b -> b.queueUrl(url))));
    assertNoQueue(assertThrows(QueueDoesNotExistException.class, () -> sqs.deleteQueue(b -> b.queueUrl(url))));
    assertFalse(sqs.listQueues(b -> b.queueNamePrefix("q-deleted")).queueUrls().contains(url));
  }

  @Test
  void aMissingQueueIsQueueDoesNotExistWithTheLegacyCodeOnTheWire() throws Exception {
    String url = QueueFixtures.queueUrl(node, "q-never-created");

    QueueDoesNotExistException e = assertThrows(QueueDoesNotExistException.class,
        () -> sqs.sendMessage(b -> b.queueUrl(url).messageBody("x")));
    HttpResponse<String> raw = SignedHttp.send(SignedHttp.sqs(node.endpoint(), "GetQueueUrl",
        "{\"QueueName\":\"q-never-created\"}"));

    assertNoQueue(e);
    assertEquals(400, raw.statusCode());
    assertEquals("application/x-amz-json-1.0", raw.headers().firstValue("Content-Type").orElse(null));
    assertEquals("AWS.SimpleQueueService.NonExistentQueue;Sender",
        raw.headers().firstValue("x-amzn-query-error").orElse(null));
    JsonNode body = JSON.readTree(raw.body());
    assertEquals("com.amazonaws.sqs#QueueDoesNotExist", body.path("__type").asText());
    assertEquals("The specified queue does not exist.", body.path("message").asText());
  }

  // ---- Get/SetQueueAttributes ----------------------------------------------------------------------

  @Test
  void getQueueAttributesAllShowsSettingsArnCountersAndRedrivePolicy() throws Exception {
    sqs.createQueue(b -> b.queueName("q-attrs-dlq"));
    long before = System.currentTimeMillis() / 1000;
    String url = sqs.createQueue(b -> b.queueName("q-attrs").attributesWithStrings(Map.of(
        "VisibilityTimeout", "40", "MessageRetentionPeriod", "600", "MaximumMessageSize", "2048",
        "DelaySeconds", "0", "ReceiveMessageWaitTimeSeconds", "2",
        "RedrivePolicy", "{\"deadLetterTargetArn\":\"" + QUEUE_ARN_PREFIX + "q-attrs-dlq\",\"maxReceiveCount\":\"3\"}")))
        .queueUrl();
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("one"));
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("two"));
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("later").delaySeconds(60));
    sqs.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(1).waitTimeSeconds(0));

    Map<String, String> all = attributes("q-attrs");

    assertEquals(QUEUE_ARN_PREFIX + "q-attrs", all.get("QueueArn"));
    assertEquals("1", all.get("ApproximateNumberOfMessages"));
    assertEquals("1", all.get("ApproximateNumberOfMessagesNotVisible"));
    assertEquals("1", all.get("ApproximateNumberOfMessagesDelayed"));
    assertEquals("40", all.get("VisibilityTimeout"));
    assertEquals("600", all.get("MessageRetentionPeriod"));
    assertEquals("2048", all.get("MaximumMessageSize"));
    assertEquals("0", all.get("DelaySeconds"));
    assertEquals("2", all.get("ReceiveMessageWaitTimeSeconds"));
    long created = Long.parseLong(all.get("CreatedTimestamp"));
    assertTrue(created >= before && created <= System.currentTimeMillis() / 1000 + 1, "epoch seconds: " + created);
    assertEquals(created, Long.parseLong(all.get("LastModifiedTimestamp")));
    JsonNode policy = JSON.readTree(all.get("RedrivePolicy"));
    assertEquals(QUEUE_ARN_PREFIX + "q-attrs-dlq", policy.path("deadLetterTargetArn").asText());
    assertEquals(3, policy.path("maxReceiveCount").asInt());
    assertNull(attributes("q-attrs-dlq").get("RedrivePolicy"), "no RedrivePolicy unless set");
  }

  @Test
  void getQueueAttributesWithNamesReturnsOnlyThoseAndRefusesUnknownNames() {
    String url = sqs.createQueue(b -> b.queueName("q-attr-names")).queueUrl();

    Map<String, String> some = sqs.getQueueAttributes(b -> b.queueUrl(url)
        .attributeNames(QueueAttributeName.VISIBILITY_TIMEOUT, QueueAttributeName.QUEUE_ARN)).attributesAsStrings();
    InvalidAttributeNameException unknown = assertThrows(InvalidAttributeNameException.class,
        () -> sqs.getQueueAttributes(b -> b.queueUrl(url).attributeNamesWithStrings("Bogus")));

    assertEquals(Map.of("VisibilityTimeout", "30", "QueueArn", QUEUE_ARN_PREFIX + "q-attr-names"), some);
    assertEquals(400, unknown.statusCode());
    assertEquals("Unknown Attribute Bogus.", unknown.awsErrorDetails().errorMessage());
  }

  @Test
  void setQueueAttributesChangesSettingsRemovesTheRedrivePolicyAndValidatesValues() {
    sqs.createQueue(b -> b.queueName("q-set-dlq"));
    String url = sqs.createQueue(b -> b.queueName("q-set")).queueUrl();

    sqs.setQueueAttributes(b -> b.queueUrl(url).attributesWithStrings(Map.of("VisibilityTimeout", "7",
        "RedrivePolicy", "{\"deadLetterTargetArn\":\"" + QUEUE_ARN_PREFIX + "q-set-dlq\",\"maxReceiveCount\":5}")));
    Map<String, String> set = attributes("q-set");
    List<String> sources = sqs.listDeadLetterSourceQueues(b -> b.queueUrl(QueueFixtures.queueUrl(node, "q-set-dlq")))
        .queueUrls();
    sqs.setQueueAttributes(b -> b.queueUrl(url).attributesWithStrings(Map.of("RedrivePolicy", "")));
    Map<String, String> unset = attributes("q-set");
    InvalidAttributeValueException bad = assertThrows(InvalidAttributeValueException.class,
        () -> sqs.setQueueAttributes(b -> b.queueUrl(url).attributesWithStrings(Map.of("VisibilityTimeout", "43201"))));

    assertEquals("7", set.get("VisibilityTimeout"));
    assertTrue(set.get("RedrivePolicy").contains(QUEUE_ARN_PREFIX + "q-set-dlq"), set.get("RedrivePolicy"));
    assertEquals(List.of(QueueFixtures.queueUrl(node, "q-set")), sources);
    assertNull(unset.get("RedrivePolicy"), "an empty RedrivePolicy removes it");
    assertEquals(List.of(), sqs.listDeadLetterSourceQueues(b -> b.queueUrl(QueueFixtures.queueUrl(node, "q-set-dlq")))
        .queueUrls());
    assertEquals("7", unset.get("VisibilityTimeout"));
    assertEquals(400, bad.statusCode());
    assertEquals("Invalid value for the parameter VisibilityTimeout.", bad.awsErrorDetails().errorMessage());
    assertEquals("7", attributes("q-set").get("VisibilityTimeout"));
  }

  // ---- messages ------------------------------------------------------------------------------------

  @Test
  void aMessageWithStringNumberAndBinaryAttributesIsReceivedIntactAndDeleted() {
    String url = sqs.createQueue(b -> b.queueName("q-msg")).queueUrl();
    byte[] bytes = {0, 1, 2, (byte) 0xff, 42};
    Map<String, MessageAttributeValue> sentAttributes = Map.of(
        "colour", MessageAttributeValue.builder().dataType("String").stringValue("blue ✓").build(),
        "count", MessageAttributeValue.builder().dataType("Number").stringValue("42").build(),
        "blob", MessageAttributeValue.builder().dataType("Binary").binaryValue(SdkBytes.fromByteArray(bytes)).build());
    long before = System.currentTimeMillis();

    // The SDK checks MD5OfMessageBody and MD5OfMessageAttributes of both answers itself.
    SendMessageResponse sent = sqs.sendMessage(b -> b.queueUrl(url).messageBody("héllo").messageAttributes(sentAttributes));
    List<Message> received = sqs.receiveMessage(b -> b.queueUrl(url).messageAttributeNames("All")
        .messageSystemAttributeNames(MessageSystemAttributeName.ALL).waitTimeSeconds(1)).messages();

    assertEquals("be50e8478cf24ff3595bc7307fb91b50", sent.md5OfMessageBody());
    assertNotNull(sent.md5OfMessageAttributes());
    assertEquals(1, received.size());
    Message m = received.get(0);
    assertEquals(sent.messageId(), m.messageId());
    assertEquals("héllo", m.body());
    assertEquals(sent.md5OfMessageBody(), m.md5OfBody());
    assertEquals(sent.md5OfMessageAttributes(), m.md5OfMessageAttributes());
    assertEquals("blue ✓", m.messageAttributes().get("colour").stringValue());
    assertEquals("String", m.messageAttributes().get("colour").dataType());
    assertEquals("42", m.messageAttributes().get("count").stringValue());
    assertEquals("Number", m.messageAttributes().get("count").dataType());
    assertEquals(SdkBytes.fromByteArray(bytes), m.messageAttributes().get("blob").binaryValue());
    Map<String, String> system = m.attributesAsStrings();
    assertEquals("1", system.get("ApproximateReceiveCount"));
    long sentAt = Long.parseLong(system.get("SentTimestamp"));
    assertTrue(sentAt >= before && sentAt <= System.currentTimeMillis(), "epoch millis: " + sentAt);
    assertTrue(Long.parseLong(system.get("ApproximateFirstReceiveTimestamp")) >= sentAt);
    assertNotNull(system.get("SenderId"));

    sqs.deleteMessage(b -> b.queueUrl(url).receiptHandle(m.receiptHandle()));

    Map<String, String> after = attributes("q-msg");
    assertEquals("0", after.get("ApproximateNumberOfMessages"));
    assertEquals("0", after.get("ApproximateNumberOfMessagesNotVisible"));
    assertEquals(List.of(), sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(0)).messages());
  }

  @Test
  void receiveReturnsOnlyTheRequestedMessageAttributesWithTheirOwnDigest() {
    String url = sqs.createQueue(b -> b.queueName("q-msg-filter")).queueUrl();
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("filtered").messageAttributes(Map.of(
        "trace.id", MessageAttributeValue.builder().dataType("String").stringValue("t-1").build(),
        "trace.parent", MessageAttributeValue.builder().dataType("String").stringValue("p-1").build(),
        "other", MessageAttributeValue.builder().dataType("Number.int").stringValue("7").build())));

    // The SDK recomputes MD5OfMessageAttributes over what came back: a digest of all three fails here.
    Message m = sqs.receiveMessage(b -> b.queueUrl(url).messageAttributeNames("trace.*").waitTimeSeconds(1))
        .messages().get(0);
    sqs.changeMessageVisibility(b -> b.queueUrl(url).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
    Message none = sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(1)).messages().get(0);

    assertEquals(List.of("trace.id", "trace.parent"), m.messageAttributes().keySet().stream().sorted().toList());
    assertTrue(none.messageAttributes().isEmpty(), "no MessageAttributeNames: no attributes");
    assertNull(none.md5OfMessageAttributes());
    assertTrue(none.attributes().isEmpty(), "no system attribute names: no Attributes");
  }

  @Test
  void sendMessageBatchReportsAnOversizedEntryAsFailedAndSendsTheOthers() {
    String url = sqs.createQueue(b -> b.queueName("q-batch-send")
        .attributesWithStrings(Map.of("MaximumMessageSize", "1024"))).queueUrl();

    SendMessageBatchResponse response = sqs.sendMessageBatch(b -> b.queueUrl(url).entries(
        e -> e.id("a").messageBody("first").messageAttributes(Map.of("k",
            MessageAttributeValue.builder().dataType("String").stringValue("v").build())),
        e -> e.id("too-big").messageBody("x".repeat(1025)),
        e -> e.id("c").messageBody("third")));

    assertEquals(List.of("a", "c"), response.successful().stream().map(s -> s.id()).toList());
    assertEquals(md5Hex("first"), response.successful().get(0).md5OfMessageBody());
    assertNotNull(response.successful().get(0).md5OfMessageAttributes());
    assertEquals(1, response.failed().size());
    BatchResultErrorEntry failed = response.failed().get(0);
    assertEquals("too-big", failed.id());
    assertTrue(failed.senderFault());
    assertEquals("InvalidParameterValue", failed.code());
    assertEquals("One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.",
        failed.message());
    assertEquals("2", attributes("q-batch-send").get("ApproximateNumberOfMessages"));
  }

  @Test
  void deleteMessageBatchReportsABadReceiptHandleAndDeletesTheOthers() {
    String url = sqs.createQueue(b -> b.queueName("q-batch-delete")).queueUrl();
    sqs.sendMessageBatch(b -> b.queueUrl(url).entries(e -> e.id("1").messageBody("one"),
        e -> e.id("2").messageBody("two")));
    List<Message> received = sqs.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(1))
        .messages();
    assertEquals(2, received.size());

    DeleteMessageBatchResponse response = sqs.deleteMessageBatch(b -> b.queueUrl(url).entries(
        e -> e.id("first").receiptHandle(received.get(0).receiptHandle()),
        e -> e.id("bogus").receiptHandle("not-a-receipt-handle"),
        e -> e.id("second").receiptHandle(received.get(1).receiptHandle())));
    ReceiptHandleIsInvalidException single = assertThrows(ReceiptHandleIsInvalidException.class,
        () -> sqs.deleteMessage(b -> b.queueUrl(url).receiptHandle("not-a-receipt-handle")));

    assertEquals(List.of("first", "second"),
        response.successful().stream().map(DeleteMessageBatchResultEntry::id).toList());
    assertEquals(1, response.failed().size());
    assertEquals("bogus", response.failed().get(0).id());
    assertEquals("ReceiptHandleIsInvalid", response.failed().get(0).code());
    assertTrue(response.failed().get(0).senderFault());
    assertEquals("The input receipt handle \"not-a-receipt-handle\" is not a valid receipt handle.",
        response.failed().get(0).message());
    assertEquals("ReceiptHandleIsInvalid", single.awsErrorDetails().errorCode());
    Map<String, String> after = attributes("q-batch-delete");
    assertEquals("0", after.get("ApproximateNumberOfMessages"));
    assertEquals("0", after.get("ApproximateNumberOfMessagesNotVisible"));
  }

  @Test
  void aReceivedMessageIsInvisibleForTheVisibilityTimeoutThenVisibleAgain() {
    String url = sqs.createQueue(b -> b.queueName("q-visibility")).queueUrl();
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("peekaboo"));

    Message first = receiveOne(url, 1, 1);
    List<Message> whileInvisible = sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(0)).messages();
    Map<String, String> counts = attributes("q-visibility");
    long hidden = System.nanoTime();
    Message second = receiveOne(url, 30, 5);
    long hiddenMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - hidden);

    assertEquals(List.of(), whileInvisible);
    assertEquals("0", counts.get("ApproximateNumberOfMessages"));
    assertEquals("1", counts.get("ApproximateNumberOfMessagesNotVisible"));
    assertEquals(first.messageId(), second.messageId());
    assertEquals("2", second.attributesAsStrings().get("ApproximateReceiveCount"));
    assertTrue(hiddenMillis >= 500 && hiddenMillis < 4000, "visible again after about 1 s: " + hiddenMillis + " ms");
    // The first receive's handle no longer deletes it: only the latest one does.
    sqs.deleteMessage(b -> b.queueUrl(url).receiptHandle(first.receiptHandle()));
    assertEquals("1", attributes("q-visibility").get("ApproximateNumberOfMessagesNotVisible"));
  }

  @Test
  void changeMessageVisibilityToZeroMakesTheMessageVisibleAtOnce() {
    String url = sqs.createQueue(b -> b.queueName("q-change-visibility")).queueUrl();
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("again"));
    Message m = receiveOne(url, 300, 1);

    sqs.changeMessageVisibility(b -> b.queueUrl(url).receiptHandle(m.receiptHandle()).visibilityTimeout(0));
    Message again = receiveOne(url, 300, 0);
    var batch = sqs.changeMessageVisibilityBatch(b -> b.queueUrl(url).entries(
        e -> e.id("ok").receiptHandle(again.receiptHandle()).visibilityTimeout(0),
        e -> e.id("bad").receiptHandle("not-a-receipt-handle").visibilityTimeout(0)));
    SqsException notInFlight = assertThrows(SqsException.class, () -> sqs.changeMessageVisibility(b -> b
        .queueUrl(url).receiptHandle(again.receiptHandle()).visibilityTimeout(10)));

    assertEquals(m.messageId(), again.messageId());
    assertEquals("2", again.attributesAsStrings().get("ApproximateReceiveCount"));
    assertEquals(List.of("ok"), batch.successful().stream().map(s -> s.id()).toList());
    assertEquals("ReceiptHandleIsInvalid", batch.failed().get(0).code());
    assertEquals(400, notInFlight.statusCode(), "the message is visible, not in flight");
    assertEquals("1", attributes("q-change-visibility").get("ApproximateNumberOfMessages"));
  }

  @Test
  void aDelayedMessageIsCountedAsDelayedAndReceivedOnlyAfterItsDelay() {
    String url = sqs.createQueue(b -> b.queueName("q-delay")).queueUrl();
    String queueDelayed = sqs.createQueue(b -> b.queueName("q-delay-queue")
        .attributesWithStrings(Map.of("DelaySeconds", "60"))).queueUrl();

    long sent = System.nanoTime();
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("soon").delaySeconds(2));
    sqs.sendMessage(b -> b.queueUrl(queueDelayed).messageBody("by the queue"));
    sqs.sendMessage(b -> b.queueUrl(queueDelayed).messageBody("not delayed").delaySeconds(0));
    Map<String, String> counts = attributes("q-delay");
    List<Message> early = sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(0)).messages();
    Message late = receiveOne(url, 30, 10);
    long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);

    assertEquals("1", counts.get("ApproximateNumberOfMessagesDelayed"));
    assertEquals("0", counts.get("ApproximateNumberOfMessages"));
    assertEquals(List.of(), early);
    assertEquals("soon", late.body());
    assertTrue(waited >= 1500 && waited < 6000, "received after its 2 s delay: " + waited + " ms");
    Map<String, String> queueLevel = attributes("q-delay-queue");
    assertEquals("1", queueLevel.get("ApproximateNumberOfMessagesDelayed"), "the queue's DelaySeconds applies");
    assertEquals("1", queueLevel.get("ApproximateNumberOfMessages"), "DelaySeconds 0 on the message overrides it");
  }

  @Test
  void aLongPollReturnsAsSoonAsAMessageIsSent() throws Exception {
    String url = sqs.createQueue(b -> b.queueName("q-long-poll")).queueUrl();
    CompletableFuture<List<Message>> poll = CompletableFuture.supplyAsync(
        () -> sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(15)).messages());
    QueueFixtures.sleep(700);

    long sent = System.nanoTime();
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("wake up"));
    List<Message> got = poll.get(10, TimeUnit.SECONDS);
    long latency = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);

    assertEquals(List.of("wake up"), got.stream().map(Message::body).toList());
    assertTrue(latency < 2000, "answered " + latency + " ms after the send, not at the end of the wait");
  }

  @Test
  void aLongPollOnAnEmptyQueueWaitsItsTimeAndTheQueueDefaultApplies() {
    String url = sqs.createQueue(b -> b.queueName("q-long-empty")
        .attributesWithStrings(Map.of("ReceiveMessageWaitTimeSeconds", "1"))).queueUrl();

    long start = System.nanoTime();
    List<Message> explicit = sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(2)).messages();
    long explicitMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    start = System.nanoTime();
    List<Message> byDefault = sqs.receiveMessage(b -> b.queueUrl(url)).messages();
    long defaultMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    start = System.nanoTime();
    sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(0));
    long shortMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    assertEquals(List.of(), explicit);
    assertEquals(List.of(), byDefault);
    assertTrue(explicitMillis >= 1800 && explicitMillis < 5000, "waited " + explicitMillis + " ms of 2 s");
    assertTrue(defaultMillis >= 800 && defaultMillis < 4000, "queue default 1 s, waited " + defaultMillis + " ms");
    assertTrue(shortMillis < 800, "WaitTimeSeconds 0 is a short poll: " + shortMillis + " ms");
  }

  @Test
  void purgeQueueRemovesEveryMessage() {
    String url = sqs.createQueue(b -> b.queueName("q-purge")).queueUrl();
    sqs.sendMessageBatch(b -> b.queueUrl(url).entries(e -> e.id("1").messageBody("a"),
        e -> e.id("2").messageBody("b"), e -> e.id("3").messageBody("c").delaySeconds(30)));
    receiveOne(url, 300, 1);

    sqs.purgeQueue(b -> b.queueUrl(url));

    Map<String, String> after = attributes("q-purge");
    assertEquals("0", after.get("ApproximateNumberOfMessages"));
    assertEquals("0", after.get("ApproximateNumberOfMessagesNotVisible"));
    assertEquals("0", after.get("ApproximateNumberOfMessagesDelayed"));
    assertEquals(List.of(), sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(0)).messages());
  }

  @Test
  void aMessageLongerThanTheQueuesMaximumIsRefusedWithItsSize() {
    String url = sqs.createQueue(b -> b.queueName("q-too-long")
        .attributesWithStrings(Map.of("MaximumMessageSize", "1024"))).queueUrl();

    sqs.sendMessage(b -> b.queueUrl(url).messageBody("x".repeat(1024)));
    SqsException e = assertThrows(SqsException.class, () -> sqs.sendMessage(b -> b.queueUrl(url)
        .messageBody("x".repeat(1025))));

    assertEquals(400, e.statusCode());
    assertEquals("InvalidParameterValue", e.awsErrorDetails().errorCode());
    assertEquals("One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.",
        e.awsErrorDetails().errorMessage());
    assertEquals("1", attributes("q-too-long").get("ApproximateNumberOfMessages"));
  }

  @Test
  void aBinaryAttributeCountsItsBytesNotItsBase64TowardsTheMaximumSize() {
    String url = sqs.createQueue(b -> b.queueName("q-size-binary")
        .attributesWithStrings(Map.of("MaximumMessageSize", "1024"))).queueUrl();
    // 990 body bytes + "b" + "Binary" + 24 value bytes = 1021 bytes; its base64 text would make it 1029.
    MessageAttributeValue blob = MessageAttributeValue.builder().dataType("Binary")
        .binaryValue(SdkBytes.fromByteArray(new byte[24])).build();

    SendMessageResponse sent = sqs.sendMessage(b -> b.queueUrl(url).messageBody("x".repeat(990))
        .messageAttributes(Map.of("b", blob)));

    assertNotNull(sent.messageId());
  }

  // ---- redrive policy and move tasks ---------------------------------------------------------------

  @Test
  void aMessageReceivedMaxReceiveCountTimesMovesToTheDeadLetterQueueAtItsNextReceive() {
    String dlq = sqs.createQueue(b -> b.queueName("q-redrive-dlq")).queueUrl();
    String url = sqs.createQueue(b -> b.queueName("q-redrive").attributesWithStrings(Map.of("RedrivePolicy",
        "{\"deadLetterTargetArn\":\"" + QUEUE_ARN_PREFIX + "q-redrive-dlq\",\"maxReceiveCount\":2}"))).queueUrl();
    String messageId = sqs.sendMessage(b -> b.queueUrl(url).messageBody("poison").messageAttributes(Map.of("why",
        MessageAttributeValue.builder().dataType("String").stringValue("test").build()))).messageId();

    Message first = receiveOne(url, 0, 1);
    Message second = receiveOne(url, 0, 1);
    List<Message> third = sqs.receiveMessage(b -> b.queueUrl(url).visibilityTimeout(0).waitTimeSeconds(1)).messages();
    Message dead = receiveOne(dlq, 30, 5);

    assertEquals(messageId, first.messageId());
    assertEquals("1", first.attributesAsStrings().get("ApproximateReceiveCount"));
    assertEquals("2", second.attributesAsStrings().get("ApproximateReceiveCount"));
    assertEquals(List.of(), third, "the third receive moves it instead of returning it");
    assertEquals("poison", dead.body());
    assertEquals("test", dead.messageAttributes().get("why").stringValue());
    assertEquals(QUEUE_ARN_PREFIX + "q-redrive", dead.attributesAsStrings().get("DeadLetterQueueSourceArn"));
    assertTrue(Integer.parseInt(dead.attributesAsStrings().get("ApproximateReceiveCount")) >= 1);
    Map<String, String> source = attributes("q-redrive");
    assertEquals("0", source.get("ApproximateNumberOfMessages"));
    assertEquals("0", source.get("ApproximateNumberOfMessagesNotVisible"));
    assertEquals(List.of(url), sqs.listDeadLetterSourceQueues(b -> b.queueUrl(dlq)).queueUrls());
  }

  @Test
  void aDeadLetterKeepsItsOriginalSentTimestamp() {
    String dlq = sqs.createQueue(b -> b.queueName("q-redrive-ts-dlq")).queueUrl();
    String url = sqs.createQueue(b -> b.queueName("q-redrive-ts").attributesWithStrings(Map.of("RedrivePolicy",
        "{\"deadLetterTargetArn\":\"" + QUEUE_ARN_PREFIX + "q-redrive-ts-dlq\",\"maxReceiveCount\":1}"))).queueUrl();
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("old"));
    String sentAt = receiveOne(url, 0, 1).attributesAsStrings().get("SentTimestamp");
    QueueFixtures.sleep(1100);

    sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(0));
    Message dead = receiveOne(dlq, 30, 5);

    // SQS docs (dead-letter queue retention): for standard queues the enqueue timestamp is unchanged
    // by the move, so a message expires in the DLQ by the time it was first sent.
    assertEquals(sentAt, dead.attributesAsStrings().get("SentTimestamp"));
  }

  @Test
  void aMoveTaskWithoutDestinationReturnsDeadLettersToTheirSourceQueue() {
    String dlq = sqs.createQueue(b -> b.queueName("q-move-back-dlq")).queueUrl();
    String url = sqs.createQueue(b -> b.queueName("q-move-back").attributesWithStrings(Map.of("RedrivePolicy",
        "{\"deadLetterTargetArn\":\"" + QUEUE_ARN_PREFIX + "q-move-back-dlq\",\"maxReceiveCount\":1}"))).queueUrl();
    sqs.sendMessageBatch(b -> b.queueUrl(url).entries(e -> e.id("1").messageBody("one"),
        e -> e.id("2").messageBody("two")));
    assertEquals(2, sqs.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).visibilityTimeout(0)
        .waitTimeSeconds(1)).messages().size());
    sqs.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(0));
    await("both messages in the DLQ", Duration.ofSeconds(10), () -> attributes("q-move-back-dlq"),
        a -> a.get("ApproximateNumberOfMessages").equals("2"));
    long before = System.currentTimeMillis();

    String handle = sqs.startMessageMoveTask(b -> b.sourceArn(QUEUE_ARN_PREFIX + "q-move-back-dlq")).taskHandle();
    ListMessageMoveTasksResultEntry task = awaitTask("q-move-back-dlq", "COMPLETED");
    List<Message> back = sqs.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).waitTimeSeconds(2))
        .messages();

    assertNotNull(handle);
    assertEquals(QUEUE_ARN_PREFIX + "q-move-back-dlq", task.sourceArn());
    assertNull(task.destinationArn());
    assertEquals(2L, task.approximateNumberOfMessagesMoved());
    assertEquals(2L, task.approximateNumberOfMessagesToMove());
    assertNull(task.taskHandle(), "a finished task shows no handle");
    assertTrue(task.startedTimestamp() >= before && task.startedTimestamp() <= System.currentTimeMillis());
    assertEquals(List.of("one", "two"), back.stream().map(Message::body).sorted().toList());
    assertEquals("0", attributes("q-move-back-dlq").get("ApproximateNumberOfMessages"));
  }

  @Test
  void aMoveTaskToAnotherQueueMovesEveryMessageThereAndAMoveWithoutSourcesFails() {
    String dlq = sqs.createQueue(b -> b.queueName("q-move-to-dlq")).queueUrl();
    sqs.createQueue(b -> b.queueName("q-move-to-src").attributesWithStrings(Map.of("RedrivePolicy",
        "{\"deadLetterTargetArn\":\"" + QUEUE_ARN_PREFIX + "q-move-to-dlq\",\"maxReceiveCount\":1}")));
    String target = sqs.createQueue(b -> b.queueName("q-move-to-target")).queueUrl();
    // Sent straight to the DLQ: no source to go back to.
    sqs.sendMessageBatch(b -> b.queueUrl(dlq).entries(e -> e.id("1").messageBody("a"),
        e -> e.id("2").messageBody("b"), e -> e.id("3").messageBody("c")));

    sqs.startMessageMoveTask(b -> b.sourceArn(QUEUE_ARN_PREFIX + "q-move-to-dlq"));
    ListMessageMoveTasksResultEntry failed = awaitTask("q-move-to-dlq", "FAILED");
    sqs.startMessageMoveTask(b -> b.sourceArn(QUEUE_ARN_PREFIX + "q-move-to-dlq")
        .destinationArn(QUEUE_ARN_PREFIX + "q-move-to-target"));
    ListMessageMoveTasksResultEntry completed = awaitTask("q-move-to-dlq", "COMPLETED");
    List<ListMessageMoveTasksResultEntry> both = sqs.listMessageMoveTasks(b -> b
        .sourceArn(QUEUE_ARN_PREFIX + "q-move-to-dlq").maxResults(10)).results();

    assertNotNull(failed.failureReason());
    assertEquals(QUEUE_ARN_PREFIX + "q-move-to-target", completed.destinationArn());
    assertEquals(3L, completed.approximateNumberOfMessagesMoved());
    assertEquals(List.of("COMPLETED", "FAILED"), both.stream().map(t -> t.status()).toList(),
        "newest first");
    assertEquals("3", attributes("q-move-to-target").get("ApproximateNumberOfMessages"));
    assertEquals("0", attributes("q-move-to-dlq").get("ApproximateNumberOfMessages"));
    assertEquals(List.of("a", "b", "c"), sqs.receiveMessage(b -> b.queueUrl(target).maxNumberOfMessages(10)
        .waitTimeSeconds(1)).messages().stream().map(Message::body).sorted().toList());
  }

  @Test
  void aMoveTaskToAFunctionInvokesItWithEachMessageBodyAsItsEvent() {
    Functions.create(lambda, "q-moved-to", "python3.12", "app.handler", SdkBytes.fromByteArray(Examples.zip(Map.of(
        "app.py", "import json\n\ndef handler(event, context):\n    print('MOVED ' + json.dumps(event, sort_keys=True))\n"))),
        3, Map.of());
    String dlq = sqs.createQueue(b -> b.queueName("q-move-fn-dlq")).queueUrl();
    sqs.createQueue(b -> b.queueName("q-move-fn-src").attributesWithStrings(Map.of("RedrivePolicy",
        "{\"deadLetterTargetArn\":\"" + QUEUE_ARN_PREFIX + "q-move-fn-dlq\",\"maxReceiveCount\":1}")));
    sqs.sendMessageBatch(b -> b.queueUrl(dlq).entries(e -> e.id("1").messageBody("{\"order\": 1}"),
        e -> e.id("2").messageBody("{\"order\": 2}")));

    sqs.startMessageMoveTask(b -> b.sourceArn(QUEUE_ARN_PREFIX + "q-move-fn-dlq")
        .destinationArn(FUNCTION_ARN_PREFIX + "q-moved-to"));
    ListMessageMoveTasksResultEntry task = awaitTask("q-move-fn-dlq", "COMPLETED");
    String log = await("both events in the function's log", Duration.ofSeconds(30),
        () -> QueueFixtures.log(node, "q-moved-to"),
        l -> l.contains("MOVED {\"order\": 1}") && l.contains("MOVED {\"order\": 2}"));

    assertEquals(FUNCTION_ARN_PREFIX + "q-moved-to", task.destinationArn());
    assertEquals(2L, task.approximateNumberOfMessagesMoved());
    assertEquals("0", attributes("q-move-fn-dlq").get("ApproximateNumberOfMessages"));
    assertEquals(2, log.split("START RequestId: ", -1).length - 1, "one Event invocation per message: " + log);
  }

  @Test
  void aMoveTaskToAMissingFunctionFailsAndKeepsTheMessages() {
    String dlq = sqs.createQueue(b -> b.queueName("q-move-nofn-dlq")).queueUrl();
    sqs.createQueue(b -> b.queueName("q-move-nofn-source").attributesWithStrings(Map.of("RedrivePolicy",
        "{\"deadLetterTargetArn\":\"" + QUEUE_ARN_PREFIX + "q-move-nofn-dlq\",\"maxReceiveCount\":\"3\"}")));
    sqs.sendMessage(b -> b.queueUrl(dlq).messageBody("{}"));

    sqs.startMessageMoveTask(b -> b.sourceArn(QUEUE_ARN_PREFIX + "q-move-nofn-dlq")
        .destinationArn(FUNCTION_ARN_PREFIX + "q-no-such-function"));
    ListMessageMoveTasksResultEntry task = awaitTask("q-move-nofn-dlq", "FAILED");

    assertNotNull(task.failureReason());
    assertEquals(0L, task.approximateNumberOfMessagesMoved());
    assertEquals("1", attributes("q-move-nofn-dlq").get("ApproximateNumberOfMessages"));
    assertEquals(List.of("{}"), sqs.receiveMessage(b -> b.queueUrl(dlq).waitTimeSeconds(1)).messages().stream()
        .map(Message::body).toList(), "the message stays receivable in the DLQ");
  }

  @Test
  void aMoveTaskFromAQueueThatIsNoDeadLetterQueueIsRefused() {
    String url = sqs.createQueue(b -> b.queueName("q-move-not-dlq")).queueUrl();
    sqs.createQueue(b -> b.queueName("q-move-not-dlq-target"));
    sqs.sendMessage(b -> b.queueUrl(url).messageBody("stay"));

    // StartMessageMoveTask: "the source queue is the dead-letter queue (DLQ)" (API reference).
    SqsException e = assertThrows(SqsException.class, () -> sqs.startMessageMoveTask(b -> b
        .sourceArn(QUEUE_ARN_PREFIX + "q-move-not-dlq").destinationArn(QUEUE_ARN_PREFIX + "q-move-not-dlq-target")));

    assertEquals(400, e.statusCode());
    assertEquals("InvalidParameterValue", e.awsErrorDetails().errorCode());
    assertEquals("1", attributes("q-move-not-dlq").get("ApproximateNumberOfMessages"));
  }

  @Test
  void moveTasksOfAMissingQueueAreResourceNotFound() {
    ResourceNotFoundException start = assertThrows(ResourceNotFoundException.class,
        () -> sqs.startMessageMoveTask(b -> b.sourceArn(QUEUE_ARN_PREFIX + "q-no-such-dlq")));
    ResourceNotFoundException list = assertThrows(ResourceNotFoundException.class,
        () -> sqs.listMessageMoveTasks(b -> b.sourceArn(QUEUE_ARN_PREFIX + "q-no-such-dlq")));

    assertEquals(404, start.statusCode());
    assertEquals("The resource that you specified for the SourceArn parameter doesn't exist.",
        start.awsErrorDetails().errorMessage());
    assertEquals(404, list.statusCode());
  }

  // ---- restart -------------------------------------------------------------------------------------

  @Test
  void queuesAndTheirMessagesSurviveANodeRestart() throws Exception {
    Path dataDir = Files.createTempDirectory("lamina-queues-restart-");
    try {
      String inFlightHandle;
      String waitingId;
      try (TestNode first = TestNode.startOn(dataDir); SqsClient client = QueueFixtures.sqs(first.endpoint())) {
        String url = client.createQueue(b -> b.queueName("kept").attributesWithStrings(Map.of(
            "VisibilityTimeout", "120", "MaximumMessageSize", "4096"))).queueUrl();
        client.sendMessage(b -> b.queueUrl(url).messageBody("in flight"));
        inFlightHandle = client.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(1)).messages().get(0)
            .receiptHandle();
        waitingId = client.sendMessage(b -> b.queueUrl(url).messageBody("waiting").messageAttributes(Map.of("n",
            MessageAttributeValue.builder().dataType("Number").stringValue("1").build()))).messageId();
      }

      try (TestNode second = TestNode.startOn(dataDir); SqsClient client = QueueFixtures.sqs(second.endpoint())) {
        String url = QueueFixtures.queueUrl(second, "kept");
        assertEquals(url, client.getQueueUrl(b -> b.queueName("kept")).queueUrl());
        assertTrue(client.listQueues(b -> b.queueNamePrefix("kept")).queueUrls().contains(url));
        Map<String, String> attrs = client.getQueueAttributes(b -> b.queueUrl(url)
            .attributeNames(QueueAttributeName.ALL)).attributesAsStrings();
        assertEquals("120", attrs.get("VisibilityTimeout"));
        assertEquals("4096", attrs.get("MaximumMessageSize"));
        assertEquals("1", attrs.get("ApproximateNumberOfMessages"));
        assertEquals("1", attrs.get("ApproximateNumberOfMessagesNotVisible"), "still invisible after the restart");

        List<Message> got = client.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10)
            .messageAttributeNames("All").waitTimeSeconds(1)).messages();
        assertEquals(1, got.size());
        assertEquals(waitingId, got.get(0).messageId());
        assertEquals("waiting", got.get(0).body());
        assertEquals("1", got.get(0).messageAttributes().get("n").stringValue());

        client.deleteMessage(b -> b.queueUrl(url).receiptHandle(inFlightHandle));
        // Two in flight now ("waiting" just received): the handle from before the restart deletes the other.
        assertEquals("1", client.getQueueAttributes(b -> b.queueUrl(url)
            .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributesAsStrings()
            .get("ApproximateNumberOfMessagesNotVisible"), "a handle from before the restart still deletes");
      }
    } finally {
      TestNode.deleteTree(dataDir);
    }
  }

  // ---- helpers -------------------------------------------------------------------------------------

  private static Map<String, String> attributes(String queue) {
    return sqs.getQueueAttributes(b -> b.queueUrl(QueueFixtures.queueUrl(node, queue))
        .attributeNames(QueueAttributeName.ALL)).attributesAsStrings();
  }

  /** Receives exactly one message with every system attribute, failing when none comes. */
  private static Message receiveOne(String url, int visibilityTimeout, int waitSeconds) {
    List<Message> messages = sqs.receiveMessage(b -> b.queueUrl(url).visibilityTimeout(visibilityTimeout)
        .waitTimeSeconds(waitSeconds).messageAttributeNames("All")
        .messageSystemAttributeNames(MessageSystemAttributeName.ALL)).messages();
    assertEquals(1, messages.size(), "one message from " + url + ": " + messages);
    return messages.get(0);
  }

  /** Waits for the newest move task of {@code queue} to reach {@code status}. */
  private static ListMessageMoveTasksResultEntry awaitTask(String queue, String status) {
    return await("a " + status + " move task on " + queue, Duration.ofSeconds(15),
        () -> sqs.listMessageMoveTasks(b -> b.sourceArn(QUEUE_ARN_PREFIX + queue)).results().get(0),
        t -> t.status().equals(status));
  }

  private static void assertNoQueue(QueueDoesNotExistException e) {
    assertEquals(400, e.statusCode());
    assertEquals("AWS.SimpleQueueService.NonExistentQueue", e.awsErrorDetails().errorCode());
    assertEquals("The specified queue does not exist.", e.awsErrorDetails().errorMessage());
  }
}
