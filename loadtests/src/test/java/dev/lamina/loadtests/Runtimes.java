package dev.lamina.loadtests;

import java.util.Arrays;
import java.util.List;

/**
 * The no-op function of each runtime family (examples/python/noop, node/noop, the Java example
 * {@code example.Noop} compiled by the build, provided/noop — a bash loop over curl), and the
 * families a run covers ({@code -Dlamina.runtimes=python,node,java,provided}).
 */
public enum Runtimes {
  PYTHON("python3.12", "noop.handler", "python/noop"),
  NODE("nodejs20.x", "index.handler", "node/noop"),
  JAVA("java17", "example.Noop::handleRequest", "target/classes"),
  PROVIDED("provided.al2023", "noop", "provided/noop");

  final String runtime;
  final String handler;
  final String exampleDir;

  Runtimes(String runtime, String handler, String exampleDir) {
    this.runtime = runtime;
    this.handler = handler;
    this.exampleDir = exampleDir;
  }

  public String key() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** A no-op of this runtime named {@code name}. */
  public LaminaApi.FunctionSpec noop(LaminaApi api, String name, int memoryMb) {
    // Java's package is the examples module's compiled classes, as `mvn package` leaves them.
    return new LaminaApi.FunctionSpec(name, runtime, handler, api.zipExample(exampleDir), memoryMb, 30);
  }

  public static List<Runtimes> selected() {
    return Arrays.stream(Target.option("lamina.runtimes", "python,node,java,provided").split(","))
        .map(s -> valueOf(s.trim().toUpperCase(java.util.Locale.ROOT))).toList();
  }
}
