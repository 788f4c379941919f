package dev.lamina.persistence.code;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/** SHA-256 of a code package. Lambda shows it base64-encoded ({@code CodeSha256}); files use hex. */
public record CodeDigest(String hex) {

  public CodeDigest {
    if (hex == null || !hex.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("not a sha-256 hex digest: " + hex);
    }
  }

  public static CodeDigest of(byte[] bytes) {
    try {
      return new CodeDigest(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  public static CodeDigest fromBase64(String base64) {
    return new CodeDigest(HexFormat.of().formatHex(Base64.getDecoder().decode(base64)));
  }

  /** The form Lambda reports as {@code CodeSha256}. */
  public String base64() {
    return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(hex));
  }
}
