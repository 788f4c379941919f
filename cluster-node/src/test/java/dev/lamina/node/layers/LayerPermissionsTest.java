package dev.lamina.node.layers;

import static dev.lamina.node.testing.Refusals.assertError;
import static dev.lamina.node.testing.Refusals.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.TestNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.AddLayerVersionPermissionResponse;
import software.amazon.awssdk.services.lambda.model.GetLayerVersionPolicyResponse;
import software.amazon.awssdk.services.lambda.model.LambdaException;

/**
 * Add/Get/RemoveLayerVersionPermission: the statements of a layer version's policy as Lambda
 * shows them (a node serves one account, so they are kept, not enforced).
 */
@ExtendWith(NodePerClass.class)
class LayerPermissionsTest {

  private static final String LAYER_ARN_PREFIX = "arn:aws:lambda:us-east-1:000000000000:layer:";
  private static final ObjectMapper JSON = new ObjectMapper();

  static TestNode node;
  static LambdaClient lambda;

  @Test
  void addingAPermissionAnswers201WithTheStatementAndARevision() throws Exception {
    publish("lp-add");

    AddLayerVersionPermissionResponse added = lambda.addLayerVersionPermission(b -> b.layerName("lp-add")
        .versionNumber(1L).statementId("everyone").action("lambda:GetLayerVersion").principal("*"));

    assertEquals(201, added.sdkHttpResponse().statusCode());
    assertEquals(JSON.readTree("{\"Sid\":\"everyone\",\"Effect\":\"Allow\",\"Principal\":\"*\","
        + "\"Action\":\"lambda:GetLayerVersion\",\"Resource\":\"" + LAYER_ARN_PREFIX + "lp-add:1\"}"),
        JSON.readTree(added.statement()));
    assertEquals(36, added.revisionId().length(), added.revisionId());
  }

  @Test
  void thePolicyListsEveryStatementWithAccountsAndOrganizationsInIamForm() throws Exception {
    publish("lp-policy");
    lambda.addLayerVersionPermission(b -> b.layerName("lp-policy").versionNumber(1L).statementId("account")
        .action("lambda:GetLayerVersion").principal("210987654321"));
    String revision = lambda.addLayerVersionPermission(b -> b.layerName("lp-policy").versionNumber(1L)
        .statementId("org").action("lambda:GetLayerVersion").principal("*").organizationId("o-t194hfs8cz"))
        .revisionId();

    GetLayerVersionPolicyResponse policy = lambda.getLayerVersionPolicy(b -> b.layerName("lp-policy")
        .versionNumber(1L));

    JsonNode document = JSON.readTree(policy.policy());
    String resource = LAYER_ARN_PREFIX + "lp-policy:1";
    assertEquals("2012-10-17", document.get("Version").asText());
    assertEquals(JSON.readTree("[{\"Sid\":\"account\",\"Effect\":\"Allow\","
        + "\"Principal\":{\"AWS\":\"arn:aws:iam::210987654321:root\"},\"Action\":\"lambda:GetLayerVersion\","
        + "\"Resource\":\"" + resource + "\"},"
        + "{\"Sid\":\"org\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:GetLayerVersion\","
        + "\"Resource\":\"" + resource + "\",\"Condition\":{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-t194hfs8cz\"}}}]"),
        document.get("Statement"));
    assertEquals(revision, policy.revisionId());
  }

  @Test
  void removingAStatementAnswers204AndTheLastOneLeavesNoPolicy() {
    publish("lp-remove");
    lambda.addLayerVersionPermission(b -> b.layerName("lp-remove").versionNumber(1L).statementId("one")
        .action("lambda:GetLayerVersion").principal("*"));

    int status = lambda.removeLayerVersionPermission(b -> b.layerName("lp-remove").versionNumber(1L)
        .statementId("one")).sdkHttpResponse().statusCode();
    LambdaException gone = refused(() -> lambda.getLayerVersionPolicy(b -> b.layerName("lp-remove")
        .versionNumber(1L)));
    LambdaException again = refused(() -> lambda.removeLayerVersionPermission(b -> b.layerName("lp-remove")
        .versionNumber(1L).statementId("one")));

    assertEquals(204, status);
    assertError(gone, 404, "ResourceNotFoundException", "No policy is associated with the given resource.");
    assertError(again, 404, "ResourceNotFoundException", "Statement one is not found in resource policy.");
  }

