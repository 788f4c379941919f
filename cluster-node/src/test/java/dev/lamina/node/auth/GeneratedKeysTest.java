package dev.lamina.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.testing.NodeProcess;
import dev.lamina.node.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.LambdaException;

/**
 * {@code lamina serve} on the embedded profile without configured keys: the first start generates
 * a key pair into the credentials file (owner-only, AWS shared-credentials format) and prints it;
 * later starts on the same file keep it. What an operator sees, on a real {@code serve} process.
 */
class GeneratedKeysTest {

  private static final Pattern EXPORT = Pattern.compile(
      "export AWS_ACCESS_KEY_ID=(LKIA[A-Z2-7]{16}) AWS_SECRET_ACCESS_KEY=(\\S{40}) AWS_DEFAULT_REGION=us-east-1");

  @Test
  void theFirstStartGeneratesAndPrintsAKeyPairThatLaterStartsKeep() throws Exception {
    Path temp = Files.createTempDirectory("lamina-keys-");
    Path keys = temp.resolve("generated-credentials");
    Path config = Files.writeString(temp.resolve("node.conf"), "pekko.remote.artery.canonical.port = 0\n"
        + "lamina.auth.credentials-file = \"" + keys + "\"\n");
    Path data = temp.resolve("data");
    Path logs = temp.resolve("logs");
    try {
      String firstOut;
      AccessKey printed;
      try (NodeProcess first = NodeProcess.start(data, NodeProcess.freePort(), config, logs, "first")) {
        firstOut = awaitBanner(logs.resolve("first.out"));
        printed = exported(firstOut);

        try (LambdaClient withPrinted = TestNode.client(first.endpoint(), StaticCredentialsProvider.create(
                AwsBasicCredentials.create(printed.accessKeyId(), printed.secretAccessKey())));
            LambdaClient withFile = TestNode.client(first.endpoint(), ProfileCredentialsProvider.builder()
                .profileFile(ProfileFile.builder().content(keys).type(ProfileFile.Type.CREDENTIALS).build())
                .profileName("default").build());
            LambdaClient withTestKey = TestNode.client(first.endpoint())) {
          assertEquals(200, withPrinted.listFunctions().sdkHttpResponse().statusCode());
          assertEquals(200, withFile.listFunctions().sdkHttpResponse().statusCode());
          // The node generated its own key: the test key in the data directory is not one of its keys.
          LambdaException e = assertThrows(LambdaException.class, () -> withTestKey.listFunctions());
          assertEquals("UnrecognizedClientException", e.awsErrorDetails().errorCode());
        }
      }
      String secondOut;
      try (NodeProcess second = NodeProcess.start(data, NodeProcess.freePort(), config, logs, "second")) {
        secondOut = awaitBanner(logs.resolve("second.out"));
        try (LambdaClient withPrinted = TestNode.client(second.endpoint(), StaticCredentialsProvider.create(
            AwsBasicCredentials.create(printed.accessKeyId(), printed.secretAccessKey())))) {
          assertEquals(200, withPrinted.listFunctions().sdkHttpResponse().statusCode());
        }
      }

      assertTrue(firstOut.contains("credentials: a new key pair, saved in " + keys), firstOut);
      assertEquals(List.of(printed), CredentialsFile.read(keys));
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys)));
      assertTrue(secondOut.contains("credentials: from " + keys), secondOut);
      assertEquals(printed, exported(secondOut), "the second start keeps the first one's key");
    } finally {
      TestNode.deleteTree(temp);
    }
  }

  /** The node's start-up banner on stdout (printed just after /health first answers), bounded wait. */
  private static String awaitBanner(Path out) throws Exception {
    for (int i = 0; i < 100; i++) {
      String text = Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
      if (text.contains("Press Ctrl-C to stop.")) {
        return text;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no start-up banner in " + out);
  }

  private static AccessKey exported(String out) {
    Matcher m = EXPORT.matcher(out);
    assertTrue(m.find(), out);
    return new AccessKey(m.group(1), m.group(2));
  }
}
