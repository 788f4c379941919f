package dev.lamina.node.layers;

import static dev.lamina.node.testing.Functions.ROLE;
import static dev.lamina.node.testing.Refusals.assertError;
import static dev.lamina.node.testing.Refusals.refusedCreate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.TestNode;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.GetFunctionConfigurationResponse;
import software.amazon.awssdk.services.lambda.model.Layer;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Bad layer input is answered with Lambda's own error (status, error code, message) and changes
 * nothing: a refused CreateFunction creates no function, a refused UpdateFunctionConfiguration
 * keeps the function's layers and revision, a refused PublishLayerVersion numbers no version.
 */
@ExtendWith(NodePerClass.class)
class LayersBadInputTest {

  private static final String LAYER = "arn:aws:lambda:us-east-1:000000000000:layer:";
  private static final String UNZIP_FAILED =
      "Could not unzip uploaded file. Please check your file, then try to upload again.";

  static TestNode node;
  static LambdaClient lambda;

  /** Two published versions of one layer. */
  private static String v1;
  private static String v2;

  @BeforeAll
  static void publishFixtures() {
    v1 = publish(lambda, "lb-shared", "python/one.py", "VALUE = 1\n");
    v2 = publish(lambda, "lb-shared", "python/two.py", "VALUE = 2\n");
  }

  // ---- the layers a function refers to ----------------------------------------------------------

  @Test
  void moreThanFiveLayersIsRefusedBeforeLookingThemUp() {
    // Six well-formed ARNs of layers that do not exist: the count is checked first.
    List<String> six = IntStream.rangeClosed(1, 6).mapToObj(i -> LAYER + "lb-none-" + i + ":1").toList();

    LambdaException e = refusedCreate(lambda, "lb-six", b -> b.layers(six));

    assertError(e, 400, "InvalidParameterValueException", "Cannot reference more than 5 layers.");
    assertNotCreated("lb-six");
  }

  @Test
  void fiveLayersAreAllowed() {
    List<String> five = IntStream.rangeClosed(1, 5)
        .mapToObj(i -> publish(lambda, "lb-five-" + i, "python/five_" + i + ".py", "VALUE = " + i + "\n")).toList();

    List<String> layers = lambda.createFunction(b -> b.functionName("lb-five").runtime("python3.12")
        .handler("handler.handler").role(ROLE).code(c -> c.zipFile(Examples.zipOf("python/hello"))).layers(five))
        .layers().stream().map(Layer::arn).toList();

    assertEquals(five, layers);
  }

  @Test
  void aMalformedArnAmongMoreThanFiveLayersIsAValidationErrorFirst() {
    List<String> arns = IntStream.rangeClosed(1, 5).mapToObj(i -> LAYER + "lb-none-" + i + ":1")
        .collect(Collectors.toList());
    arns.add(LAYER + "lb-no-version");

    LambdaException e = refusedCreate(lambda, "lb-six-malformed", b -> b.layers(arns));

    assertError(e, 400, "ValidationException");
    assertTrue(e.awsErrorDetails().errorMessage().startsWith("1 validation error detected: Value '" + arns
        + "' at 'layers' failed to satisfy constraint: "), e.awsErrorDetails().errorMessage());
    assertNotCreated("lb-six-malformed");
  }

  @Test
  void twoVersionsOfTheSameLayerAreRefused() {
    LambdaException e = refusedCreate(lambda, "lb-same-layer", b -> b.layers(v1, v2));

    assertError(e, 400, "InvalidParameterValueException", "Two different versions of the same layer are not "
        + "allowed to be referenced in the same function. " + v1 + " and " + v2 + " are versions of the same layer.");
    assertNotCreated("lb-same-layer");
  }

  @Test
  void spellingTheSameLayerWithAnotherPartitionIsStillTheSameLayer() {
    String otherPartition = v1.replace("arn:aws:", "arn:aws-cn:");

    LambdaException e = refusedCreate(lambda, "lb-partition", b -> b.layers(v1, otherPartition));

    assertError(e, 400, "InvalidParameterValueException", "Two different versions of the same layer are not "
        + "allowed to be referenced in the same function. " + v1 + " and " + otherPartition
        + " are versions of the same layer.");
    assertNotCreated("lb-partition");
  }

  @Test
  void aLayerVersionThatDoesNotExistIsRefused() {
    String missingVersion = LAYER + "lb-shared:3";
    String missingLayer = LAYER + "lb-never-published:1";

    LambdaException version = refusedCreate(lambda, "lb-missing-version", b -> b.layers(missingVersion));
    LambdaException layer = refusedCreate(lambda, "lb-missing-layer", b -> b.layers(v1, missingLayer));

    assertError(version, 400, "InvalidParameterValueException", "Layer version " + missingVersion + " does not exist.");
    assertError(layer, 400, "InvalidParameterValueException", "Layer version " + missingLayer + " does not exist.");
    assertNotCreated("lb-missing-version");
    assertNotCreated("lb-missing-layer");
  }

