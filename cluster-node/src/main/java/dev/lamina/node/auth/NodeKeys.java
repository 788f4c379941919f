package dev.lamina.node.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access keys a node accepts and where they came from.
 *
 * <ol>
 *   <li>{@code lamina.auth.credentials} when it lists any (both profiles);
 *   <li>else the credentials file ({@code lamina.auth.credentials-file}, by default
 *       {@code <data-dir>/credentials}) when it exists;
 *   <li>else, embedded profile: a new key pair, written to that file (0600) so that it stays the
 *       same across restarts;
 *   <li>else, cluster profile: the node refuses to start. Every node must accept the same keys
 *       (any node takes any request), so none may invent its own.
 * </ol>
 *
 * @param keys the keys, the one clients should use first
 * @param file the file they were read from or written to; null when they come from configuration
 * @param generated true when this start created the file
 */
public record NodeKeys(List<AccessKey> keys, Path file, boolean generated) {

  private static final Logger log = LoggerFactory.getLogger(NodeKeys.class);

  public static NodeKeys resolve(AuthSettings settings, String profile) throws IOException {
    if (!settings.credentials().isEmpty()) {
      return new NodeKeys(settings.credentials(), null, false);
    }
    Path file = settings.credentialsFile();
    if (Files.exists(file)) {
      List<AccessKey> keys = CredentialsFile.read(file);
      if (keys.isEmpty()) {
        throw new IllegalArgumentException("lamina.auth.credentials-file: " + file + " holds no access key "
            + "(a [default] profile with aws_access_key_id and aws_secret_access_key); fix or delete it");
      }
      if (CredentialsFile.readableByOthers(file)) {
        log.warn("{} holds secret access keys and other users may read it: chmod 600 it", file);
      }
      return new NodeKeys(keys, file, false);
    }
    if (profile.equals("cluster")) {
      throw new IllegalArgumentException("lamina.auth: a cluster node needs the access keys all nodes share: set "
          + "lamina.auth.credentials = [{access-key-id = \"…\", secret-access-key = \"…\"}] or point "
          + "lamina.auth.credentials-file at a shared credentials file (" + file + " does not exist); "
          + "lamina.auth.enabled = false turns authentication off (development only)");
    }
    AccessKey key = CredentialsFile.generate();
    CredentialsFile.create(file, key);
    log.info("generated access key {} for this node, kept in {}", key.accessKeyId(), file);
    return new NodeKeys(List.of(key), file, true);
  }

  /** The key a client of this node should sign with. */
  public AccessKey clientKey() {
    return keys.get(0);
  }
}
