package dev.lamina.node.versions;

import static dev.lamina.node.testing.Functions.ROLE;
import static dev.lamina.node.testing.Functions.body;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateAliasResponse;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetAliasResponse;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/** A node restarted on the same data directory keeps every published version and alias. */
class VersionsRestartTest {

  private static final String ARN_PREFIX = "arn:aws:lambda:us-east-1:000000000000:function:";

  private Path dataDir;

  @AfterEach
  void removeData() {
    TestNode.deleteTree(dataDir);
  }

  @Test
  void versionsAndAliasesSurviveANodeRestart() throws Exception {
    dataDir = Files.createTempDirectory("lamina-versions-restart-");
    CreateAliasResponse alias;
    String version1Sha;
    try (TestNode first = TestNode.startOn(dataDir)) {
      LambdaClient lambda = first.lambda();
      lambda.createFunction(b -> b.functionName("kept").runtime("python3.11").handler("app.handler").role(ROLE)
          .code(c -> c.zipFile(Examples.marked("v1"))));
      version1Sha = lambda.publishVersion(b -> b.functionName("kept")).codeSha256();
      lambda.updateFunctionCode(b -> b.functionName("kept").zipFile(Examples.marked("v2")));
      assertEquals("2", lambda.publishVersion(b -> b.functionName("kept")).version());
      alias = lambda.createAlias(b -> b.functionName("kept").name("live").functionVersion("1")
          .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.25))));
      assertEquals("1", invoke(lambda, "1").executedVersion());
    }

    try (TestNode second = TestNode.startOn(dataDir)) {
      LambdaClient lambda = second.lambda();
      List<FunctionConfiguration> versions = lambda.listVersionsByFunction(b -> b.functionName("kept")).versions();
      assertEquals(List.of("$LATEST", "1", "2"), versions.stream().map(FunctionConfiguration::version).toList());
      assertEquals(version1Sha, versions.get(1).codeSha256());

      GetAliasResponse kept = lambda.getAlias(b -> b.functionName("kept").name("live"));
      assertEquals(alias.aliasArn(), kept.aliasArn());
      assertEquals("1", kept.functionVersion());
      assertEquals(Map.of("2", 0.25), kept.routingConfig().additionalVersionWeights());
      assertEquals(alias.revisionId(), kept.revisionId(), "the same alias revision, not a re-created alias");

      InvokeResponse version1 = invoke(lambda, "1");
      assertEquals("1", version1.executedVersion());
      assertTrue(body(version1).contains("\"v1\""), body(version1));
      for (int i = 0; i < 10; i++) {
        InvokeResponse viaAlias = invoke(lambda, "live");
        assertNull(viaAlias.functionError(), body(viaAlias));
        assertTrue(viaAlias.executedVersion().equals("1") || viaAlias.executedVersion().equals("2"),
            viaAlias.executedVersion());
        assertTrue(body(viaAlias).contains("\"v" + viaAlias.executedVersion() + "\""), body(viaAlias));
        assertTrue(body(viaAlias).contains(ARN_PREFIX + "kept:live"), body(viaAlias));
      }

      assertEquals("2", lambda.publishVersion(b -> b.functionName("kept")).version(),
          "nothing changed since version 2, even across the restart");
      lambda.updateFunctionCode(b -> b.functionName("kept").zipFile(Examples.marked("v3")));
      assertEquals("3", lambda.publishVersion(b -> b.functionName("kept")).version());
    }
  }

  private static InvokeResponse invoke(LambdaClient lambda, String qualifier) {
    return lambda.invoke(b -> b.functionName("kept").qualifier(qualifier).payload(SdkBytes.fromUtf8String("{}")));
  }
}
