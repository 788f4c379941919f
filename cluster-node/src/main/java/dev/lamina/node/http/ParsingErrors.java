package dev.lamina.node.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests Pekko HTTP cannot even parse (a request line or header over its limit, an
 * illegal character or percent-encoding in the target, a method it does not know, a body that
 * declares more than {@code max-content-length}) in the AWS error shape instead of Pekko's plain
 * text: {@code x-amzn-ErrorType}, a JSON body with a {@code message}.
 *
 * <p>The client is at fault in every case, so the answer is a 4xx: Pekko's own 4xx status where
 * it chose one (400, 413, 414, 422, 431), 400 where it would say 501 (unknown method or transfer
 * encoding) or 505 (HTTP version). {@code RequestEntityTooLargeException} for 413, the generic
 * {@code ValidationException} otherwise. Set as {@code pekko.http.server.parsing.error-handler}
 * by {@link HttpApi#bind()}; Pekko instantiates it by its no-argument constructor.
 */
public final class ParsingErrors extends ParsingErrorHandler {

  /** The longest message sent back: Pekko's detail may quote the offending input. */
  private static final int MAX_MESSAGE = 300;

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    int code = status.intValue();
    if (log.isDebugEnabled()) {
      log.debug("unparsable request answered {}: {}", code, info.formatPretty());
    }
    if (code == 413) {
      return HttpApi.error(413, "RequestEntityTooLargeException", "message",
          "Request must be smaller than " + settings.getParserSettings().getMaxContentLength() + " bytes", true);
    }
    String message = info.detail().isEmpty() ? info.summary() : info.summary() + ": " + info.detail();
    if (message.length() > MAX_MESSAGE) {
      message = message.substring(0, MAX_MESSAGE) + "…";
    }
    return HttpApi.error(code >= 400 && code < 500 ? code : 400, "ValidationException", "message", message, false);
  }
}
