package dev.lamina.node.testing;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import software.amazon.awssdk.core.SdkBytes;

/** The example functions of {@code examples/}, packaged as zips the way users package them. */
public final class Examples {

  private Examples() {}

  /** The repository's {@code examples/} directory. */
  public static Path dir() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("examples/python"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("examples/ not found above " + Path.of("").toAbsolutePath());
    }
    return p.resolve("examples");
  }

  /** Zips a directory of {@code examples/} (e.g. {@code python/probe}), keeping executable bits. */
  public static SdkBytes zipOf(String exampleDir) {
    return SdkBytes.fromByteArray(zipDirectory(dir().resolve(exampleDir)));
  }

  /** Like {@link #zipOf(String)} plus extra literal entries (e.g. to make the code digest unique). */
  public static SdkBytes zipOf(String exampleDir, Map<String, String> extra) {
    return SdkBytes.fromByteArray(zipDirectory(dir().resolve(exampleDir), extra));
  }

  public static byte[] zipDirectory(Path root) {
    return zipDirectory(root, Map.of());
  }

  public static byte[] zipDirectory(Path root, Map<String, String> extra) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes); Stream<Path> files = Files.walk(root)) {
      for (Map.Entry<String, String> e : extra.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        zip.closeEntry();
      }
      for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
        String name = root.relativize(file).toString().replace('\\', '/');
        if (name.contains("__pycache__")) {
          continue;
        }
        ZipEntry entry = new ZipEntry(name);
        zip.putNextEntry(entry);
        zip.write(Files.readAllBytes(file));
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return withUnixModes(bytes.toByteArray(), root);
  }

  /** A zip of literal entries: name → content. */
  public static byte[] zip(Map<String, String> entries) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, String> e : entries.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Compiles {@code examples/java} against aws-lambda-java-core, as a user's build would, and zips
   * the classes (a stock Java Lambda package).
   */
  public static SdkBytes javaHello() {
    return javaHello(null, 17);
  }

  /**
   * The same, compiled by the {@code javac} of another JDK (null: this JVM's compiler) for
   * {@code release}: a package built for a newer Java than the node's own.
   */
  public static SdkBytes javaHello(Path javac, int release) {
    Path out = compileJava(javac, release);
    byte[] zip = zipDirectory(out);
    TestNode.deleteTree(out);
    return SdkBytes.fromByteArray(zip);
  }

  /**
   * Compiles {@code examples/java} (every handler there) against aws-lambda-java-core into a new
   * temporary directory, as a user's build would; the caller deletes it. {@code javac} null: this
   * JVM's compiler.
   */
  public static Path compileJava(Path javac, int release) {
    try {
      Path out = Files.createTempDirectory("lamina-java-example");
      Path core = Path.of(Context.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      List<String> sources;
      try (Stream<Path> s = Files.walk(dir().resolve("java/src/main/java"))) {
        sources = s.filter(p -> p.toString().endsWith(".java")).map(Path::toString).toList();
      }
      List<String> args = new java.util.ArrayList<>(List.of("--release", Integer.toString(release),
          "-cp", core.toString(), "-d", out.toString()));
      args.addAll(sources);
      int rc;
      if (javac == null) {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        rc = compiler.run(null, null, null, args.toArray(String[]::new));
      } else {
        List<String> command = new java.util.ArrayList<>(List.of(javac.toString()));
        command.addAll(args);
        rc = new ProcessBuilder(command).inheritIO().start().waitFor();
      }
      if (rc != 0) {
        throw new IllegalStateException("javac failed for examples/java");
      }
      return out;
    } catch (IOException | URISyntaxException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** java.util.zip writes no Unix modes; zip tools do. Marks files executable on disk as executable. */
  private static byte[] withUnixModes(byte[] zip, Path root) {
    return withUnixModes(zip, name -> {
      try {
        return Files.getPosixFilePermissions(root.resolve(name)).contains(PosixFilePermission.OWNER_EXECUTE)
            ? 0100755 : 0100644;
      } catch (IOException e) {
        return 0100644;
      }
    });
  }

  /**
   * Sets entries' Unix modes in the central directory the way Unix zip tools do ("version made by"
   * host 3, external attributes {@code mode << 16}); {@code modeOf} returns null to leave an entry as is.
   */
  public static byte[] withUnixModes(byte[] zip, java.util.function.Function<String, Integer> modeOf) {
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(zip).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    int eocd = zip.length - 22;
    while (eocd >= 0 && buf.getInt(eocd) != 0x06054b50) {
      eocd--;
    }
    int count = Short.toUnsignedInt(buf.getShort(eocd + 10));
    int p = buf.getInt(eocd + 16);
    for (int i = 0; i < count; i++) {
      int nameLength = Short.toUnsignedInt(buf.getShort(p + 28));
      int extra = Short.toUnsignedInt(buf.getShort(p + 30));
      int comment = Short.toUnsignedInt(buf.getShort(p + 32));
      Integer mode = modeOf.apply(new String(zip, p + 46, nameLength, java.nio.charset.StandardCharsets.UTF_8));
      if (mode != null) {
        buf.putShort(p + 4, (short) ((3 << 8) | 20));
        buf.putInt(p + 38, mode << 16);
      }
      p += 46 + nameLength + extra + comment;
    }
    return zip;
  }

  /**
   * A python3 function (handler {@code app.handler}) answering with {@code marker}, the
   * {@code MARK} environment variable, the version and invoked ARN it runs as, and an id of its
   * sandbox: tells versions and sandboxes apart.
   */
  public static SdkBytes marked(String marker) {
    return SdkBytes.fromByteArray(zip(Map.of("app.py", ""
        + "import os\n"
        + "import uuid\n"
        + "SANDBOX = str(uuid.uuid4())\n"
        + "\n"
        + "def handler(event, context):\n"
        + "    return {'code': '" + marker + "', 'env': os.environ.get('MARK'),\n"
        + "            'version': context.function_version,\n"
        + "            'envVersion': os.environ.get('AWS_LAMBDA_FUNCTION_VERSION'),\n"
        + "            'invokedArn': context.invoked_function_arn, 'sandbox': SANDBOX}\n")));
  }
}