  @Test
  void aStatementIdCanBeUsedOnlyOncePerVersion() {
    publish("lp-twice");
    lambda.addLayerVersionPermission(b -> b.layerName("lp-twice").versionNumber(1L).statementId("same")
        .action("lambda:GetLayerVersion").principal("*"));

    LambdaException e = refused(() -> lambda.addLayerVersionPermission(b -> b.layerName("lp-twice")
        .versionNumber(1L).statementId("same").action("lambda:GetLayerVersion").principal("123456789012")));

    assertError(e, 409, "ResourceConflictException", "The statement id (same) provided already exists. Please "
        + "provide a new statement id, or remove the existing statement.");
  }

  @Test
  void aStaleRevisionIdIsRefusedAndTheCurrentOneAccepted() {
    publish("lp-revision");
    String first = lambda.addLayerVersionPermission(b -> b.layerName("lp-revision").versionNumber(1L)
        .statementId("a").action("lambda:GetLayerVersion").principal("*")).revisionId();
    String second = lambda.addLayerVersionPermission(b -> b.layerName("lp-revision").versionNumber(1L)
        .statementId("b").action("lambda:GetLayerVersion").principal("*").revisionId(first)).revisionId();

    LambdaException stale = refused(() -> lambda.removeLayerVersionPermission(b -> b.layerName("lp-revision")
        .versionNumber(1L).statementId("a").revisionId(first)));

    assertNotEquals(first, second);
    assertError(stale, 412, "PreconditionFailedException", "The Revision Id provided does not match the latest "
        + "Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id");
    assertEquals(second, lambda.getLayerVersionPolicy(b -> b.layerName("lp-revision").versionNumber(1L))
        .revisionId(), "nothing changed");
  }

  @Test
  void permissionsOfAMissingOrDeletedVersionAreNotFound() {
    publish("lp-missing");
    lambda.addLayerVersionPermission(b -> b.layerName("lp-missing").versionNumber(1L).statementId("a")
        .action("lambda:GetLayerVersion").principal("*"));
    lambda.deleteLayerVersion(b -> b.layerName("lp-missing").versionNumber(1L));

    LambdaException add = refused(() -> lambda.addLayerVersionPermission(b -> b.layerName("lp-missing")
        .versionNumber(1L).statementId("b").action("lambda:GetLayerVersion").principal("*")));
    LambdaException get = refused(() -> lambda.getLayerVersionPolicy(b -> b.layerName("lp-missing")
        .versionNumber(1L)));

    assertError(add, 404, "ResourceNotFoundException", "Layer version " + LAYER_ARN_PREFIX
        + "lp-missing:1 does not exist.");
    assertError(get, 404, "ResourceNotFoundException", "Layer version " + LAYER_ARN_PREFIX
        + "lp-missing:1 does not exist.");
  }

  @Test
  void onlyTheGetLayerVersionActionAndWellFormedPrincipalsAreAccepted() {
    publish("lp-invalid");

    LambdaException action = refused(() -> lambda.addLayerVersionPermission(b -> b.layerName("lp-invalid")
        .versionNumber(1L).statementId("a").action("lambda:InvokeFunction").principal("*")));
    LambdaException principal = refused(() -> lambda.addLayerVersionPermission(b -> b.layerName("lp-invalid")
        .versionNumber(1L).statementId("a").action("lambda:GetLayerVersion").principal("someone")));

    assertError(action, 400, "ValidationException", "1 validation error detected: Value 'lambda:InvokeFunction' at "
        + "'action' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        + "lambda:GetLayerVersion");
    assertError(principal, 400, "ValidationException", "1 validation error detected: Value 'someone' at "
        + "'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        + "\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root");
    assertError(refused(() -> lambda.getLayerVersionPolicy(b -> b.layerName("lp-invalid").versionNumber(1L))),
        404, "ResourceNotFoundException", "No policy is associated with the given resource.");
  }

  private static void publish(String layer) {
    lambda.publishLayerVersion(b -> b.layerName(layer)
        .content(c -> c.zipFile(Examples.zipOf("layers/python-greeting"))));
  }
}
