package dev.lamina.node.invoke;

import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Functions.invoke;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.cli.Main;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/** Each invocation's log block is stored per function and readable over HTTP and with `lamina logs`. */
@ExtendWith(NodePerClass.class)
class LogsTest {

  static TestNode node;

  @Test
  void logEndpointReturnsEveryInvocationsBlockInOrderAndFollowsFromAnOffset() throws Exception {
    create(node.lambda(), "logged", "python3.11", "probe.echo", Examples.zipOf("python/probe"));
    String first = invoke(node.lambda(), "logged", "{\"n\":1}").responseMetadata().requestId();
    node.node().logs().flush();

    HttpResponse<String> all = SignedHttp.send(SignedHttp.get(node.endpoint() + "/lamina/logs/logged"));
    long next = Long.parseLong(all.headers().firstValue("X-Lamina-Next-Offset").orElseThrow());
    String second = invoke(node.lambda(), "logged", "{\"n\":2}").responseMetadata().requestId();
    node.node().logs().flush();
    HttpResponse<String> more = SignedHttp.send(SignedHttp.get(node.endpoint() + "/lamina/logs/logged?offset=" + next));

    assertEquals(200, all.statusCode());
    assertTrue(all.body().startsWith("START RequestId: " + first + " Version: $LATEST\necho {'n': 1}\nEND RequestId: "
        + first + "\nREPORT RequestId: " + first + "\tDuration: "), all.body());
    assertTrue(more.body().startsWith("START RequestId: " + second), more.body());
    assertTrue(more.body().contains("echo {'n': 2}"), more.body());
    assertTrue(!more.body().contains(first), "the follow-up read starts where the first one ended");
  }

  @Test
  void laminaLogsCommandPrintsTheFunctionsLog() throws Exception {
    create(node.lambda(), "cli-logged", "python3.11", "probe.echo", Examples.zipOf("python/probe"));
    String id = invoke(node.lambda(), "cli-logged", "{\"via\":\"cli\"}").responseMetadata().requestId();
    node.node().logs().flush();
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.out;

    int exit;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      exit = new CommandLine(new Main()).execute("logs", "cli-logged", "--endpoint", node.endpoint(),
          "--data-dir", node.dataDir().toString());
    } finally {
      System.setOut(original);
    }

    String out = captured.toString(StandardCharsets.UTF_8);
    assertEquals(0, exit);
    assertTrue(out.contains("START RequestId: " + id), out);
    assertTrue(out.contains("echo {'via': 'cli'}"), out);
    assertTrue(out.contains("REPORT RequestId: " + id), out);
  }

  @Test
  void laminaInvokeCommandPrintsTheResponseAndTheLogTail() throws Exception {
    create(node.lambda(), "cli-invoked", "python3.11", "probe.echo", Examples.zipOf("python/probe"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;

    int exit;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      exit = new CommandLine(new Main()).execute("invoke", "cli-invoked", "--payload", "{\"k\":\"v\"}", "--log",
          "--endpoint", node.endpoint(), "--data-dir", node.dataDir().toString());
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }

    assertEquals(0, exit);
    assertEquals("{\"k\": \"v\"}", out.toString(StandardCharsets.UTF_8).trim());
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("echo {'k': 'v'}"), err.toString(StandardCharsets.UTF_8));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("REPORT RequestId: "));
  }
}
