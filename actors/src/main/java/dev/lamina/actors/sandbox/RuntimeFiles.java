package dev.lamina.actors.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Installs the language runtimes into {@code <data>/runtime} at node start, so that every
 * launcher can mount one directory read-only as {@code /var/runtime}: Lamina's python and node
 * bootstraps (classpath resources of the runtimes module) and the official AWS Java runtime
 * interface client with its companion jars (found on the node's own classpath).
 */
public final class RuntimeFiles {

  static final String RIC_MAIN = "com.amazonaws.services.lambda.runtime.api.client.AWSLambda";
  private static final List<String> JAVA_RUNTIME_CLASSES = List.of(
      RIC_MAIN,
      "com.amazonaws.services.lambda.runtime.Context",
      "com.amazonaws.services.lambda.runtime.serialization.PojoSerializer",
      // the runtime interface client's own dependencies
      "software.amazon.awssdk.utilslite.SdkInternalThreadLocal",
      "software.amazon.awssdk.annotations.Mutable");

  private final Path root;

  private RuntimeFiles(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  /** Copies the runtimes under {@code root}, replacing older copies. Blocking. */
  public static RuntimeFiles install(Path root) throws IOException {
    Files.createDirectories(root.resolve("python"));
    Files.createDirectories(root.resolve("node"));
    Path javaLib = Files.createDirectories(root.resolve("java"));
    copyResource("lamina-runtimes/python/bootstrap.py", root.resolve("python/bootstrap.py"));
    copyResource("lamina-runtimes/node/bootstrap.js", root.resolve("node/bootstrap.js"));
    for (String className : JAVA_RUNTIME_CLASSES) {
      Path jar = jarOf(className);
      Files.copy(jar, javaLib.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
    }
    return new RuntimeFiles(root);
  }

  private static void copyResource(String resource, Path target) throws IOException {
    try (InputStream in = RuntimeFiles.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("runtime resource missing from the classpath: " + resource);
      }
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static Path jarOf(String className) throws IOException {
    try {
      Class<?> c = Class.forName(className, false, RuntimeFiles.class.getClassLoader());
      Path jar = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (!Files.isRegularFile(jar)) {
        throw new IOException("the java runtime must come from a jar, found " + jar);
      }
      return jar;
    } catch (ClassNotFoundException | URISyntaxException | NullPointerException e) {
      throw new IOException("java runtime class not on the classpath: " + className, e);
    }
  }
}
