package dev.lamina.node.async;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.TestNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * What the asynchronous-invocation tests share: a python function that says which request it ran,
 * Lamina queues read through the AWS SDK's SQS client (destinations and DLQs), and the node's
 * per-function log. Every wait is bounded.
 */
final class AsyncFixture {

  static final String FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:";
  static final String QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:";
  static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Handler {@code app.handler}: prints one {@code attempt <request id>} line per execution, sleeps
   * {@code event["sleep"]} seconds, raises {@code ValueError(event["message"])} when
   * {@code event["fail"]} is set, else returns the request id, the event and the version it ran as.
   */
  static final SdkBytes REPORTER = SdkBytes.fromByteArray(Examples.zip(Map.of("app.py", ""
      + "import time\n"
      + "\n"
      + "def handler(event, context):\n"
      + "    print('attempt', context.aws_request_id, flush=True)\n"
      + "    if isinstance(event, dict) and event.get('sleep'):\n"
      + "        time.sleep(float(event['sleep']))\n"
      + "    if isinstance(event, dict) and event.get('fail'):\n"
      + "        raise ValueError(event.get('message', 'probe failure'))\n"
      + "    return {'requestId': context.aws_request_id, 'event': event,\n"
      + "            'version': context.function_version}\n")));

  private AsyncFixture() {}

  static SqsClient sqs(TestNode node) {
    return TestNode.sqsClient(node.endpoint());
  }

  /** Creates the queue (records up to 1 MiB) and answers its URL. */
  static String createQueue(SqsClient sqs, String name) {
    return sqs.createQueue(b -> b.queueName(name)
        .attributes(Map.of(QueueAttributeName.MAXIMUM_MESSAGE_SIZE, "1048576"))).queueUrl();
  }

  /**
   * Receives (and deletes) messages until {@code count} arrived; fails when they did not within
   * {@code limit}. Answers every message received, so a surplus shows.
   */
  static List<Message> awaitMessages(SqsClient sqs, String queueUrl, int count, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    List<Message> received = new ArrayList<>();
    while (received.size() < count) {
      if (System.nanoTime() > deadline) {
        fail("expected " + count + " message(s) in " + queueUrl + " within " + limit + ", got " + received.size()
            + ": " + received.stream().map(Message::body).toList());
      }
      received.addAll(receiveOnce(sqs, queueUrl, 1));
    }
    return received;
  }

  /** The only message of the queue within {@code limit}. */
  static Message awaitMessage(SqsClient sqs, String queueUrl, Duration limit) {
    List<Message> messages = awaitMessages(sqs, queueUrl, 1, limit);
    assertTrue(messages.size() == 1, "one message, got " + messages.stream().map(Message::body).toList());
    return messages.get(0);
  }

  /** Receives for about {@code waitSeconds} (long poll) and deletes what came. */
  static List<Message> receiveOnce(SqsClient sqs, String queueUrl, int waitSeconds) {
    List<Message> messages = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)
        .waitTimeSeconds(waitSeconds).messageAttributeNames("All")).messages();
    for (Message m : messages) {
      sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()));
    }
    return messages;
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + text, e);
    }
  }

  /** The function's log as {@code GET /lamina/logs/<fn>} shows it (after a flush); "" when none. */
  static String log(TestNode node, String function) {
    return node.log(function);
  }

  /** Waits (bounded) until the function's log satisfies {@code condition}; answers that log. */
  static String awaitLog(TestNode node, String function, Predicate<String> condition, Duration limit)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    String text = log(node, function);
    while (!condition.test(text)) {
      if (System.nanoTime() > deadline) {
        fail("the log of " + function + " did not reach the expected state within " + limit + ":\n" + text);
      }
      Thread.sleep(50);
      text = log(node, function);
    }
    return text;
  }

  /** How many executions of {@code requestId} the log shows (one START line each). */
  static int executions(String log, String requestId) {
    Matcher m = Pattern.compile("START RequestId: " + Pattern.quote(requestId) + " ").matcher(log);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  /** The node's Prometheus scrape. */
  static String metrics(TestNode node) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(node.endpoint() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