  @Test
  void aDeletedLayerVersionCannotBeAddedToAFunction() {
    String deleted = publish(lambda, "lb-deleted", "python/gone.py", "VALUE = 0\n");
    lambda.deleteLayerVersion(b -> b.layerName("lb-deleted").versionNumber(1L));

    LambdaException e = refusedCreate(lambda, "lb-deleted-layer", b -> b.layers(deleted));

    assertError(e, 400, "InvalidParameterValueException", "Layer version " + deleted + " does not exist.");
    assertNotCreated("lb-deleted-layer");
  }

  @Test
  void aLayerArnWithoutAVersionIsAValidationError() {
    String arn = LAYER + "lb-shared";

    LambdaException e = refusedCreate(lambda, "lb-no-version", b -> b.layers(arn));

    assertError(e, 400, "ValidationException");
    assertTrue(e.awsErrorDetails().errorMessage().startsWith("1 validation error detected: Value '[" + arn
        + "]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must have length "
        + "less than or equal to 140, "), e.awsErrorDetails().errorMessage());
    assertNotCreated("lb-no-version");
  }

  @Test
  void aLayerInAnotherRegionIsRefused() {
    LambdaException e = refusedCreate(lambda, "lb-other-region",
        b -> b.layers("arn:aws:lambda:eu-west-1:000000000000:layer:x:1"));

    assertError(e, 400, "InvalidParameterValueException", "Layers are not in the same region as the function. "
        + "Layers are expected to be in region us-east-1.");
    assertNotCreated("lb-other-region");
  }

  @Test
  void aRefusedUpdateOfTheLayersLeavesTheFunctionUnchanged() {
    lambda.createFunction(b -> b.functionName("lb-update").runtime("python3.12").handler("handler.handler")
        .role(ROLE).code(c -> c.zipFile(Examples.zipOf("python/hello"))).layers(v1));
    GetFunctionConfigurationResponse before = lambda.getFunctionConfiguration(b -> b.functionName("lb-update"));

    LambdaException missing = assertThrows(LambdaException.class, () -> lambda.updateFunctionConfiguration(
        b -> b.functionName("lb-update").timeout(9).layers(LAYER + "lb-shared:99")));
    LambdaException same = assertThrows(LambdaException.class, () -> lambda.updateFunctionConfiguration(
        b -> b.functionName("lb-update").timeout(9).layers(v1, v2)));
    LambdaException malformed = assertThrows(LambdaException.class, () -> lambda.updateFunctionConfiguration(
        b -> b.functionName("lb-update").timeout(9).layers("not-an-arn")));

    assertError(missing, 400, "InvalidParameterValueException",
        "Layer version " + LAYER + "lb-shared:99 does not exist.");
    assertError(same, 400, "InvalidParameterValueException");
    assertError(malformed, 400, "ValidationException");
    GetFunctionConfigurationResponse after = lambda.getFunctionConfiguration(b -> b.functionName("lb-update"));
    assertEquals(before.layers(), after.layers());
    assertEquals(3, after.timeout(), "no part of a refused update is applied");
    assertEquals(before.revisionId(), after.revisionId());
  }

  @Test
  void codeAndLayersTogetherOverTheUnzippedLimitAreRefused() throws Exception {
    try (TestNode small = TestNode.start(Files.createTempDirectory("lamina-layer-limit-"), true,
        ConfigFactory.parseString("lamina.limits.unzipped-code-bytes = 2000000"))) {
      LambdaClient client = small.lambda();
      // Each layer alone fits the 2 MB limit; their content is highly compressible.
      String big1 = publish(client, "lb-big-1", "python/big1.txt", "1".repeat(1_200_000));
      String big2 = publish(client, "lb-big-2", "python/big2.txt", "2".repeat(1_200_000));
      String app = "def handler(event, context):\n    return 'ok'\n";
      SdkBytes code = SdkBytes.fromByteArray(Examples.zip(Map.of("app.py", app)));
      long total = app.length() + 2_400_000L;

      LambdaException create = assertThrows(LambdaException.class, () -> client.createFunction(b -> b
          .functionName("lb-too-big").runtime("python3.12").handler("app.handler").role(ROLE)
          .code(c -> c.zipFile(code)).layers(big1, big2)));
      client.createFunction(b -> b.functionName("lb-one-big").runtime("python3.12").handler("app.handler")
          .role(ROLE).code(c -> c.zipFile(code)).layers(big1));
      String revision = client.getFunctionConfiguration(b -> b.functionName("lb-one-big")).revisionId();
      LambdaException update = assertThrows(LambdaException.class, () -> client.updateFunctionConfiguration(b -> b
          .functionName("lb-one-big").layers(big1, big2)));
      String bigApp = app + "#" + "x".repeat(900_000) + "\n";
      LambdaException codeUpdate = assertThrows(LambdaException.class, () -> client.updateFunctionCode(b -> b
          .functionName("lb-one-big").zipFile(SdkBytes.fromByteArray(Examples.zip(Map.of("app.py", bigApp))))));

      String expected = "Function code combined with layers exceeds the maximum allowed size of 2000000 bytes. "
          + "The actual size is " + total + " bytes.";
      assertError(create, 400, "InvalidParameterValueException", expected);
      assertEquals(404, assertThrows(ResourceNotFoundException.class,
          () -> client.getFunction(b -> b.functionName("lb-too-big"))).statusCode());
      assertError(update, 400, "InvalidParameterValueException", expected);
      assertError(codeUpdate, 400, "InvalidParameterValueException", "Function code combined with layers exceeds "
          + "the maximum allowed size of 2000000 bytes. The actual size is " + (bigApp.length() + 1_200_000L)
          + " bytes.");
      GetFunctionConfigurationResponse after = client.getFunctionConfiguration(b -> b.functionName("lb-one-big"));
      assertEquals(List.of(big1), after.layers().stream().map(Layer::arn).toList());
      assertEquals(revision, after.revisionId());
    }
  }

