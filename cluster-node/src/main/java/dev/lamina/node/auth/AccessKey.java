package dev.lamina.node.auth;

/** An access key pair a client signs with. {@link #toString()} never shows the secret. */
public record AccessKey(String accessKeyId, String secretAccessKey) {

  public AccessKey {
    if (accessKeyId == null || accessKeyId.isBlank() || secretAccessKey == null || secretAccessKey.isEmpty()) {
      throw new IllegalArgumentException("an access key needs an access key id and a secret access key");
    }
  }

  @Override
  public String toString() {
    return "AccessKey[" + accessKeyId + "]";
  }
}
