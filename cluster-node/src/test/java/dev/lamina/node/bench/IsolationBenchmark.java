package dev.lamina.node.bench;

import com.typesafe.config.ConfigFactory;
import dev.lamina.node.testing.Examples;
import dev.lamina.node.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.Runtime;

/**
 * What isolation costs (not a test: run it with {@code bench/isolation-benchmark}). Two nodes in
 * one JVM, {@code isolation = none} (plain processes) and {@code isolation = strict} (bubblewrap,
 * uid pool, cgroups, seccomp, nftables), measured alternately in the same run so both see the
 * same machine state: cold starts of a python no-op (client-observed and the REPORT's Init
 * Duration) and warm invokes at 128 MB and at 1769 MB (one vCPU of quota). Prints a Markdown table.
 */
public final class IsolationBenchmark {

  private static final int COLD = 20;
  private static final int WARM_UP = 2000;

  public static void main(String[] args) throws Exception {
    int warm = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    SdkBytes noop = Examples.zipOf("python/noop");
    List<String[]> rows = new ArrayList<>();
    try (TestNode none = start("none"); TestNode strict = start("strict")) {
      System.out.println("strict node: " + strict.node().launcher());
      List<Double> coldNone = new ArrayList<>();
      List<Double> coldStrict = new ArrayList<>();
      List<Double> initNone = new ArrayList<>();
      List<Double> initStrict = new ArrayList<>();
      for (int i = 0; i < COLD; i++) {
        cold(none.lambda(), "cold-" + i, noop, coldNone, initNone);
        cold(strict.lambda(), "cold-" + i, noop, coldStrict, initStrict);
      }
      rows.add(row("cold invoke, client-observed (SDK), isolation none", coldNone));
      rows.add(row("cold invoke, client-observed (SDK), isolation strict", coldStrict));
      rows.add(row("REPORT Init Duration, isolation none", initNone));
      rows.add(row("REPORT Init Duration, isolation strict", initStrict));

      for (int memory : new int[] {128, 1769}) {
        String name = "warm-" + memory;
        create(none.lambda(), name, noop, memory);
        create(strict.lambda(), name, noop, memory);
        for (int i = 0; i < WARM_UP; i++) {
          invoke(none.lambda(), name, false);
          invoke(strict.lambda(), name, false);
        }
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        for (int i = 0; i < warm; i++) {
          long t = System.nanoTime();
          invoke(none.lambda(), name, false);
          a.add(ms(t));
          t = System.nanoTime();
          invoke(strict.lambda(), name, false);
          b.add(ms(t));
        }
        rows.add(row("warm invoke (SDK), " + memory + " MB, isolation none (alternating with the next row)", a));
        rows.add(row("warm invoke (SDK), " + memory + " MB, isolation strict", b));
      }
    }
    System.out.println("| what | n | p50 ms | p99 ms | min ms |");
    System.out.println("|---|---|---|---|---|");
    for (String[] r : rows) {
      System.out.println("| " + String.join(" | ", r) + " |");
    }
  }

  private static TestNode start(String isolation) throws Exception {
    return TestNode.start(Files.createTempDirectory("lamina-bench-" + isolation + "-"), true,
        ConfigFactory.parseString("lamina.sandbox.isolation = " + isolation)
            .withFallback(ConfigFactory.systemProperties()));
  }

  private static void create(LambdaClient lambda, String name, SdkBytes zip, int memory) {
    lambda.createFunction(c -> c.functionName(name).runtime(Runtime.PYTHON3_12).handler("noop.handler")
        .role("arn:aws:iam::000000000000:role/lamina-bench").memorySize(memory).code(k -> k.zipFile(zip)));
  }

  private static void cold(LambdaClient lambda, String name, SdkBytes zip, List<Double> cold, List<Double> init) {
    create(lambda, name, zip, 128);
    long t = System.nanoTime();
    InvokeResponse r = invoke(lambda, name, true);
    cold.add(ms(t));
    Matcher m = Pattern.compile("Init Duration: ([0-9.]+) ms").matcher(
        new String(Base64.getDecoder().decode(r.logResult()), StandardCharsets.UTF_8));
    if (m.find()) {
      init.add(Double.parseDouble(m.group(1)));
    }
  }

  private static InvokeResponse invoke(LambdaClient lambda, String name, boolean tail) {
    InvokeResponse r = lambda.invoke(i -> i.functionName(name).payload(SdkBytes.fromUtf8String("{}"))
        .logType(tail ? LogType.TAIL : LogType.NONE));
    if (r.functionError() != null) {
      throw new IllegalStateException("invoke failed: " + r.payload().asUtf8String());
    }
    return r;
  }

  private static String[] row(String what, List<Double> samples) {
    return Floors.row(what, samples);
  }

  private static double ms(long startNanos) {
    return Floors.ms(startNanos);
  }
}
