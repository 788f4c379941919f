package dev.lamina.node.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.SignedHttp;
import dev.lamina.node.testing.TestNode;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.LambdaException;

/**
 * Node roles: a worker-only node runs sandboxes and answers only its operations endpoints; a
 * frontend-only node serves the API and places sandboxes on worker nodes, so alone it refuses
 * invocations with a clear error. {@code /health} says what a node is and {@code /ready} whether it
 * takes traffic.
 */
class NodeRolesTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void aWorkerOnlyNodeRefusesApiCallsButReportsItsHealth() throws Exception {
    try (TestNode node = TestNode.start(Files.createTempDirectory("lamina-roles-"), true,
        ConfigFactory.parseString("pekko.cluster.roles = [worker]"))) {
      HttpResponse<String> list = get(node.endpoint() + "/2015-03-31/functions");
      assertEquals(503, list.statusCode());
      assertEquals("ServiceException", list.headers().firstValue("x-amzn-ErrorType").orElse(""));
      assertTrue(list.body().contains("no frontend role"), list.body());

      HttpResponse<String> ready = awaitReady(node);
      JsonNode report = JSON.readTree(ready.body());
      assertEquals("UP", report.path("status").asText());
      assertEquals("embedded", report.path("profile").asText());
      assertEquals("UP", report.path("cluster").path("selfStatus").asText());
      assertEquals("[\"worker\"]", report.path("cluster").path("members").get(0).path("roles").toString());
      assertTrue(report.path("storage").path("reachable").asBoolean());
      assertEquals(node.node().launcher(), report.path("isolation").path("sandboxLauncher").asText());
    }
  }

  @Test
  void aFrontendOnlyNodeAloneHasNowhereToRunSandboxes() throws Exception {
    try (TestNode node = TestNode.start(Files.createTempDirectory("lamina-roles-"), true,
        ConfigFactory.parseString("pekko.cluster.roles = [frontend]"))) {
      Functions.create(node.lambda(), "nowhere", "python3.12", "handler.handler", Examples.zipOf("python/hello"));
      LambdaException e = assertThrows(LambdaException.class,
          () -> Functions.invoke(node.lambda(), "nowhere", "{}"));
      assertEquals(500, e.statusCode());
      assertEquals("ServiceException", e.awsErrorDetails().errorCode());
      assertTrue(e.getMessage().contains("none has the worker role"), e.getMessage());
    }
  }

  private HttpResponse<String> awaitReady(TestNode node) throws Exception {
    HttpResponse<String> ready = get(node.endpoint() + "/ready");
    for (int i = 0; i < 100 && ready.statusCode() != 200; i++) {
      Thread.sleep(100);
      ready = get(node.endpoint() + "/ready");
    }
    assertEquals(200, ready.statusCode(), ready.body());
    return ready;
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(SignedHttp.get(url), HttpResponse.BodyHandlers.ofString());
  }
}