  // ---- PublishLayerVersion -----------------------------------------------------------------------

  @Test
  void publishingContentThatIsNotAZipIsRefusedAndNumbersNoVersion() {
    LambdaException e = assertThrows(LambdaException.class, () -> lambda.publishLayerVersion(b -> b
        .layerName("lb-not-zip").content(c -> c.zipFile(SdkBytes.fromUtf8String("this is not a zip file")))));

    assertError(e, 400, "InvalidParameterValueException", UNZIP_FAILED);
    assertEquals(List.of(), lambda.listLayerVersions(b -> b.layerName("lb-not-zip")).layerVersions());
    assertEquals(LAYER + "lb-not-zip:1", publish(lambda, "lb-not-zip", "python/ok.py", "VALUE = 1\n"),
        "the refused upload used no version number");
  }

  @Test
  void publishingWithoutContentIsAValidationError() {
    LambdaException e = assertThrows(LambdaException.class, () -> lambda.publishLayerVersion(b -> b
        .layerName("lb-no-content").description("no content")));

    assertError(e, 400, "ValidationException", "1 validation error detected: Value null at 'content' failed to "
        + "satisfy constraint: Member must not be null");
    assertEquals(List.of(), lambda.listLayerVersions(b -> b.layerName("lb-no-content")).layerVersions());
  }

  @Test
  void publishingWithAnUnknownCompatibleRuntimeIsAValidationError() {
    LambdaException e = assertThrows(LambdaException.class, () -> lambda.publishLayerVersion(b -> b
        .layerName("lb-cobol").compatibleRuntimesWithStrings("cobol85")
        .content(c -> c.zipFile(Examples.zipOf("layers/python-greeting")))));

    assertError(e, 400, "ValidationException");
    assertTrue(e.awsErrorDetails().errorMessage().startsWith("1 validation error detected: Value '[cobol85]' at "
        + "'compatibleRuntimes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy "
        + "enum value set: "), e.awsErrorDetails().errorMessage());
    assertEquals(List.of(), lambda.listLayerVersions(b -> b.layerName("lb-cobol")).layerVersions());
  }

  // ---- version numbers and pages -----------------------------------------------------------------

  @Test
  void versionNumberZeroIsRefusedByGetAndDelete() {
    LambdaException get = assertThrows(LambdaException.class,
        () -> lambda.getLayerVersion(b -> b.layerName("lb-shared").versionNumber(0L)));
    LambdaException delete = assertThrows(LambdaException.class,
        () -> lambda.deleteLayerVersion(b -> b.layerName("lb-shared").versionNumber(0L)));

    assertError(get, 400, "InvalidParameterValueException", "Layer Version Cannot be less than 1");
    assertError(delete, 400, "InvalidParameterValueException", "Layer Version Cannot be less than 1");
  }

  @Test
  void maxItemsOutsideOneToFiftyIsAValidationError() {
    LambdaException layers = assertThrows(LambdaException.class, () -> lambda.listLayers(b -> b.maxItems(51)));
    LambdaException versions = assertThrows(LambdaException.class,
        () -> lambda.listLayerVersions(b -> b.layerName("lb-shared").maxItems(0)));

    assertError(layers, 400, "ValidationException", "1 validation error detected: Value '51' at 'maxItems' failed "
        + "to satisfy constraint: Member must have value less than or equal to 50");
    assertError(versions, 400, "ValidationException", "1 validation error detected: Value '0' at 'maxItems' failed "
        + "to satisfy constraint: Member must have value greater than or equal to 1");
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private static String publish(LambdaClient client, String layer, String file, String content) {
    return client.publishLayerVersion(b -> b.layerName(layer)
        .content(c -> c.zipFile(SdkBytes.fromByteArray(Examples.zip(Map.of(file, content))))))
        .layerVersionArn();
  }

  private static void assertNotCreated(String name) {
    ResourceNotFoundException e = assertThrows(ResourceNotFoundException.class,
        () -> lambda.getFunction(b -> b.functionName(name)));
    assertEquals(404, e.statusCode());
  }
}
