package dev.lamina.actors.sandbox;

import dev.lamina.actors.registry.FunctionConfig;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** The argv and environment that start a function's runtime, per Lambda runtime family. */
public final class RuntimeCommand {

  private RuntimeCommand() {}

  /** argv for the runtime; paths are those the sandbox sees ({@code layout}). */
  public static List<String> argv(FunctionConfig config, SandboxCode code, SandboxLauncher.Layout layout,
      SandboxSettings settings) {
    String runtime = config.runtime();
    boolean optElsewhere = !layout.opt().equals("/opt");
    if (runtime.startsWith("python")) {
      String bootstrap = layout.runtimeDir() + "/python/bootstrap.py";
      return optElsewhere ? List.of(settings.python(), "-u", "-S", bootstrap, layout.opt())
          : List.of(settings.python(), "-u", "-S", bootstrap);
    }
    if (runtime.startsWith("nodejs")) {
      // Node ignores cgroup limits inside the sandbox: size its heap from the function's memory.
      int heapMb = Math.max(64, config.memorySizeMb() * 85 / 100);
      return List.of(settings.node(), "--max-old-space-size=" + heapMb, layout.runtimeDir() + "/node/bootstrap.js");
    }
    if (runtime.startsWith("java")) {
      int heapMb = Math.max(64, config.memorySizeMb() * 85 / 100);
      int cpus = Math.max(1, Math.round(config.memorySizeMb() / 1769f));
      return List.of(settings.javaFor(runtime),
          "-Xmx" + heapMb + "m", "-XX:ActiveProcessorCount=" + cpus,
          "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
          // The runtime client adds /opt/java/lib itself; elsewhere the classpath must name it.
          "-cp", layout.runtimeDir() + "/java/*" + (optElsewhere ? ":" + layout.opt() + "/java/lib/*" : ""),
          RuntimeFiles.RIC_MAIN, config.handler());
    }
    String bootstrap = code.bootstrap(layout);
    return List.of(bootstrap != null ? bootstrap : layout.taskRoot() + "/bootstrap");
  }

  /** The environment of §3.3 of the contract, plus the function's own variables. */
  public static Map<String, String> environment(
      FunctionConfig config, SandboxLauncher.Layout layout, String runtimeApi, SandboxSettings settings,
      boolean provisioned) {
    Map<String, String> env = new LinkedHashMap<>(config.environment());
    String runtime = config.runtime();
    String opt = layout.opt();
    env.put("PATH", "/usr/local/bin:/usr/bin/:/bin:" + opt + "/bin");
    env.put("LANG", "en_US.UTF-8");
    env.put("TZ", ":UTC");
    env.put("LD_LIBRARY_PATH", "/lib64:/usr/lib64:" + layout.runtimeDir() + ":" + layout.runtimeDir() + "/lib:"
        + layout.taskRoot() + ":" + layout.taskRoot() + "/lib:" + opt + "/lib");
    if (runtime.startsWith("nodejs")) {
      String major = runtime.substring("nodejs".length(), runtime.indexOf('.'));
      env.put("NODE_PATH", opt + "/nodejs/node" + major + "/node_modules:" + opt + "/nodejs/node_modules:"
          + layout.runtimeDir()
          + "/node_modules:" + layout.taskRoot() + "/node_modules");
    }
    if (runtime.startsWith("python")) {
      env.put("PYTHONUNBUFFERED", "1");
    }
    env.put("_HANDLER", config.handler());
    env.put("AWS_REGION", settings.region());
    env.put("AWS_DEFAULT_REGION", settings.region());
    if (!runtime.startsWith("provided")) {
      env.put("AWS_EXECUTION_ENV", "AWS_Lambda_" + runtime);
    }
    env.put("AWS_LAMBDA_FUNCTION_NAME", config.name());
    env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(config.memorySizeMb()));
    env.put("AWS_LAMBDA_FUNCTION_VERSION", config.version());
    env.put("AWS_LAMBDA_INITIALIZATION_TYPE", provisioned ? "provisioned-concurrency" : "on-demand");
    env.put("AWS_LAMBDA_LOG_GROUP_NAME", config.logGroup());
    env.put("AWS_LAMBDA_LOG_STREAM_NAME", logStreamName(config.version()));
    env.put("AWS_LAMBDA_RUNTIME_API", runtimeApi);
    env.put("LAMBDA_TASK_ROOT", layout.taskRoot());
    env.put("LAMBDA_RUNTIME_DIR", layout.runtimeDir());
    env.put("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR");
    // No execution-role credentials exist on a self-hosted node; SDKs in functions read these.
    env.putIfAbsent("AWS_ACCESS_KEY_ID", "lamina");
    env.putIfAbsent("AWS_SECRET_ACCESS_KEY", "lamina");
    env.putIfAbsent("AWS_SESSION_TOKEN", "lamina");
    return env;
  }

  private static String logStreamName(String version) {
    String day = LocalDate.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy/MM/dd"));
    return day + "/[" + version + "]" + UUID.randomUUID().toString().replace("-", "");
  }
}
