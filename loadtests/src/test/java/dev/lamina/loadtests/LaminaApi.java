package dev.lamina.loadtests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * The set-up side of a simulation: creates the functions it loads, reads the node's metrics, and
 * makes the invocations that must not count in Gatling's statistics (warm-up). Plain
 * {@code java.net.http} with the SDK's signer, so set-up never counts in Gatling's statistics.
 */
public final class LaminaApi {

  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final Target target;
  private final Sigv4 signer;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  public LaminaApi(Target target) {
    this.target = target;
    this.signer = new Sigv4(target);
  }

  /** A function to create: what CreateFunction needs, the code as a zip. */
  public record FunctionSpec(String name, String runtime, String handler, byte[] zip, int memoryMb, int timeoutSeconds) {}

  /** (Re)creates {@code spec}: a function left by an earlier run is deleted first, so every run starts cold. */
  public void recreate(FunctionSpec spec) {
    delete(spec.name());
    ObjectNode body = JSON.createObjectNode()
        .put("FunctionName", spec.name()).put("Runtime", spec.runtime()).put("Handler", spec.handler())
        .put("Role", "arn:aws:iam::000000000000:role/lamina").put("MemorySize", spec.memoryMb())
        .put("Timeout", spec.timeoutSeconds());
    body.putObject("Code").put("ZipFile", Base64.getEncoder().encodeToString(spec.zip()));
    HttpResponse<String> r = send("POST", "/2015-03-31/functions", Map.of("Content-Type", "application/json"),
        body.toString().getBytes(StandardCharsets.UTF_8));
    if (r.statusCode() != 201) {
      throw new IllegalStateException("CreateFunction " + spec.name() + ": " + r.statusCode() + " " + r.body());
    }
  }

  public void delete(String function) {
    HttpResponse<String> r = send("DELETE", "/2015-03-31/functions/" + function, Map.of(), new byte[0]);
    if (r.statusCode() != 204 && r.statusCode() != 404) {
      throw new IllegalStateException("DeleteFunction " + function + ": " + r.statusCode() + " " + r.body());
    }
  }

  /** A synchronous invocation; fails unless it answers 200 without a function error. */
  public HttpResponse<String> invoke(String function, String payload, Map<String, String> headers) {
    HttpResponse<String> r = send("POST", "/2015-03-31/functions/" + function + "/invocations", headers,
        payload.getBytes(StandardCharsets.UTF_8));
    if (r.statusCode() != 200 || r.headers().firstValue("X-Amz-Function-Error").isPresent()) {
      throw new IllegalStateException("Invoke " + function + ": " + r.statusCode() + " " + r.body());
    }
    return r;
  }

  /**
   * The Prometheus text of every node's /metrics (open, unsigned: what a scraper reads); null in
   * place of a node that did not answer.
   */
  public List<String> metrics() {
    return target.urls().stream().map(url -> {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/metrics")).timeout(TIMEOUT).build(),
            HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? r.body() : null;
      } catch (IOException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }).collect(Collectors.toList());
  }

  /** A signed request to the first node. */
  public HttpResponse<String> send(String method, String path, Map<String, String> headers, byte[] body) {
    URI uri = URI.create(target.url() + path);
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
        .method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    Map<String, String> all = new LinkedHashMap<>(headers);
    signer.sign(method, uri, headers, body, "lambda").forEach((name, values) -> all.put(name, String.join(",", values)));
    all.remove("Host"); // java.net.http writes it from the same URI
    all.forEach(request::header);
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + uri + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** The example function at {@code examples/<dir>}, zipped. */
  public byte[] zipExample(String dir) {
    return zip(target.examples().resolve(dir));
  }

  static byte[] zip(Path root) {
    if (!Files.isDirectory(root)) {
      throw new IllegalStateException(root + " does not exist (examples/java is compiled by `mvn package`)");
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes); Stream<Path> files = Files.walk(root)) {
      for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
        String name = root.relativize(file).toString().replace('\\', '/');
        if (name.contains("__pycache__")) {
          continue;
        }
        // No Unix modes: a node (as Lambda's tooling) treats a mode-less `bootstrap` as executable.
        zip.putNextEntry(new ZipEntry(name));
        zip.write(Files.readAllBytes(file));
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new IllegalStateException("not JSON: " + text, e);
    }
  }
}
