package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A stock Java Lambda handler, unchanged from what runs on AWS: Lamina starts it with the
 * official runtime interface client. Handler string: {@code example.Hello::handleRequest}.
 */
public class Hello implements RequestHandler<Map<String, Object>, Map<String, Object>> {

  private static int invocations;

  @Override
  public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
    invocations++;
    Object name = event == null ? null : event.get("name");
    context.getLogger().log("greeting " + (name == null ? "world" : name));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("message", "Hello, " + (name == null ? "world" : name) + "!");
    out.put("invocations", invocations);
    out.put("requestId", context.getAwsRequestId());
    out.put("function", context.getFunctionName());
    out.put("memoryMb", context.getMemoryLimitInMB());
    if (event != null && "fail".equals(event.get("action"))) {
      throw new IllegalStateException("asked to fail");
    }
    return out;
  }
}
