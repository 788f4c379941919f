package dev.lamina.node.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.TestNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * The isolation tests' shared parts: a node with a given {@code lamina.sandbox.isolation}, the
 * hostile function of {@code examples/python/hostile} (one handler; {@code event.do} names the
 * attempt), and what the host itself sees of a sandbox (listening ports, connections from a user
 * outside the pool).
 */
final class Hostile {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String RUNTIME = "python3.12";
  static final String HANDLER = "hostile.handler";

  private Hostile() {}

  /**
   * Creates a hostile function with its own code (so its own code digest and directory): the
   * package holds {@code secret.txt} = {@code secret}, and every process of its sandboxes carries
   * {@code LAMINA_TEST_MARK} = {@code mark} (how the host finds them, wherever they run).
   */
  static void create(LambdaClient lambda, String name, int memoryMb, int ephemeralMb, int timeoutSeconds,
      String secret, String mark) {
    SdkBytes zip = Examples.zipOf("python/hostile", Map.of("secret.txt", secret));
    lambda.createFunction(b -> b.functionName(name).runtime(RUNTIME).handler(HANDLER).role(Functions.ROLE)
        .memorySize(memoryMb).ephemeralStorage(e -> e.size(ephemeralMb)).timeout(timeoutSeconds)
        .environment(e -> e.variables(Map.of("LAMINA_TEST_MARK", mark)))
        .code(c -> c.zipFile(zip)));
  }

  /** Invokes {@code event} (a JSON object) and returns the invocation as the SDK sees it. */
  static InvokeResponse invoke(LambdaClient lambda, String function, Object event) {
    try {
      return Functions.invoke(lambda, function, JSON.writeValueAsString(event));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs one attempt that must not fail as an invocation; returns what the function reported. */
  static JsonNode attempt(LambdaClient lambda, String function, Object event) {
    return Functions.json(invoke(lambda, function, event));
  }

  /** The hex directory name under which the node keeps a function's extracted code. */
  static Path codeDir(TestNode node, LambdaClient lambda, String function) {
    String sha = lambda.getFunctionConfiguration(b -> b.functionName(function)).codeSha256();
    return node.dataDir().resolve("code/extracted")
        .resolve(HexFormat.of().formatHex(java.util.Base64.getDecoder().decode(sha))).toAbsolutePath();
  }

  /** GET /health, as an operator's probe reads it. */
  static JsonNode health(TestNode node) throws IOException, InterruptedException {
    HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
        HttpRequest.newBuilder(URI.create(node.endpoint() + "/health")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    return JSON.readTree(response.body());
  }

  /**
   * Whether something on this host listens on 127.0.0.1:{@code port}: an IPv4 socket
   * ({@code /proc/net/tcp}) or, as the JDK binds by default, a dual-stack one ({@code ::ffff:127.0.0.1}).
   */
  static boolean listeningOnLoopback(int port) throws IOException {
    List<String> locals = List.of(String.format("0100007F:%04X", port),
        String.format("0000000000000000FFFF00000100007F:%04X", port));
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      for (String line : Files.readAllLines(Path.of(table), StandardCharsets.US_ASCII)) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 3 && locals.contains(f[1]) && f[3].equals("0A")) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Connects to 127.0.0.1:{@code port} as host user nobody (65534), a user outside the sandbox
   * pool: "ok" or the errno name.
   */
  static String connectAsNobody(int port) throws IOException, InterruptedException {
    String script = "import socket, errno, sys\n"
        + "s = socket.socket(); s.settimeout(3)\n"
        + "try:\n"
        + "    s.connect(('127.0.0.1', int(sys.argv[1]))); print('ok')\n"
        + "except OSError as e:\n"
        + "    print(errno.errorcode.get(e.errno, type(e).__name__))\n";
    Process p = new ProcessBuilder(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        "/usr/bin/python3", "-S", "-c", script, Integer.toString(port)))
        .redirectErrorStream(true).start();
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the connection attempt as nobody did not finish in 20 s");
    }
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
  }

  /** The port of a {@code host:port} address. */
  static int portOf(String address) {
    return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
  }
}
