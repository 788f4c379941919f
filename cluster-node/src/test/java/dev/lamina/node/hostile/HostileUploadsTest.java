package dev.lamina.node.hostile;

import static dev.lamina.node.testing.Refusals.assertError;
import static dev.lamina.node.testing.Refusals.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.Functions;
import dev.lamina.node.testing.TestNode;
import dev.lamina.persistence.code.TestZips;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Zip bombs and packages that would write outside their directory, sent as a user's SDK sends
 * them through CreateFunction, UpdateFunctionCode and PublishLayerVersion: each is refused with
 * Lambda's error and leaves nothing behind (no function, no new code, no layer, no stored blob,
 * no half-extracted directory). Accepted code is readable by the sandboxes' other users and keeps
 * its executables executable.
 */
@Timeout(180)
class HostileUploadsTest {

  private static final String UNZIP_FAILED =
      "Could not unzip uploaded file. Please check your file, then try to upload again.";
  private static final String EXISTING = "hu-existing";

  static TestNode node;
  static LambdaClient lambda;
  static FunctionConfiguration existing;

  @BeforeAll
  static void start() throws IOException {
    node = TestNode.start(Files.createTempDirectory("lamina-hostile-uploads-"), true,
        ConfigFactory.parseString(HostileInputFuzzTest.AUTH));
    lambda = node.lambda();
    lambda.createFunction(b -> b.functionName(EXISTING).runtime("python3.12").handler("app.handler")
        .role(Functions.ROLE).code(c -> c.zipFile(SdkBytes.fromByteArray(Storm.ECHO_ZIP))));
    existing = lambda.getFunction(b -> b.functionName(EXISTING)).configuration();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void aZipBombByRatioIsRefusedAsUnusable() throws Exception {
    byte[] bomb = TestZips.deflatedZeros("zeros.bin", 100L << 20);   // 100 MiB from ~100 KB

    LambdaException e = refusedCreate("hu-ratio", bomb);

    assertError(e, 400, "InvalidParameterValueException", UNZIP_FAILED);
    assertNothingStored("hu-ratio", bomb);
  }

  @Test
  void aZipBombOver250MbUnzippedIsRefusedWithTheSizeLimitAndLeavesTheCodeAsItWas() throws Exception {
    byte[] bomb = TestZips.deflatedZeros("zeros.bin", 300_000_000L);

    LambdaException e = refused(() -> lambda.updateFunctionCode(b -> b.functionName(EXISTING)
        .zipFile(SdkBytes.fromByteArray(bomb))));

    assertError(e, 400, "InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes");
    assertCodeUnchanged();
    assertBlobAbsent(bomb);
  }

  @Test
  void aZipBombWhoseHeadersUnderstateItsSizeIsRefusedAsUnusable() throws Exception {
    byte[] liar = TestZips.withCentralField(TestZips.deflatedZeros("z.bin", 300_000_000L), "z.bin", 24, 4, 1000);

    LambdaException e = refused(() -> lambda.publishLayerVersion(b -> b.layerName("hu-liar")
        .content(c -> c.zipFile(SdkBytes.fromByteArray(liar)))));

    assertError(e, 400, "InvalidParameterValueException", UNZIP_FAILED);
    assertLayerAbsent("hu-liar");
    assertBlobAbsent(liar);
  }

  @Test
  void anEntryClimbingOutWithDotDotIsRefused() throws Exception {
    byte[] zip = TestZips.zip(entries("app.py", "x = 1\n", "../../escaped.py", "x = 2\n"), 0);

    LambdaException e = refused(() -> lambda.publishLayerVersion(b -> b.layerName("hu-dotdot")
        .content(c -> c.zipFile(SdkBytes.fromByteArray(zip)))));

    assertError(e, 400, "InvalidParameterValueException", UNZIP_FAILED);
    assertLayerAbsent("hu-dotdot");
    assertBlobAbsent(zip);
  }

  @Test
  void anAbsoluteEntryIsRefused() throws Exception {
    byte[] zip = TestZips.zip(entries("app.py", "x = 1\n", "/tmp/absolute.py", "x = 2\n"), 0);

    LambdaException e = refused(() -> lambda.updateFunctionCode(b -> b.functionName(EXISTING)
        .zipFile(SdkBytes.fromByteArray(zip))));

    assertError(e, 400, "InvalidParameterValueException", UNZIP_FAILED);
    assertCodeUnchanged();
    assertBlobAbsent(zip);
    assertFalse(Files.exists(Path.of("/tmp/absolute.py")));
  }

  @Test
  void aSymlinkPointingOutOfThePackageIsRefused() throws Exception {
    Map<String, String> files = entries("app.py", "def handler(e, c):\n    return 1\n");
    byte[] plain = TestZips.zip(files, 0);
    files.put("passwd", "../../../../../../etc/passwd");
    byte[] zip = TestZips.withCentralField(TestZips.withCentralField(TestZips.zip(files, 0),
        "passwd", 4, 2, (3 << 8) | 20), "passwd", 38, 4, 0120777L << 16);
    assertTrue(plain.length < zip.length);

    LambdaException e = refusedCreate("hu-symlink", zip);

    assertError(e, 400, "InvalidParameterValueException", UNZIP_FAILED);
    assertNothingStored("hu-symlink", zip);
  }

  @Test
  void extractedCodeIsReadableByOtherUsersAndABootstrapStaysExecutable() throws Exception {
    SdkBytes zip = Examples.zipOf("provided/hello");
    String sha = lambda.createFunction(b -> b.functionName("hu-provided").runtime("provided.al2023")
        .handler("hello").role(Functions.ROLE).code(c -> c.zipFile(zip))).codeSha256();

    String output = Functions.body(Functions.invoke(lambda, "hu-provided", "{\"name\":\"Ada\"}"));

    assertTrue(output.contains("Ada"), output);
    Path dir = node.dataDir().resolve("code/extracted").resolve(HexFormat.of().formatHex(
        java.util.Base64.getDecoder().decode(sha)));
    assertEquals("rwxr-xr-x", permissions(dir));
    assertEquals("r-xr-xr-x", permissions(dir.resolve("bootstrap")));
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.toList()) {
        String mode = permissions(p);
        assertTrue(mode.charAt(6) == 'r' && mode.charAt(7) == '-', p + " is " + mode + ": readable, not writable, by others");
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static LambdaException refusedCreate(String name, byte[] zip) {
    return refused(() -> lambda.createFunction(b -> b.functionName(name).runtime("python3.12").handler("app.handler")
        .role(Functions.ROLE).code(c -> c.zipFile(SdkBytes.fromByteArray(zip)))));
  }

  private static void assertNothingStored(String function, byte[] zip) throws Exception {
    assertThrows(ResourceNotFoundException.class, () -> lambda.getFunction(b -> b.functionName(function)));
    List<String> listed = lambda.listFunctionsPaginator(b -> b.maxItems(50)).functions().stream()
        .map(FunctionConfiguration::functionName).toList();
    assertFalse(listed.contains(function), listed.toString());
    assertBlobAbsent(zip);
  }

  /** No blob of these bytes, and no extraction of anything left half done. */
  private static void assertBlobAbsent(byte[] zip) throws Exception {
    String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(zip));
    Path code = node.dataDir().resolve("code");
    assertFalse(Files.exists(code.resolve("blobs").resolve(hex + ".zip")), "no blob " + hex);
    assertFalse(Files.exists(code.resolve("extracted").resolve(hex)), "no extraction of " + hex);
    try (Stream<Path> all = Files.walk(code)) {
      List<Path> temporary = all.filter(p -> p.getFileName().toString().startsWith(".tmp-")).toList();
      assertEquals(List.of(), temporary, "nothing half written");
    }
  }

  private static void assertCodeUnchanged() {
    FunctionConfiguration now = lambda.getFunction(b -> b.functionName(EXISTING)).configuration();
    assertEquals(existing.codeSha256(), now.codeSha256());
    assertEquals(existing.revisionId(), now.revisionId());
  }

  private static void assertLayerAbsent(String layer) {
    assertTrue(lambda.listLayerVersions(b -> b.layerName(layer)).layerVersions().isEmpty(), layer + " has no version");
  }

  private static String permissions(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private static Map<String, String> entries(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }
}
