package dev.lamina.loadtests;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.gatling.javaapi.http.HttpRequestActionBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What every Lamina simulation shares: the target, the set-up client, its results file, and a
 * Gatling HTTP protocol that signs each request and stays offline (no warm-up call to gatling.io,
 * no HTTP cache). Requests go over HTTP/1.1 keep-alive connections, one per virtual user, as the
 * AWS SDK's connection pool would hold them.
 */
public abstract class LaminaSimulation extends Simulation {

  private static final Pattern INIT = Pattern.compile("Init Duration: ([0-9.]+) ms");
  private static final Pattern DURATION = Pattern.compile("\tDuration: ([0-9.]+) ms");

  protected final Target target = Target.fromSystemProperties();
  protected final LaminaApi api = new LaminaApi(target);
  protected final Results results = new Results(target, getClass().getSimpleName());

  protected HttpProtocolBuilder protocol() {
    return http.baseUrls(target.urls()).disableWarmUp().disableCaching()
        .contentTypeHeader("application/json").sign(new Sigv4(target).forGatling());
  }

  /** {@code Invoke} of the function named by the session attribute (or literal) {@code function}. */
  protected static HttpRequestActionBuilder invoke(String requestName, String function, String payload) {
    return http(requestName).post("/2015-03-31/functions/" + function + "/invocations").body(StringBody(payload));
  }

  /** What an answer of {@link #invokeOrThrottle} was. */
  protected enum Answer { THROTTLED, WARM, COLD }

  /**
   * An invocation with {@code LogType: Tail} that may be throttled: a 200 must carry its log tail
   * and no function error, a 429 is an expected throttle; {@link #answer} then tells which it was.
   */
  protected static HttpRequestActionBuilder invokeOrThrottle(String requestName, String function, String payload) {
    return invoke(requestName, function, payload).header("X-Amz-Log-Type", "Tail")
        .check(status().in(200, 429).saveAs("status"))
        .checkIf((response, session) -> response.status().code() == 200)
        .then(header("X-Amz-Function-Error").notExists(), header("X-Amz-Log-Result").saveAs("log"));
  }

  /** The last answer of {@link #invokeOrThrottle}: a throttle, or (by its REPORT line) a warm or cold start. */
  protected static Answer answer(Session session) {
    if (session.getInt("status") == 429) {
      return Answer.THROTTLED;
    }
    return Double.isNaN(initDuration(logTail(session.getString("log")))) ? Answer.WARM : Answer.COLD;
  }

  /**
   * {@code chain} bracketed by the nanosecond clock: the client-observed time of each pass is
   * recorded as a sample of {@code series} (Gatling's own statistics keep whole milliseconds).
   */
  protected ChainBuilder timed(String series, ChainBuilder chain) {
    String key = "t0-" + series;
    return exec(session -> session.set(key, System.nanoTime()))
        .exec(chain)
        .exec(session -> {
          if (!session.isFailed()) {
            results.elapsed(series, session.getLong(key));
          }
          return session;
        });
  }

  /** The decoded log tail of a {@code LogType: Tail} invocation (the {@code X-Amz-Log-Result} header). */
  protected static String logTail(String header) {
    return header == null ? "" : new String(Base64.getDecoder().decode(header), StandardCharsets.UTF_8);
  }

  /** The REPORT line's {@code Init Duration} in ms, or NaN for a warm invocation. */
  protected static double initDuration(String tail) {
    Matcher m = INIT.matcher(tail);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  /** The REPORT line's {@code Duration} in ms (the handler's own time), or NaN. */
  protected static double duration(String tail) {
    Matcher m = DURATION.matcher(tail);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  @Override
  public void after() {
    results.write();
  }
}
