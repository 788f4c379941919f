package dev.lamina.node.queues;

import static org.junit.jupiter.api.Assertions.fail;

import dev.lamina.node.testing.TestNode;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.function.Predicate;
import java.util.function.Supplier;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * What the queue tests share: an SDK SQS client pointed at a node (as a user builds one), a
 * function's log as {@code GET /lamina/logs/<fn>} shows it, and bounded waiting.
 */
final class QueueFixtures {

  static final String ACCOUNT = "000000000000";
  static final String QUEUE_ARN_PREFIX = "arn:aws:sqs:us-east-1:" + ACCOUNT + ":";
  static final String FUNCTION_ARN_PREFIX = "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:";

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private QueueFixtures() {}

  /** SDK v2 SqsClient on the node's endpoint: any credentials, no retries, MD5 checks on (the default). */
  static SqsClient sqs(String endpoint) {
    return TestNode.sqsClient(endpoint);
  }

  static String queueUrl(TestNode node, String name) {
    return node.endpoint() + "/" + ACCOUNT + "/" + name;
  }

  /** The whole log of {@code function} on {@code node} (flushed first). */
  static String log(TestNode node, String function) {
    return node.log(function);
  }

  /**
   * Polls {@code probe} every 100 ms until {@code done} holds or {@code limit} passes; returns the
   * last value, failing the test with {@code what} and that value when time ran out.
   */
  static <T> T await(String what, Duration limit, Supplier<T> probe, Predicate<T> done) {
    long deadline = System.nanoTime() + limit.toNanos();
    T last = probe.get();
    while (!done.test(last)) {
      if (System.nanoTime() > deadline) {
        fail("waited " + limit.toMillis() + " ms for " + what + "; last seen: " + last);
      }
      sleep(100);
      last = probe.get();
    }
    return last;
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Lower-case hex MD5 of the UTF-8 bytes, as SQS reports a body's digest. */
  static String md5Hex(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
