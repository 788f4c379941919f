package dev.lamina.node.async;

import static dev.lamina.node.async.AsyncFixture.FUNCTION_ARN;
import static dev.lamina.node.async.AsyncFixture.QUEUE_ARN;
import static dev.lamina.node.async.AsyncFixture.REPORTER;
import static dev.lamina.node.async.AsyncFixture.awaitMessage;
import static dev.lamina.node.async.AsyncFixture.createQueue;
import static dev.lamina.node.async.AsyncFixture.executions;
import static dev.lamina.node.async.AsyncFixture.json;
import static dev.lamina.node.async.AsyncFixture.log;
import static dev.lamina.node.testing.Functions.ROLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.TestNode;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * {@code MaximumEventAgeInSeconds} on a node with Lambda's own retry schedule (1 minute before the
 * first retry): with the minimum age of 60 s, a failed event's retry would come too late, so the
 * event ends as {@code EventAgeExceeded} after its one execution, carrying that execution's
 * response. Lamina decides this when it schedules the retry, so the test needs no minute of waiting.
 *
 * <p>Not covered: an event that ages out while throttled (e.g. reserved concurrency held by a busy
 * invocation). Throttled events are retried with backoff until the age is reached, which is at
 * least 60 s of wall-clock time; the node's clock cannot be moved from a test.
 */
@ExtendWith(NodePerClass.class)
class EventAgeTest {

  static TestNode node;
  static LambdaClient lambda;

  @Test
  void aFailedEventWhoseRetryWouldComeAfterItsMaximumAgeEndsAsEventAgeExceeded() throws Exception {
    try (SqsClient sqs = AsyncFixture.sqs(node)) {
      String failureUrl = createQueue(sqs, "age-failure");
      String dlqUrl = createQueue(sqs, "age-dlq");
      lambda.createFunction(b -> b.functionName("age-fail").runtime("python3.12").handler("app.handler").role(ROLE)
          .deadLetterConfig(d -> d.targetArn(QUEUE_ARN + "age-dlq")).code(c -> c.zipFile(REPORTER)));
      lambda.putFunctionEventInvokeConfig(b -> b.functionName("age-fail").maximumEventAgeInSeconds(60)
          .destinationConfig(d -> d.onFailure(f -> f.destination(QUEUE_ARN + "age-failure"))));
      String event = "{\"fail\": true, \"message\": \"too old to retry\"}";

      String requestId = lambda.invoke(b -> b.functionName("age-fail").invocationType(InvocationType.EVENT)
          .payload(SdkBytes.fromUtf8String(event))).responseMetadata().requestId();

      JsonNode record = json(awaitMessage(sqs, failureUrl, Duration.ofSeconds(20)).body());
      Message dlq = awaitMessage(sqs, dlqUrl, Duration.ofSeconds(20));
      JsonNode context = record.path("requestContext");
      assertEquals(requestId, context.path("requestId").asText());
      assertEquals(FUNCTION_ARN + "age-fail:$LATEST", context.path("functionArn").asText());
      assertEquals("EventAgeExceeded", context.path("condition").asText(), record.toString());
      assertEquals(1, context.path("approximateInvokeCount").asInt());
      assertEquals(json(event), record.path("requestPayload"));
      assertEquals(json("{\"statusCode\":200,\"executedVersion\":\"$LATEST\",\"functionError\":\"Unhandled\"}"),
          record.path("responseContext"), "the last execution's response");
      assertEquals("too old to retry", record.path("responsePayload").path("errorMessage").asText());
      assertEquals(event, dlq.body());
      assertEquals(requestId, dlq.messageAttributes().get("RequestID").stringValue());
      assertEquals("200", dlq.messageAttributes().get("ErrorCode").stringValue());
      assertEquals("too old to retry", dlq.messageAttributes().get("ErrorMessage").stringValue());
      assertEquals(1, executions(log(node, "age-fail"), requestId));
      assertTrue(record.path("timestamp").isTextual());
    }
  }
}
