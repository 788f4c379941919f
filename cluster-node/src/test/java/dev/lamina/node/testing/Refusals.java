package dev.lamina.node.testing;

import static dev.lamina.node.testing.Functions.ROLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.Consumer;
import org.junit.jupiter.api.function.Executable;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateFunctionRequest;
import software.amazon.awssdk.services.lambda.model.LambdaException;

/** Assertions on the errors a Lambda client sees: status, {@code x-amzn-ErrorType} and message. */
public final class Refusals {

  private Refusals() {}

  /** Runs {@code call}, which must be refused with a Lambda error. */
  public static LambdaException refused(Executable call) {
    return assertThrows(LambdaException.class, call);
  }

  /** A CreateFunction that would succeed, altered by {@code change}, which must be refused. */
  public static LambdaException refusedCreate(LambdaClient lambda, String name,
      Consumer<CreateFunctionRequest.Builder> change) {
    return refused(() -> lambda.createFunction(b -> {
      b.functionName(name).runtime("python3.12").handler("handler.handler").role(ROLE)
          .code(c -> c.zipFile(Examples.zipOf("python/hello")));
      change.accept(b);
    }));
  }

  public static void assertError(LambdaException e, int status, String code) {
    assertEquals(status, e.statusCode(), e.toString());
    assertEquals(code, e.awsErrorDetails().errorCode(), e.toString());
  }

  public static void assertError(LambdaException e, int status, String code, String message) {
    assertError(e, status, code);
    assertEquals(message, e.awsErrorDetails().errorMessage());
  }
}
