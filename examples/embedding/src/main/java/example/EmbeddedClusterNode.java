package example;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.lamina.actors.LambdaError;
import dev.lamina.actors.function.InvocationResult;
import dev.lamina.node.LaminaNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * An application that hosts a Lamina node in its own JVM. With a seed ({@code host:port} of a
 * running node's cluster port, e.g. one of {@code ./lamina cluster up 3}) it joins that cluster;
 * without one it forms a new cluster. Either way it keeps its state in the Cassandra at
 * {@code LAMINA_CASSANDRA} (default 127.0.0.1:9142), deploys a small python function through the
 * embedding API (no HTTP), invokes it, and serves the Lambda API on port 9010 until Ctrl-C. Its API
 * accepts the access keys of the credentials file at {@code LAMINA_CREDENTIALS_FILE} (default
 * {@code .lamina-cluster/credentials}, the local cluster's: every node of a cluster shares them).
 *
 * <pre>
 *   ./lamina cluster up 3
 *   mvn -q -pl examples/embedding -am install -DskipTests
 *   java -cp "examples/embedding/target/classes:$(cat cluster-node/target/node.classpath):cluster-node/target/lamina-cluster-node-0.1.0-SNAPSHOT.jar" \
 *       example.EmbeddedClusterNode 127.0.0.1:25521
 * </pre>
 */
public final class EmbeddedClusterNode {

  private static final ObjectMapper JSON = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    List<String> seeds = args.length > 0 ? List.of(args[0]) : List.of();
    String cassandra = System.getenv().getOrDefault("LAMINA_CASSANDRA", "127.0.0.1:9142");
    String credentials = Path.of(System.getenv().getOrDefault("LAMINA_CREDENTIALS_FILE", ".lamina-cluster/credentials"))
        .toAbsolutePath().toString();
    Config config = ConfigFactory.parseString("""
            lamina.profile = cluster
            lamina.data-dir = "lamina-embedded-data"
            lamina.http.port = 9010
            lamina.cluster.port = 25530
            """)
        .withValue("lamina.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds))
        .withValue("lamina.cassandra.contact-points", ConfigValueFactory.fromIterable(List.of(cassandra)))
        .withValue("lamina.auth.credentials-file", ConfigValueFactory.fromAnyRef(credentials));
    try (LaminaNode node = LaminaNode.start(config)) {
      System.out.println("joined as " + node.clusterAddress() + "; Lambda API on " + node.endpoint());
      try {
        node.deploy(createFunction());
      } catch (LambdaError e) {
        if (e.code() != LambdaError.Code.ResourceConflictException) {
          throw e;
        }
        System.out.println("embedded-hello exists already (deployed by an earlier run or through another node)");
      }
      InvocationResult result = node.invoke("embedded-hello", "{\"from\":\"the embedding JVM\"}");
      System.out.println("invoked: " + result.payload().utf8String());
      if (args.length > 1 && args[1].equals("--once")) {
        return;
      }
      System.out.println("serving until Ctrl-C");
      Thread.currentThread().join();
    }
  }

  /** A CreateFunction request body with a python handler zipped in memory. */
  private static ObjectNode createFunction() throws IOException {
    ByteArrayOutputStream zip = new ByteArrayOutputStream();
    try (ZipOutputStream out = new ZipOutputStream(zip)) {
      out.putNextEntry(new ZipEntry("app.py"));
      out.write("""
          def handler(event, context):
              return {"hello": event.get("from"), "request": context.aws_request_id}
          """.getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }
    ObjectNode body = JSON.createObjectNode();
    body.put("FunctionName", "embedded-hello");
    body.put("Runtime", "python3.12");
    body.put("Handler", "app.handler");
    body.put("Role", "arn:aws:iam::000000000000:role/lamina");
    body.putObject("Code").put("ZipFile", Base64.getEncoder().encodeToString(zip.toByteArray()));
    return body;
  }
}
