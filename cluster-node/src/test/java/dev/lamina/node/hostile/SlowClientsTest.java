package dev.lamina.node.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.RawHttp;
import dev.lamina.node.testing.TestNode;
import dev.lamina.persistence.code.TestZips;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.core.SdkBytes;

/**
 * Slow and stalled clients are cut off without tying up the node, and nothing legitimate is: a
 * node whose client timeouts are shortened to seconds (request head 2 s, body stall 2 s, whole
 * body 6 s) closes a connection trickling its headers or sending nothing, answers a stalled or
 * trickling body with a 408, and still serves an invocation that runs longer than all of them.
 */
@Timeout(120)
class SlowClientsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SLEEPER = "sc-sleeper";
  private static final long HEAD_MS = 2000;
  private static final long TOTAL_BODY_MS = 6000;

  static TestNode node;
  static int port;

  @BeforeAll
  static void start() throws IOException {
    node = TestNode.start(Files.createTempDirectory("lamina-slow-"), true, ConfigFactory.parseString(
        HostileInputFuzzTest.AUTH + "\nlamina.http.request-head-timeout = 2 s\nlamina.http.body-stall-timeout = 2 s\n"
            + "lamina.http.body-timeout = 6 s\n"));
    port = URI.create(node.endpoint()).getPort();
    byte[] zip = TestZips.zip(Map.of("app.py", "import time\n\ndef handler(event, context):\n"
        + "    time.sleep(event['sleep'])\n    return {'slept': event['sleep']}\n"), 0);
    node.lambda().createFunction(b -> b.functionName(SLEEPER).runtime("python3.12").handler("app.handler")
        .role(Functions.ROLE).timeout(20).code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void aClientTricklingItsRequestHeadIsDisconnectedAtTheHeadTimeout() throws Exception {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      long started = System.nanoTime();
      out.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
      boolean closed = false;
      // One header line every 300 ms: Pekko's idle-timeout never fires on such a client.
      for (int i = 0; i < 50 && !closed; i++) {
        Thread.sleep(300);
        try {
          out.write(("X-Slow-" + i + ": v\r\n").getBytes(StandardCharsets.US_ASCII));
          out.flush();
          closed = closedByServer(socket);
        } catch (IOException e) {
          closed = true;
        }
      }
      long elapsed = millisSince(started);

      assertTrue(closed, "still connected after " + elapsed + " ms");
      assertTrue(elapsed >= HEAD_MS - 200 && elapsed < HEAD_MS + 3000, "cut off after " + elapsed + " ms");
    }
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAtTheHeadTimeout() throws Exception {
    try (Socket socket = connect()) {
      socket.setSoTimeout(10_000);
      long started = System.nanoTime();

      int read = socket.getInputStream().read();
      long elapsed = millisSince(started);

      assertEquals(-1, read);
      assertTrue(elapsed >= HEAD_MS - 200 && elapsed < HEAD_MS + 3000, "closed after " + elapsed + " ms");
    }
  }

  @Test
  void aBodyThatStallsIsAnswered408() throws Exception {
    byte[] body = ("{\"Description\":\"" + "x".repeat(80) + "\"}").getBytes(StandardCharsets.UTF_8);
    byte[] raw = new RawHttp.Request("PUT", "/2015-03-31/functions/" + SLEEPER + "/configuration")
        .header("Content-Type", "application/json").body(body).render(port);
    try (Socket socket = connect()) {
      long started = System.nanoTime();
      socket.getOutputStream().write(Arrays.copyOf(raw, raw.length - body.length + 10));   // head and 10 bytes

      RawHttp.Response r = RawHttp.read(socket.getInputStream(), false, System.nanoTime() + seconds(10));
      long elapsed = millisSince(started);

      HostileHttpTest.assertAwsError(r, 408, "RequestTimeoutException",
          "The request body did not arrive in time: nothing for 2 s, or more than 6 s in all.");
      assertTrue(elapsed >= 1800 && elapsed < 5000, "answered after " + elapsed + " ms");
    }
    assertEquals("", node.lambda().getFunction(b -> b.functionName(SLEEPER)).configuration().description(),
        "the half-sent update changed nothing");
  }

  @Test
  void aBodyTricklingInForLongerThanTheBodyTimeoutIsAnswered408() throws Exception {
    byte[] body = ("{\"Description\":\"" + "x".repeat(80) + "\"}").getBytes(StandardCharsets.UTF_8);
    byte[] raw = new RawHttp.Request("PUT", "/2015-03-31/functions/" + SLEEPER + "/configuration")
        .header("Content-Type", "application/json").body(body).render(port);
    int headLength = raw.length - body.length;
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      long started = System.nanoTime();
      out.write(raw, 0, headLength);
      // One byte a second: never stalls 2 s, never finishes either (98 bytes).
      RawHttp.Response r = null;
      for (int i = 0; i < body.length && r == null; i++) {
        try {
          out.write(raw, headLength + i, 1);
          out.flush();
        } catch (IOException e) {
          break;   // closed after answering: read the answer below
        }
        Thread.sleep(1000);
        if (socket.getInputStream().available() > 0) {
          r = RawHttp.read(socket.getInputStream(), false, System.nanoTime() + seconds(10));
        }
      }
      if (r == null) {
        r = RawHttp.read(socket.getInputStream(), false, System.nanoTime() + seconds(10));
      }
      long elapsed = millisSince(started);

      HostileHttpTest.assertAwsError(r, 408, "RequestTimeoutException",
          "The request body did not arrive in time: nothing for 2 s, or more than 6 s in all.");
      assertTrue(elapsed >= TOTAL_BODY_MS - 200 && elapsed < TOTAL_BODY_MS + 4000, "answered after " + elapsed + " ms");
    }
  }

  @Test
  void anInvocationRunningLongerThanEveryClientTimeoutIsAnsweredOnItsConnection() throws Exception {
    long started = System.nanoTime();

    RawHttp.Response r = RawHttp.send(port, new RawHttp.Request("POST", "/2015-03-31/functions/" + SLEEPER
        + "/invocations").header("Content-Type", "application/json").body("{\"sleep\":7}"), Duration.ofSeconds(60));

    assertEquals(200, r.status(), r.text());
    assertEquals(JSON.readTree("{\"slept\":7}"), JSON.readTree(r.body()));
    assertTrue(millisSince(started) >= 7000);
  }

  @Test
  void aKeepAliveConnectionServesRequestsAndClosesOnceIdleLongerThanTheHeadTimeout() throws Exception {
    try (Socket socket = connect()) {
      InputStream in = socket.getInputStream();
      byte[] health = new RawHttp.Request("GET", "/health").keepAlive().render(port);
      for (int i = 0; i < 3; i++) {
        socket.getOutputStream().write(health);
        assertEquals(200, RawHttp.read(in, false, System.nanoTime() + seconds(10)).status());
        Thread.sleep(HEAD_MS / 2);   // idle, but less than the timeout: the connection stays
      }
      socket.setSoTimeout(10_000);
      long started = System.nanoTime();

      int read = in.read();

      assertEquals(-1, read, "closed once idle");
      assertTrue(millisSince(started) < HEAD_MS + 3000);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static Socket connect() throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    return socket;
  }

  /** True when the server has closed its side: a read sees the end (or a reset) at once. */
  private static boolean closedByServer(Socket socket) throws IOException {
    socket.setSoTimeout(50);
    try {
      return socket.getInputStream().read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }

  private static long seconds(int n) {
    return TimeUnit.SECONDS.toNanos(n);
  }
}
