package dev.lamina.node.layers;

import static dev.lamina.node.testing.Functions.ROLE;
import static dev.lamina.node.testing.Functions.body;
import static dev.lamina.node.testing.Functions.invoke;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.services.lambda.runtime.Context;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.NodePerClass;
import dev.lamina.node.testing.TestNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * Functions using layers, run in real sandboxes: the layers are extracted in order into a
 * read-only {@code /opt}, later ones winning, and each runtime finds what Lambda's finds there
 * (Python modules, Node packages, executables, shared libraries, Java jars, a custom runtime's
 * bootstrap).
 */
@ExtendWith(NodePerClass.class)
class LayeredFunctionsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A function that reports what it sees: {@code read} paths (content or null), {@code write} a
   * path, {@code import} a module, {@code run} a command, {@code load} a shared library by name,
   * {@code env} variables; and always its {@code sys.path} and Python minor version.
   */
  private static final String PROBE = """
      import ctypes, importlib, os, subprocess, sys

      def handler(event, context):
          out = {"sysPath": sys.path, "pythonMinor": sys.version_info.minor}
          out["files"] = {p: (open(p).read() if os.path.isfile(p) else None) for p in event.get("read", [])}
          if "write" in event:
              try:
                  with open(event["write"], "w") as f:
                      f.write("written by the function")
                  out["write"] = "ok"
              except OSError as e:
                  out["write"] = type(e).__name__ + ": " + str(e)
          if "import" in event:
              try:
                  m = importlib.import_module(event["import"])
                  out["imported"] = {"file": m.__file__, "value": getattr(m, "VALUE", None)}
              except ImportError as e:
                  out["imported"] = {"error": str(e)}
          if "run" in event:
              r = subprocess.run(event["run"], capture_output=True, text=True)
              out["run"] = {"code": r.returncode, "stdout": r.stdout, "stderr": r.stderr}
          if "load" in event:
              lib = ctypes.CDLL(event["load"])
              lib.zlibVersion.restype = ctypes.c_char_p
              with open("/proc/self/maps") as maps:
                  mapped = sorted({line.split()[-1] for line in maps if event["load"] in line})
              out["load"] = {"zlibVersion": lib.zlibVersion().decode(), "mapped": mapped}
          out["env"] = {k: os.environ.get(k) for k in event.get("env", [])}
          return out
      """;

  static TestNode node;
  static LambdaClient lambda;

  // ---- the two functions ---------------------------------------------------------------

  @Test
  void pythonFunctionImportsAModuleThatOnlyALayerProvides() throws Exception {
    String layer = publish("lf-py-greeting", Examples.zipOf("layers/python-greeting"));
    createLayered("lf-py", "python3.12", "app.handler", Examples.zipOf("python/layered"), layer);
    createLayered("lf-py-without", "python3.12", "app.handler", Examples.zipOf("python/layered"));

    InvokeResponse with = invoke(lambda, "lf-py", "{\"name\":\"Ada\"}");
    InvokeResponse without = invoke(lambda, "lf-py-without", "{\"name\":\"Ada\"}");

    assertEquals(200, with.statusCode());
    assertNull(with.functionError(), body(with));
    JsonNode result = JSON.readTree(body(with));
    assertEquals("Hello, Ada, from the python-greeting layer!", result.get("message").asText());
    assertEquals("python-greeting layer", result.get("source").asText());
    assertEquals("/opt/python/greeting.py", result.get("module").asText());
    assertEquals("Unhandled", without.functionError(), "the function's own package has no greeting module");
    assertEquals("Runtime.ImportModuleError", JSON.readTree(body(without)).get("errorType").asText(), body(without));
  }

  @Test
  void nodeFunctionRequiresAPackageThatOnlyALayerProvides() throws Exception {
    String layer = publish("lf-node-greeting", Examples.zipOf("layers/node-greeting"));
    createLayered("lf-node", "nodejs20.x", "index.handler", Examples.zipOf("node/layered"), layer);
    createLayered("lf-node-without", "nodejs20.x", "index.handler", Examples.zipOf("node/layered"));

    InvokeResponse with = invoke(lambda, "lf-node", "{\"name\":\"Ada\"}");
    InvokeResponse without = invoke(lambda, "lf-node-without", "{\"name\":\"Ada\"}");

    assertEquals(200, with.statusCode());
    assertNull(with.functionError(), body(with));
    JsonNode result = JSON.readTree(body(with));
    assertEquals("Hello, Ada, from the node-greeting layer!", result.get("message").asText());
    assertEquals("node-greeting layer", result.get("source").asText());
    assertEquals("/opt/nodejs/node_modules/greeting/index.js", result.get("module").asText());
    assertEquals("Unhandled", without.functionError(), "the function's own package has no greeting package");
    assertTrue(body(without).contains("greeting"), body(without));
  }

  @Test
  void nodeAlsoFindsPackagesInTheNodeMajorVersionDirectory() throws Exception {
    String layer = publish("lf-node20-dir", textZip(Map.of("nodejs/node20/node_modules/greeting/index.js",
        "exports.source = 'node20 directory';\nexports.greet = (name) => `Hi ${name} from node20`;\n")));
    createLayered("lf-node20", "nodejs20.x", "index.handler", Examples.zipOf("node/layered"), layer);

    InvokeResponse response = invoke(lambda, "lf-node20", "{\"name\":\"Ada\"}");

    assertNull(response.functionError(), body(response));
    JsonNode result = JSON.readTree(body(response));
    assertEquals("Hi Ada from node20", result.get("message").asText());
    assertEquals("/opt/nodejs/node20/node_modules/greeting/index.js", result.get("module").asText());
  }

  // ---- /opt: order, read-only, search paths ----------------------------------------------------

  @Test
  void laterLayersOverrideEarlierOnesForTheSameFile() throws Exception {
    String a = publish("lf-order-a", textZip(Map.of("python/shared.py", "VALUE = 'from a'\n",
        "python/only_a.py", "VALUE = 'a'\n")));
    String b = publish("lf-order-b", textZip(Map.of("python/shared.py", "VALUE = 'from b'\n",
        "python/only_b.py", "VALUE = 'b'\n")));
    createLayered("lf-order-ab", "python3.12", "probe.handler", probe(), a, b);
    createLayered("lf-order-ba", "python3.12", "probe.handler", probe(), b, a);
    String read = "{\"read\":[\"/opt/python/shared.py\",\"/opt/python/only_a.py\",\"/opt/python/only_b.py\"]}";

    JsonNode ab = probe("lf-order-ab", read).get("files");
    JsonNode ba = probe("lf-order-ba", read).get("files");

    assertEquals("VALUE = 'from b'\n", ab.get("/opt/python/shared.py").asText(), "the later layer b wins");
    assertEquals("VALUE = 'from a'\n", ba.get("/opt/python/shared.py").asText(), "the later layer a wins");
    for (JsonNode files : List.of(ab, ba)) {
      assertEquals("VALUE = 'a'\n", files.get("/opt/python/only_a.py").asText(), "both layers are there: " + files);
      assertEquals("VALUE = 'b'\n", files.get("/opt/python/only_b.py").asText(), "both layers are there: " + files);
    }
  }

  @Test
  void aLaterLayerWinsEvenWhereAnEarlierOneHasAFileInPlaceOfItsDirectory() throws Exception {
    String file = publish("lf-clash-file", textZip(Map.of("python/clash", "an earlier layer's plain file\n")));
    String pkg = publish("lf-clash-package", textZip(Map.of("python/clash/__init__.py", "VALUE = 'package'\n")));
    createLayered("lf-clash", "python3.12", "probe.handler", probe(), file, pkg);

    JsonNode seen = probe("lf-clash", "{\"import\":\"clash\"}");

    assertEquals("/opt/python/clash/__init__.py", seen.get("imported").path("file").asText(), seen.toString());
    assertEquals("package", seen.get("imported").path("value").asText());
  }

  @Test
  void optIsReadOnlyForTheFunction() throws Exception {
    String layer = publish("lf-readonly", Examples.zipOf("layers/python-greeting"));
    createLayered("lf-readonly", "python3.12", "probe.handler", probe(), layer);

    JsonNode newFile = probe("lf-readonly", "{\"write\":\"/opt/python/added.py\"}");
    JsonNode existing = probe("lf-readonly", "{\"write\":\"/opt/python/greeting.py\","
        + "\"read\":[\"/opt/python/added.py\",\"/opt/python/greeting.py\"]}");

    assertTrue(newFile.get("write").asText().startsWith("OSError: [Errno 30] Read-only file system")
        || newFile.get("write").asText().startsWith("PermissionError"), newFile.get("write").asText());
    assertFalse(existing.get("write").asText().equals("ok"), existing.get("write").asText());
    assertTrue(existing.get("files").get("/opt/python/added.py").isNull(), "nothing was written");
    assertTrue(existing.get("files").get("/opt/python/greeting.py").asText().contains("def greet(name)"),
        "the layer's file is unchanged");
  }

  @Test
  void pythonFindsLayerSitePackagesBeforeOptPython() throws Exception {
    // A layer built the documented way (python/lib/python3.12/site-packages) that also ships a
    // module of the same name directly under python/: site-packages wins, as on Lambda.
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("python/lib/python3.12/site-packages/sitemod.py", "VALUE = 'site-packages'\n");
    entries.put("python/sitemod.py", "VALUE = 'opt-python'\n");
    String layer = publish("lf-site-packages", textZip(entries));
    createLayered("lf-site-packages", "python3.12", "probe.handler", probe(), layer);

    JsonNode seen = probe("lf-site-packages", "{\"import\":\"sitemod\"}");

    String sitePackages = "/opt/python/lib/python3.12/site-packages";
    assertEquals(sitePackages + "/sitemod.py", seen.get("imported").get("file").asText(), seen.toString());
    assertEquals("site-packages", seen.get("imported").get("value").asText());
    List<String> sysPath = new ArrayList<>();
    seen.get("sysPath").forEach(p -> sysPath.add(p.asText()));
    assertTrue(sysPath.indexOf(sitePackages) < sysPath.indexOf("/opt/python"), sysPath.toString());
  }

  @Test
  void pythonFindsSitePackagesBuiltForTheFunctionsRuntime() throws Exception {
    // What `pip install -t python/lib/python3.12/site-packages` gives a python3.12 user.
    String layer = publish("lf-site-312", textZip(Map.of("python/lib/python3.12/site-packages/sitemod312.py",
        "VALUE = 'for python3.12'\n")));
    createLayered("lf-site-312", "python3.12", "probe.handler", probe(), layer);

    JsonNode seen = probe("lf-site-312", "{\"import\":\"sitemod312\"}");

    assertEquals("/opt/python/lib/python3.12/site-packages/sitemod312.py", seen.get("imported").path("file").asText(),
        seen.toString());
  }

  @Test
  void executablesInOptBinAreOnThePath() throws Exception {
    byte[] zip = Examples.withUnixModes(
        Examples.zip(Map.of("bin/layer-tool", "#!/bin/sh\necho \"layer tool at $0\"\n")), name -> 0100755);
    String layer = publish("lf-bin", SdkBytes.fromByteArray(zip));
    createLayered("lf-bin", "python3.12", "probe.handler", probe(), layer);

    JsonNode seen = probe("lf-bin", "{\"run\":[\"layer-tool\"],\"env\":[\"PATH\"]}");

    assertEquals(0, seen.get("run").get("code").asInt(), seen.toString());
    assertEquals("layer tool at /opt/bin/layer-tool\n", seen.get("run").get("stdout").asText());
    assertTrue(seen.get("env").get("PATH").asText().endsWith(":/opt/bin"), seen.get("env").toString());
  }

  @Test
  void sharedLibrariesInOptLibAreFoundThroughTheLibraryPath() throws Exception {
    Path libz = Path.of("/usr/lib/x86_64-linux-gnu/libz.so.1");
    Assumptions.assumeTrue(Files.isReadable(libz), "needs a zlib shared library to ship in a layer");
    String layer = publish("lf-lib",
        SdkBytes.fromByteArray(zip(Map.of("lib/liblaminaz.so", Files.readAllBytes(libz)))));
    createLayered("lf-lib", "python3.12", "probe.handler", probe(), layer);

    JsonNode seen = probe("lf-lib", "{\"load\":\"liblaminaz.so\",\"env\":[\"LD_LIBRARY_PATH\"]}");

    assertEquals("[\"/opt/lib/liblaminaz.so\"]", seen.get("load").get("mapped").toString(), seen.toString());
    assertTrue(seen.get("load").get("zlibVersion").asText().matches("\\d+\\.\\d+.*"), seen.toString());
    assertTrue(seen.get("env").get("LD_LIBRARY_PATH").asText().endsWith(":/opt/lib"), seen.get("env").toString());
  }

  @Test
  void javaHandlerUsesAClassFromAJarInALayer() throws Exception {
    JavaPackages packages = compileJavaLayerAndHandler();
    String layer = publish("lf-java-jar", SdkBytes.fromByteArray(packages.layer()));
    lambda.createFunction(b -> b.functionName("lf-java").runtime("java17").handler("layered.Handler::handleRequest")
        .role(ROLE).memorySize(512).timeout(30).layers(layer)
        .code(c -> c.zipFile(SdkBytes.fromByteArray(packages.function()))));

    InvokeResponse response = invoke(lambda, "lf-java", "{\"name\":\"Ada\"}");

    assertNull(response.functionError(), body(response));
    JsonNode result = JSON.readTree(body(response));
    assertEquals("Hello, Ada, from a jar in a layer!", result.get("message").asText());
    assertTrue(result.get("jar").asText().endsWith("/opt/java/lib/greeter.jar"), result.toString());
  }

  @Test
  void customRuntimeTakesItsBootstrapFromALayer() throws Exception {
    String layer = publish("lf-bootstrap", Examples.zipOf("provided/hello"));
    createLayered("lf-provided", "provided.al2023", "function.handler",
        SdkBytes.fromByteArray(Examples.zip(Map.of("README", "the bootstrap comes from a layer\n"))), layer);

    InvokeResponse response = invoke(lambda, "lf-provided", "{\"n\":1}");

    assertNull(response.functionError(), body(response));
    JsonNode result = JSON.readTree(body(response));
    assertEquals("bash", result.get("runtime").asText(), body(response));
    assertEquals("function.handler", result.get("handler").asText());
    assertEquals(1, result.get("event").get("n").asInt());
  }

  // ---- layers over a function's life -----------------------------------------------------------

  @Test
  void aDeletedLayerVersionKeepsWorkingForAFunctionThatUsesIt() throws Exception {
    String layer = publish("lf-deleted", Examples.zipOf("layers/python-greeting"));
    createLayered("lf-deleted", "python3.12", "app.handler", Examples.zipOf("python/layered"), layer);
    assertNull(invoke(lambda, "lf-deleted", "{}").functionError());
    lambda.deleteLayerVersion(b -> b.layerName("lf-deleted").versionNumber(1L));

    // A configuration change: the next invocation starts a new sandbox, which extracts /opt again.
    lambda.updateFunctionConfiguration(b -> b.functionName("lf-deleted")
        .environment(e -> e.variables(Map.of("AFTER_DELETE", "yes"))));
    InvokeResponse after = invoke(lambda, "lf-deleted", "{\"name\":\"Bob\"}");

    assertNull(after.functionError(), body(after));
    assertEquals("Hello, Bob, from the python-greeting layer!", JSON.readTree(body(after)).get("message").asText());
    assertEquals(List.of(layer), lambda.getFunctionConfiguration(b -> b.functionName("lf-deleted")).layers().stream()
        .map(software.amazon.awssdk.services.lambda.model.Layer::arn).toList());
  }

  @Test
  void theNextInvocationSeesTheLayersOfTheUpdatedConfiguration() throws Exception {
    String a = publish("lf-update-a", textZip(Map.of("python/which.py", "VALUE = 'a'\n")));
    String b = publish("lf-update-b", textZip(Map.of("python/which.py", "VALUE = 'b'\n",
        "python/only_b.py", "VALUE = 'b'\n")));
    createLayered("lf-update", "python3.12", "probe.handler", probe(), a);
    String read = "{\"read\":[\"/opt/python/which.py\",\"/opt/python/only_b.py\"]}";
    JsonNode before = probe("lf-update", read).get("files");

    lambda.updateFunctionConfiguration(u -> u.functionName("lf-update").layers(b));
    JsonNode replaced = probe("lf-update", read).get("files");
    lambda.updateFunctionConfiguration(u -> u.functionName("lf-update").layers(List.of()));
    JsonNode removed = probe("lf-update", read).get("files");

    assertEquals("VALUE = 'a'\n", before.get("/opt/python/which.py").asText());
    assertTrue(before.get("/opt/python/only_b.py").isNull(), before.toString());
    assertEquals("VALUE = 'b'\n", replaced.get("/opt/python/which.py").asText());
    assertEquals("VALUE = 'b'\n", replaced.get("/opt/python/only_b.py").asText());
    assertTrue(removed.get("/opt/python/which.py").isNull(), "no layers, nothing in /opt: " + removed);
    assertTrue(removed.get("/opt/python/only_b.py").isNull(), removed.toString());
  }

  @Test
  void aPublishedVersionKeepsTheLayersItWasPublishedWith() throws Exception {
    String a = publish("lf-version-a", textZip(Map.of("python/which.py", "VALUE = 'a'\n")));
    String b = publish("lf-version-b", textZip(Map.of("python/which.py", "VALUE = 'b'\n")));
    createLayered("lf-version", "python3.12", "probe.handler", probe(), a);
    String version = lambda.publishVersion(p -> p.functionName("lf-version")).version();

    lambda.updateFunctionConfiguration(u -> u.functionName("lf-version").layers(b));
    InvokeResponse published = lambda.invoke(i -> i.functionName("lf-version").qualifier(version)
        .payload(SdkBytes.fromUtf8String("{\"read\":[\"/opt/python/which.py\"]}")));
    JsonNode latest = probe("lf-version", "{\"read\":[\"/opt/python/which.py\"]}");

    assertNull(published.functionError(), body(published));
    assertEquals("VALUE = 'a'\n", JSON.readTree(body(published)).get("files").get("/opt/python/which.py").asText());
    assertEquals("VALUE = 'b'\n", latest.get("files").get("/opt/python/which.py").asText());
  }

  @Test
  void layersAndLayeredFunctionsSurviveANodeRestart() throws Exception {
    Path dataDir = Files.createTempDirectory("lamina-layers-restart-");
    try {
      String layer;
      try (TestNode first = TestNode.startOn(dataDir)) {
        layer = first.lambda().publishLayerVersion(b -> b.layerName("lf-restart")
            .content(c -> c.zipFile(Examples.zipOf("layers/python-greeting")))).layerVersionArn();
        first.lambda().createFunction(b -> b.functionName("lf-restart").runtime("python3.12").handler("app.handler")
            .role(ROLE).layers(layer).code(c -> c.zipFile(Examples.zipOf("python/layered"))));
      }

      try (TestNode second = TestNode.startOn(dataDir)) {
        InvokeResponse response = invoke(second.lambda(), "lf-restart", "{\"name\":\"Ada\"}");
        long next = second.lambda().publishLayerVersion(b -> b.layerName("lf-restart")
            .content(c -> c.zipFile(Examples.zipOf("layers/node-greeting")))).version();

        assertNull(response.functionError(), body(response));
        assertEquals("Hello, Ada, from the python-greeting layer!",
            JSON.readTree(body(response)).get("message").asText());
        assertEquals(layer, second.lambda().getLayerVersionByArn(b -> b.arn(layer)).layerVersionArn());
        assertEquals(2L, next, "version numbers continue after a restart");
      }
    } finally {
      TestNode.deleteTree(dataDir);
    }
  }

  // ---- the plain launcher ----------------------------------------------------------------------

  @Test
  void layeredFunctionsAlsoWorkUnderThePlainLauncher() throws Exception {
    Path dataDir = Files.createTempDirectory("lamina-plain-");
    try (TestNode plain = TestNode.start(dataDir, true, ConfigFactory.parseString("lamina.sandbox.isolation = none"))) {
      LambdaClient client = plain.lambda();
      String python = client.publishLayerVersion(b -> b.layerName("lf-plain-py")
          .content(c -> c.zipFile(Examples.zipOf("layers/python-greeting")))).layerVersionArn();
      String nodeLayer = client.publishLayerVersion(b -> b.layerName("lf-plain-node")
          .content(c -> c.zipFile(Examples.zipOf("layers/node-greeting")))).layerVersionArn();
      client.createFunction(b -> b.functionName("lf-plain-py").runtime("python3.12").handler("app.handler")
          .role(ROLE).layers(python).code(c -> c.zipFile(Examples.zipOf("python/layered"))));
      client.createFunction(b -> b.functionName("lf-plain-node").runtime("nodejs20.x").handler("index.handler")
          .role(ROLE).layers(nodeLayer).code(c -> c.zipFile(Examples.zipOf("node/layered"))));

      InvokeResponse py = invoke(client, "lf-plain-py", "{\"name\":\"Ada\"}");
      InvokeResponse js = invoke(client, "lf-plain-node", "{\"name\":\"Ada\"}");

      assertNull(py.functionError(), body(py));
      JsonNode pyResult = JSON.readTree(body(py));
      assertEquals("Hello, Ada, from the python-greeting layer!", pyResult.get("message").asText());
      String module = pyResult.get("module").asText();
      assertTrue(module.startsWith(dataDir.toString()) && module.endsWith("/python/greeting.py"),
          "the plain launcher runs from the host directory of the extracted layers: " + module);
      assertNull(js.functionError(), body(js));
      JsonNode jsResult = JSON.readTree(body(js));
      assertEquals("Hello, Ada, from the node-greeting layer!", jsResult.get("message").asText());
      assertTrue(jsResult.get("module").asText().startsWith(dataDir.toString()), jsResult.toString());
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static String publish(String layer, SdkBytes zip) {
    return lambda.publishLayerVersion(b -> b.layerName(layer).content(c -> c.zipFile(zip))).layerVersionArn();
  }

  private static void createLayered(String name, String runtime, String handler, SdkBytes zip, String... layers) {
    lambda.createFunction(b -> b.functionName(name).runtime(runtime).handler(handler).role(ROLE).timeout(10)
        .layers(layers).code(c -> c.zipFile(zip)));
  }

  private static SdkBytes probe() {
    return SdkBytes.fromByteArray(Examples.zip(Map.of("probe.py", PROBE)));
  }

  private static JsonNode probe(String function, String event) throws IOException {
    InvokeResponse response = invoke(lambda, function, event);
    assertNull(response.functionError(), body(response));
    return JSON.readTree(body(response));
  }

  private static SdkBytes textZip(Map<String, String> entries) {
    return SdkBytes.fromByteArray(Examples.zip(entries));
  }

  /** A zip of binary entries: name → bytes. */
  private static byte[] zip(Map<String, byte[]> entries) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue());
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }

  /** A layer with {@code java/lib/greeter.jar}, and a function package whose handler uses its class. */
  private record JavaPackages(byte[] layer, byte[] function) {}

  private static JavaPackages compileJavaLayerAndHandler() throws Exception {
    Path work = Files.createTempDirectory("lamina-java-layer");
    try {
      Path librarySource = write(work.resolve("lib-src/greeter/Greeter.java"), """
          package greeter;

          public final class Greeter {
            public static String greet(String name) {
              return "Hello, " + name + ", from a jar in a layer!";
            }
          }
          """);
      Path handlerSource = write(work.resolve("fn-src/layered/Handler.java"), """
          package layered;

          import com.amazonaws.services.lambda.runtime.Context;
          import com.amazonaws.services.lambda.runtime.RequestHandler;
          import java.util.Map;

          public class Handler implements RequestHandler<Map<String, Object>, Map<String, String>> {
            @Override
            public Map<String, String> handleRequest(Map<String, Object> event, Context context) {
              return Map.of("message", greeter.Greeter.greet(String.valueOf(event.get("name"))),
                  "jar", String.valueOf(greeter.Greeter.class.getProtectionDomain().getCodeSource().getLocation()));
            }
          }
          """);
      Path core = Path.of(Context.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path libraryClasses = work.resolve("lib-classes");
      Path handlerClasses = work.resolve("fn-classes");
      javac("--release", "17", "-d", libraryClasses.toString(), librarySource.toString());
      javac("--release", "17", "-cp", core + ":" + libraryClasses, "-d", handlerClasses.toString(),
          handlerSource.toString());
      return new JavaPackages(zip(Map.of("java/lib/greeter.jar", jar(libraryClasses))),
          Examples.zipDirectory(handlerClasses));
    } finally {
      TestNode.deleteTree(work);
    }
  }

  private static Path write(Path file, String content) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.writeString(file, content, StandardCharsets.UTF_8);
  }

  private static void javac(String... args) {
    int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, args);
    if (rc != 0) {
      throw new IllegalStateException("javac failed: " + String.join(" ", args));
    }
  }

  private static byte[] jar(Path classes) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (JarOutputStream jar = new JarOutputStream(bytes); Stream<Path> files = Files.walk(classes)) {
      for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
        jar.putNextEntry(new ZipEntry(classes.relativize(file).toString()));
        jar.write(Files.readAllBytes(file));
        jar.closeEntry();
      }
    }
    return bytes.toByteArray();
  }
}
