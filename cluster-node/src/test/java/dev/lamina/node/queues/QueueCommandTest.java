package dev.lamina.node.queues;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.cli.Main;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.TestNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.DestinationConfig;
import software.amazon.awssdk.services.lambda.model.OnSuccess;

/**
 * {@code lamina queue …} and {@code lamina invoke --async} against a node: what an operator types,
 * and what the command prints.
 */
@ExtendWith(NodePerClass.class)
class QueueCommandTest {

  static TestNode node;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Runs the command line; its exit code and what it printed on stdout. */
  private static Result lamina(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--endpoint");
    all.add(node.endpoint());
    all.add("--data-dir");
    all.add(node.dataDir().toString());
    int exit;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      exit = new CommandLine(new Main()).execute(all.toArray(String[]::new));
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
    return new Result(exit, out.toString(StandardCharsets.UTF_8).trim(), err.toString(StandardCharsets.UTF_8));
  }

  private record Result(int exit, String out, String err) {}

  @Test
  void queuesAreCreatedFedInspectedAndDrainedFromTheCommandLine() throws Exception {
    Result created = lamina("queue", "create", "cli-orders", "--visibility-timeout", "7");
    assertEquals(0, created.exit(), created.err());
    assertEquals(node.endpoint() + "/000000000000/cli-orders", created.out());
    assertTrue(lamina("queue", "list").out().lines().toList().contains(created.out()));

    Result sent = lamina("queue", "send", "cli-orders", "{\"id\":1}");
    assertEquals(0, sent.exit(), sent.err());
    assertEquals("visible 1, in-flight 0, delayed 0", lamina("queue", "depth", "cli-orders").out());

    Result received = lamina("queue", "receive", "cli-orders", "--delete");
    JsonNode message = JSON.readTree(received.out());
    assertEquals(sent.out(), message.path("MessageId").asText());
    assertEquals("{\"id\":1}", message.path("Body").asText());
    assertEquals("1", message.path("Attributes").path("ApproximateReceiveCount").asText());
    assertEquals("visible 0, in-flight 0, delayed 0", lamina("queue", "depth", "cli-orders").out());

    lamina("queue", "send", "cli-orders", "x");
    assertEquals(0, lamina("queue", "purge", "cli-orders").exit());
    assertEquals("visible 0, in-flight 0, delayed 0", lamina("queue", "depth", "cli-orders").out());
    assertEquals(0, lamina("queue", "delete", "cli-orders").exit());

    Result gone = lamina("queue", "depth", "cli-orders");
    assertEquals(1, gone.exit());
    assertTrue(gone.err().contains("The specified queue does not exist."), gone.err());
  }

  @Test
  void aDeadLetterQueueIsRedrivenBackToItsSource() throws Exception {
    lamina("queue", "create", "cli-dlq");
    assertEquals(0, lamina("queue", "create", "cli-source", "--visibility-timeout", "0", "--dlq", "cli-dlq",
        "--max-receive-count", "1").exit());
    lamina("queue", "send", "cli-source", "poison");
    lamina("queue", "receive", "cli-source");  // received once, not deleted: visible again at once
    lamina("queue", "receive", "cli-source");  // over the count: moved to the DLQ instead
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!lamina("queue", "depth", "cli-dlq").out().startsWith("visible 1") && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals("visible 1, in-flight 0, delayed 0", lamina("queue", "depth", "cli-dlq").out());

    Result redrive = lamina("queue", "redrive", "cli-dlq");
    assertEquals(0, redrive.exit(), redrive.err());
    assertTrue(redrive.out().startsWith("move task "), redrive.out());
    while (!lamina("queue", "depth", "cli-source").out().startsWith("visible 1") && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals("visible 1, in-flight 0, delayed 0", lamina("queue", "depth", "cli-source").out());
    assertEquals("visible 0, in-flight 0, delayed 0", lamina("queue", "depth", "cli-dlq").out());
  }

  @Test
  void invokeAsyncPrintsTheRequestIdTheFunctionRunsWith() throws Exception {
    lamina("queue", "create", "cli-results");
    Functions.create(node.lambda(), "cli-async", "python3.12", "app.handler", SdkBytes.fromByteArray(Examples.zip(
        Map.of("app.py", "def handler(event, context):\n    return {'id': context.aws_request_id}\n"))));
    node.lambda().putFunctionEventInvokeConfig(b -> b.functionName("cli-async").destinationConfig(DestinationConfig
        .builder().onSuccess(OnSuccess.builder().destination("arn:aws:sqs:us-east-1:000000000000:cli-results")
            .build()).build()));

    Result accepted = lamina("invoke", "cli-async", "--async", "--payload", "{\"k\":1}");
    assertEquals(0, accepted.exit(), accepted.err());
    assertTrue(accepted.out().startsWith("accepted "), accepted.out());
    String requestId = accepted.out().substring("accepted ".length());

    Result record = lamina("queue", "receive", "cli-results", "--wait", "20", "--delete");
    JsonNode body = JSON.readTree(JSON.readTree(record.out()).path("Body").asText());
    assertEquals(requestId, body.at("/requestContext/requestId").asText());
    assertEquals(requestId, body.at("/responsePayload/id").asText());
    assertEquals(1, body.at("/requestPayload/k").asInt());
  }
}
