package dev.lamina.node.invoke;

import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.create;
import static dev.lamina.node.testing.Functions.invoke;
import static dev.lamina.node.testing.Functions.log;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/** Each runtime family runs a real function in a real sandbox, invoked through the AWS SDK. */
@ExtendWith(NodePerClass.class)
class RuntimeFamiliesTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  static TestNode node;
  static LambdaClient lambda;

  @Test
  void pythonHandlerGreetsAndKeepsWarmState() throws Exception {
    create(lambda, "py-hello", "python3.11", "handler.handler", Examples.zipOf("python/hello"));

    InvokeResponse first = invoke(lambda, "py-hello", "{\"name\":\"Ada\"}");
    InvokeResponse second = invoke(lambda, "py-hello", "{\"name\":\"Bob\"}");

    assertEquals(200, first.statusCode());
    assertNull(first.functionError());
    assertEquals("$LATEST", first.executedVersion());
    JsonNode one = JSON.readTree(body(first));
    assertEquals("Hello, Ada!", one.get("message").asText());
    assertEquals("py-hello", one.get("function").asText());
    assertEquals("AWS_Lambda_python3.11", one.get("runtime").asText());
    assertEquals(2, JSON.readTree(body(second)).get("invocations").asInt(), "the second call ran warm");
    String coldLog = log(first);
    assertTrue(coldLog.startsWith("START RequestId: " + one.get("requestId").asText() + " Version: $LATEST\n"), coldLog);
    assertTrue(coldLog.contains("greeting Ada\n"), coldLog);
    assertTrue(coldLog.contains("END RequestId: " + one.get("requestId").asText()), coldLog);
    assertTrue(coldLog.matches("(?s).*REPORT RequestId: \\S+\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms"
        + "\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d\\d ms\\t\\n"), coldLog);
    assertFalse(log(second).contains("Init Duration"), "only the cold start reports Init Duration");
  }

  @Test
  void nodeAsyncModuleHandlerAndCallbackHandlerBothAnswer() throws Exception {
    create(lambda, "node-hello", "nodejs20.x", "index.handler", Examples.zipOf("node/hello"));
    create(lambda, "node-callback", "nodejs20.x", "callback.handler", Examples.zipOf("node/hello"));

    InvokeResponse hello = invoke(lambda, "node-hello", "{\"name\":\"Ada\"}");
    InvokeResponse callback = invoke(lambda, "node-callback", "{\"n\":1}");

    JsonNode h = JSON.readTree(body(hello));
    assertEquals("Hello, Ada!", h.get("message").asText());
    assertEquals("AWS_Lambda_nodejs20.x", h.get("runtime").asText());
    assertTrue(log(hello).contains("\tINFO\tgreeting Ada"), log(hello));
    assertEquals("{\"echoed\":{\"n\":1},\"style\":\"callback\"}", body(callback));
  }

  @Test
  void nodeErrorsReachTheCallerAsUnhandledFunctionErrors() throws Exception {
    create(lambda, "node-throws", "nodejs20.x", "index.throws", Examples.zipOf("node/errors"));
    create(lambda, "node-cb-error", "nodejs20.x", "index.callbackError", Examples.zipOf("node/errors"));
    create(lambda, "node-missing", "nodejs20.x", "index.nothere", Examples.zipOf("node/errors"));

    InvokeResponse thrown = invoke(lambda, "node-throws", "{\"x\":1}");
    InvokeResponse callback = invoke(lambda, "node-cb-error", "{}");
    InvokeResponse missing = invoke(lambda, "node-missing", "{}");

    assertEquals("Unhandled", thrown.functionError());
    JsonNode error = JSON.readTree(body(thrown));
    assertEquals("TypeError", error.get("errorType").asText());
    assertEquals("bad input: {\"x\":1}", error.get("errorMessage").asText());
    assertTrue(error.get("trace").isArray(), body(thrown));
    assertEquals("Error", JSON.readTree(body(callback)).get("errorType").asText(), body(callback));
    assertEquals("callback failure", JSON.readTree(body(callback)).get("errorMessage").asText());
    assertEquals("Runtime.HandlerNotFound", JSON.readTree(body(missing)).get("errorType").asText(), body(missing));
  }

  @Test
  void stockJavaRequestHandlerRunsOnTheOfficialRuntimeInterfaceClient() throws Exception {
    lambda.createFunction(b -> b.functionName("java-hello").runtime("java17").handler("example.Hello::handleRequest")
        .role(dev.lamina.node.testing.Functions.ROLE).memorySize(512).timeout(30)
        .code(c -> c.zipFile(Examples.javaHello())));

    InvokeResponse first = invoke(lambda, "java-hello", "{\"name\":\"Ada\"}");
    InvokeResponse second = invoke(lambda, "java-hello", "{\"name\":\"Bob\"}");
    InvokeResponse failing = invoke(lambda, "java-hello", "{\"action\":\"fail\"}");

    JsonNode one = JSON.readTree(body(first));
    assertEquals("Hello, Ada!", one.get("message").asText(), body(first));
    assertEquals(512, one.get("memoryMb").asInt());
    assertEquals(2, JSON.readTree(body(second)).get("invocations").asInt());
    assertTrue(log(first).contains("greeting Ada"), log(first));
    assertEquals("Unhandled", failing.functionError());
    JsonNode error = JSON.readTree(body(failing));
    assertEquals("java.lang.IllegalStateException", error.get("errorType").asText(), body(failing));
    assertEquals("asked to fail", error.get("errorMessage").asText());
  }

  @Test
  void java21PackageRunsOnAJdkNewEnoughForIt() throws Exception {
    // The node runs on Java 17; a java21 function's classes (version 65) need a newer JDK, which
    // the node finds among the installed ones. This machine kind ships a JDK 25 for that.
    Path javac = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/javac");
    Assumptions.assumeTrue(Files.isExecutable(javac), "no JDK >= 21 installed next to the node's own");
    lambda.createFunction(b -> b.functionName("java21-hello").runtime("java21")
        .handler("example.Hello::handleRequest").role(dev.lamina.node.testing.Functions.ROLE).memorySize(512)
        .timeout(30).code(c -> c.zipFile(Examples.javaHello(javac, 21))));

    InvokeResponse response = invoke(lambda, "java21-hello", "{\"name\":\"Duke\"}");

    assertNull(response.functionError(), body(response));
    assertEquals("Hello, Duke!", JSON.readTree(body(response)).get("message").asText());
  }

  @Test
  void customRuntimeRunsTheZipsOwnBootstrap() throws Exception {
    create(lambda, "bash-hello", "provided.al2023", "function.handler", Examples.zipOf("provided/hello"));

    InvokeResponse first = invoke(lambda, "bash-hello", "{\"name\":\"Ada\"}");
    InvokeResponse second = invoke(lambda, "bash-hello", "[1,2]");

    JsonNode one = JSON.readTree(body(first));
    assertEquals("bash", one.get("runtime").asText(), body(first));
    assertEquals("function.handler", one.get("handler").asText());
    assertEquals("Ada", one.get("event").get("name").asText());
    assertEquals(2, JSON.readTree(body(second)).get("invocations").asInt());
    assertTrue(log(first).contains("bash runtime handling"), log(first));
  }
}
