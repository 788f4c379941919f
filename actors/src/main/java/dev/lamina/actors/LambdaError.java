package dev.lamina.actors;

/**
 * A user-visible Lambda error: the error code sent as {@code x-amzn-ErrorType}, and the message.
 * Only the HTTP layer turns it into a status, headers and a body; everything below it just says
 * which error happened.
 */
public final class LambdaError extends RuntimeException {

  /** The Lambda error codes Lamina answers with. */
  public enum Code {
    ResourceNotFoundException,
    ResourceConflictException,
    InvalidParameterValueException,
    ValidationException,
    RequestEntityTooLargeException,
    InvalidRequestContentException,
    PreconditionFailedException,
    ProvisionedConcurrencyConfigNotFoundException,
    TooManyRequestsException,
    UnsupportedMediaTypeException,
    AccessDeniedException,
    ServiceException
  }

  private final Code code;
  private final String reason;

  public LambdaError(Code code, String message) {
    this(code, message, null);
  }

  /** {@code reason} is the {@code Reason} member of a TooManyRequestsException, else null. */
  public LambdaError(Code code, String message, String reason) {
    super(message, null, false, false);
    this.code = code;
    this.reason = reason;
  }

  public Code code() {
    return code;
  }

  public String reason() {
    return reason;
  }

  public static LambdaError notFound(String message) {
    return new LambdaError(Code.ResourceNotFoundException, message);
  }

  public static LambdaError invalid(String message) {
    return new LambdaError(Code.InvalidParameterValueException, message);
  }

  public static LambdaError conflict(String message) {
    return new LambdaError(Code.ResourceConflictException, message);
  }
}
