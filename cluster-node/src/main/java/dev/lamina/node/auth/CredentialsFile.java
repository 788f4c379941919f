package dev.lamina.node.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * Access keys kept in a file of the AWS shared-credentials format, so that the AWS CLI and SDKs
 * can read it as it is ({@code AWS_SHARED_CREDENTIALS_FILE=lamina-data/credentials}):
 *
 * <pre>
 * [default]
 * aws_access_key_id = LKIA…
 * aws_secret_access_key = …
 * </pre>
 *
 * <p>Every profile in the file is a key the node accepts; {@code [default]} (else the first) is
 * the one clients use. A generated file is written owner-only (0600) and atomically.
 */
public final class CredentialsFile {

  private static final String ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  private static final SecureRandom RANDOM = new SecureRandom();

  private CredentialsFile() {}

  /** The keys in {@code file}, {@code [default]} first; empty when it has none. */
  public static List<AccessKey> read(Path file) throws IOException {
    List<AccessKey> keys = new ArrayList<>();
    String profile = null;
    String id = null;
    String secret = null;
    int defaultAt = -1;
    List<String> lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
    lines.add("[]");   // closes the last profile
    for (String raw : lines) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]")) {
        if (id != null && secret != null) {
          if ("default".equals(profile) && defaultAt < 0) {
            defaultAt = keys.size();
          }
          keys.add(new AccessKey(id, secret));
        }
        profile = line.substring(1, line.length() - 1).strip();
        id = null;
        secret = null;
        continue;
      }
      int eq = line.indexOf('=');
      if (eq < 0) {
        continue;
      }
      String name = line.substring(0, eq).strip();
      String value = line.substring(eq + 1).strip();
      if (name.equals("aws_access_key_id") && !value.isEmpty()) {
        id = value;
      } else if (name.equals("aws_secret_access_key") && !value.isEmpty()) {
        secret = value;
      }
    }
    if (defaultAt > 0) {
      keys.add(0, keys.remove(defaultAt));
    }
    return keys;
  }

  /**
   * A new key pair shaped like AWS's: an id of 20 upper-case characters starting {@code LKIA}
   * (80 random bits), a secret of 40 base64 characters (240 random bits).
   */
  public static AccessKey generate() {
    StringBuilder id = new StringBuilder("LKIA");
    for (int i = 0; i < 16; i++) {
      id.append(ID_ALPHABET.charAt(RANDOM.nextInt(ID_ALPHABET.length())));
    }
    byte[] secret = new byte[30];
    RANDOM.nextBytes(secret);
    return new AccessKey(id.toString(), Base64.getEncoder().encodeToString(secret));
  }

  /**
   * Writes {@code key} as the {@code [default]} profile of a new file {@code file}, readable by its
   * owner only; fails if the file exists.
   */
  public static void create(Path file, AccessKey key) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path temp = Files.createTempFile(file.toAbsolutePath().getParent(), ".credentials-", ".tmp",
        PosixFilePermissions.asFileAttribute(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
    try {
      Files.writeString(temp, "# Lamina access key (AWS shared-credentials format). Keep it secret.\n"
          + "[default]\n"
          + "aws_access_key_id = " + key.accessKeyId() + "\n"
          + "aws_secret_access_key = " + key.secretAccessKey() + "\n", StandardCharsets.UTF_8);
      if (Files.exists(file)) {
        throw new FileAlreadyExistsException(file.toString());
      }
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** True when users other than the owner may read {@code file}. */
  public static boolean readableByOthers(Path file) {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
      return p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ);
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
