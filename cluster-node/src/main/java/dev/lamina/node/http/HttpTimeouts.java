package dev.lamina.node.http;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How long the API waits on a client ({@code lamina.http}), read once at start-up. Pekko's own
 * request-timeout and idle-timeout must stay above 900 s for synchronous invocations; these bound
 * what a client sends, which no legitimate client needs long for.
 *
 * @param requestHead how long a connection with no request in progress may take to deliver the
 *     next request's whole head (see {@link Exchanges})
 * @param bodyStall how long a request body may go without a byte arriving
 * @param body how long a whole request body may take
 */
record HttpTimeouts(Duration requestHead, Duration bodyStall, Duration body) {

  static HttpTimeouts from(Config config) {
    Config http = config.getConfig("lamina.http");
    HttpTimeouts t = new HttpTimeouts(http.getDuration("request-head-timeout"), http.getDuration("body-stall-timeout"),
        http.getDuration("body-timeout"));
    positive(t.requestHead(), "lamina.http.request-head-timeout");
    positive(t.bodyStall(), "lamina.http.body-stall-timeout");
    positive(t.body(), "lamina.http.body-timeout");
    return t;
  }

  private static void positive(Duration d, String key) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(key + " must be positive, not " + d);
    }
  }
}
