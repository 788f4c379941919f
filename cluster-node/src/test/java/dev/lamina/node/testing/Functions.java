package dev.lamina.node.testing;

import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;

/** Small helpers over the SDK client so tests read as what a user does. */
public final class Functions {

  private static final ObjectMapper JSON = new ObjectMapper();

  public static final String ROLE = "arn:aws:iam::000000000000:role/lamina-test";

  private Functions() {}

  public static CreateFunctionResponse create(LambdaClient lambda, String name, String runtime, String handler,
      SdkBytes zip) {
    return create(lambda, name, runtime, handler, zip, 3, Map.of());
  }

  public static CreateFunctionResponse create(LambdaClient lambda, String name, String runtime, String handler,
      SdkBytes zip, int timeoutSeconds, Map<String, String> env) {
    return lambda.createFunction(b -> b.functionName(name).runtime(runtime).handler(handler).role(ROLE)
        .timeout(timeoutSeconds).environment(e -> e.variables(env)).code(c -> c.zipFile(zip)));
  }

  public static InvokeResponse invoke(LambdaClient lambda, String name, String payload) {
    return lambda.invoke(b -> b.functionName(name).payload(SdkBytes.fromUtf8String(payload)).logType(LogType.TAIL));
  }

  public static String body(InvokeResponse response) {
    return response.payload().asUtf8String();
  }

  public static String log(InvokeResponse response) {
    return response.logResult() == null ? ""
        : new String(Base64.getDecoder().decode(response.logResult()), StandardCharsets.UTF_8);
  }

  /** The JSON a function returned; fails the test if the invocation ended in a function error. */
  public static JsonNode json(InvokeResponse response) {
    assertNull(response.functionError(), body(response));
    try {
      return JSON.readTree(body(response));
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body(response), e);
    }
  }
}
