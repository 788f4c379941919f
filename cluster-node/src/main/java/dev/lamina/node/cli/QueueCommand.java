package dev.lamina.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lamina queue …}: Lamina queues from the command line, over the node's SQS-compatible API
 * (the same requests {@code aws sqs --endpoint-url} sends).
 */
@Command(name = "queue", description = "Create, inspect, feed, drain and redrive Lamina queues.",
    subcommands = {QueueCommand.Create.class, QueueCommand.ListQueues.class, QueueCommand.Delete.class,
        QueueCommand.Send.class, QueueCommand.Receive.class, QueueCommand.Purge.class, QueueCommand.Depth.class,
        QueueCommand.Redrive.class})
final class QueueCommand implements Callable<Integer> {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 0;
  }

  /** Options every subcommand has. */
  static class Common extends Main.Client {

    String url(String queue) {
      return queue.startsWith("http") ? queue : endpoint + "/000000000000/" + queue;
    }

    /** Sends one SQS request; prints the error and returns null when it failed. */
    JsonNode call(String operation, ObjectNode body) throws Exception {
      HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
          ClientSigning.request("POST", URI.create(endpoint + "/"), Map.of("Content-Type", "application/x-amz-json-1.0",
                  "X-Amz-Target", "AmazonSQS." + operation), body.toString().getBytes(StandardCharsets.UTF_8),
                  ClientSigning.key(dataDir), "sqs")
              .timeout(Duration.ofSeconds(40)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        ClientSigning.explainRefusal(response);
        System.err.println(response.body());
        return null;
      }
      return JSON.readTree(response.body());
    }
  }

  @Command(name = "create", description = "Create a queue; prints its URL.")
  static final class Create extends Common implements Callable<Integer> {
    @Parameters(index = "0", description = "queue name") String name;
    @Option(names = "--visibility-timeout", description = "seconds (default 30)") Integer visibility;
    @Option(names = "--dlq", description = "dead-letter queue name or ARN") String dlq;
    @Option(names = "--max-receive-count", defaultValue = "5", description = "receives before a message moves to the DLQ")
    int maxReceiveCount;

    @Override
    public Integer call() throws Exception {
      ObjectNode body = JSON.createObjectNode().put("QueueName", name);
      ObjectNode attributes = body.putObject("Attributes");
      if (visibility != null) {
        attributes.put("VisibilityTimeout", visibility.toString());
      }
      if (dlq != null) {
        String arn = dlq.startsWith("arn:") ? dlq : "arn:aws:sqs:us-east-1:000000000000:" + dlq;
        attributes.put("RedrivePolicy", JSON.createObjectNode().put("deadLetterTargetArn", arn)
            .put("maxReceiveCount", maxReceiveCount).toString());
      }
      JsonNode r = call("CreateQueue", body);
      if (r == null) {
        return 1;
      }
      System.out.println(r.path("QueueUrl").asText());
      return 0;
    }
  }

  @Command(name = "list", description = "List the queues' URLs.")
  static final class ListQueues extends Common implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      JsonNode r = call("ListQueues", JSON.createObjectNode());
      if (r == null) {
        return 1;
      }
      r.path("QueueUrls").forEach(u -> System.out.println(u.asText()));
      return 0;
    }
  }

  @Command(name = "delete", description = "Delete a queue and its messages.")
  static final class Delete extends Common implements Callable<Integer> {
    @Parameters(index = "0", description = "queue name or URL") String queue;

    @Override
    public Integer call() throws Exception {
      return call("DeleteQueue", JSON.createObjectNode().put("QueueUrl", url(queue))) == null ? 1 : 0;
    }
  }

  @Command(name = "send", description = "Send a message; prints its id.")
  static final class Send extends Common implements Callable<Integer> {
    @Parameters(index = "0", description = "queue name or URL") String queue;
    @Parameters(index = "1", description = "message body") String body;

    @Override
    public Integer call() throws Exception {
      JsonNode r = call("SendMessage", JSON.createObjectNode().put("QueueUrl", url(queue)).put("MessageBody", body));
      if (r == null) {
        return 1;
      }
      System.out.println(r.path("MessageId").asText());
      return 0;
    }
  }

  @Command(name = "receive", description = "Receive up to --max messages (one JSON line each); --delete deletes them.")
  static final class Receive extends Common implements Callable<Integer> {
    @Parameters(index = "0", description = "queue name or URL") String queue;
    @Option(names = "--max", defaultValue = "10") int max;
    @Option(names = "--wait", defaultValue = "0", description = "long-poll seconds (0-20)") int wait;
    @Option(names = "--delete", description = "delete what was received") boolean delete;

    @Override
    public Integer call() throws Exception {
      ObjectNode request = JSON.createObjectNode().put("QueueUrl", url(queue)).put("MaxNumberOfMessages", max)
          .put("WaitTimeSeconds", wait);
      request.putArray("MessageSystemAttributeNames").add("All");
      request.putArray("MessageAttributeNames").add("All");
      JsonNode r = call("ReceiveMessage", request);
      if (r == null) {
        return 1;
      }
      for (JsonNode m : r.path("Messages")) {
        System.out.println(m.toString());
        if (delete) {
          call("DeleteMessage", JSON.createObjectNode().put("QueueUrl", url(queue))
              .put("ReceiptHandle", m.path("ReceiptHandle").asText()));
        }
      }
      return 0;
    }
  }

  @Command(name = "purge", description = "Delete every message of a queue.")
  static final class Purge extends Common implements Callable<Integer> {
    @Parameters(index = "0", description = "queue name or URL") String queue;

    @Override
    public Integer call() throws Exception {
      return call("PurgeQueue", JSON.createObjectNode().put("QueueUrl", url(queue))) == null ? 1 : 0;
    }
  }

  @Command(name = "depth", description = "Print the approximate numbers of visible, in-flight and delayed messages.")
  static final class Depth extends Common implements Callable<Integer> {
    @Parameters(index = "0", description = "queue name or URL") String queue;

    @Override
    public Integer call() throws Exception {
      ObjectNode request = JSON.createObjectNode().put("QueueUrl", url(queue));
      request.putArray("AttributeNames").add("All");
      JsonNode r = call("GetQueueAttributes", request);
      if (r == null) {
        return 1;
      }
      JsonNode a = r.path("Attributes");
      System.out.println("visible " + a.path("ApproximateNumberOfMessages").asText() + ", in-flight "
          + a.path("ApproximateNumberOfMessagesNotVisible").asText() + ", delayed "
          + a.path("ApproximateNumberOfMessagesDelayed").asText());
      return 0;
    }
  }

  @Command(name = "redrive", description = "Move a DLQ's messages back to their sources, or --to a queue or function.")
  static final class Redrive extends Common implements Callable<Integer> {
    @Parameters(index = "0", description = "the dead-letter queue's name") String queue;
    @Option(names = "--to", description = "destination: a queue name, a queue ARN or a function ARN") String to;

    @Override
    public Integer call() throws Exception {
      ObjectNode request = JSON.createObjectNode()
          .put("SourceArn", queue.startsWith("arn:") ? queue : "arn:aws:sqs:us-east-1:000000000000:" + queue);
      if (to != null) {
        request.put("DestinationArn", to.startsWith("arn:") ? to : "arn:aws:sqs:us-east-1:000000000000:" + to);
      }
      JsonNode r = call("StartMessageMoveTask", request);
      if (r == null) {
        return 1;
      }
      System.out.println("move task " + r.path("TaskHandle").asText());
      return 0;
    }
  }
}
