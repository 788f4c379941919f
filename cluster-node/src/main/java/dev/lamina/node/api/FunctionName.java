package dev.lamina.node.api;

import dev.lamina.actors.LambdaError;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code FunctionName} as clients send it: a name, {@code name:qualifier}, a partial ARN
 * ({@code 123456789012:function:name[:qualifier]}) or a full ARN.
 *
 * @param qualifier the qualifier carried in the name, or null
 */
public record FunctionName(String name, String qualifier) {

  static final String PATTERN_TEXT = "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
      + "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";
  private static final Pattern PATTERN = Pattern.compile(PATTERN_TEXT);
  private static final Pattern BARE = Pattern.compile("[a-zA-Z0-9-_]+");
  private static final Pattern QUALIFIER = Pattern.compile("[a-zA-Z0-9$_-]+");

  /** Parses {@code raw}; bad input gets the Lambda error for the {@code functionName} member. */
  public static FunctionName parse(String raw) {
    if (raw == null || raw.isEmpty()) {
      throw new LambdaError(LambdaError.Code.ValidationException,
          "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: "
              + "Member must not be null");
    }
    if (BARE.matcher(raw).matches() && raw.length() > 64) {
      throw LambdaError.invalid("1 validation error detected: Value '" + raw + "' at 'functionName' failed to "
          + "satisfy constraint: Member must have length less than or equal to 64");
    }
    if (raw.length() > 140) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + raw
          + "' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140");
    }
    Matcher m = PATTERN.matcher(raw);
    if (!m.matches()) {
      throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + raw
          + "' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
          + PATTERN_TEXT);
    }
    String name = m.group(10);
    if (name.length() > 64) {
      throw LambdaError.invalid("1 validation error detected: Value '" + raw + "' at 'functionName' failed to "
          + "satisfy constraint: Member must have length less than or equal to 64");
    }
    return new FunctionName(name, m.group(12));
  }

  /**
   * The qualifier to use given the one in the name and the {@code Qualifier} parameter, which must
   * agree when both are given. Null means unqualified.
   */
  public String qualifierWith(String parameter) {
    if (parameter != null && !parameter.isEmpty()) {
      if (parameter.length() > 128) {
        throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + parameter
            + "' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128");
      }
      if (!QUALIFIER.matcher(parameter).matches()) {
        throw new LambdaError(LambdaError.Code.ValidationException, "1 validation error detected: Value '" + parameter
            + "' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: "
            + "(|[a-zA-Z0-9$_-]+)");
      }
      if (qualifier != null && !qualifier.equals(parameter)) {
        throw LambdaError.invalid("The derived qualifier from the function name does not match the specified qualifier.");
      }
      return parameter;
    }
    return qualifier;
  }
}
