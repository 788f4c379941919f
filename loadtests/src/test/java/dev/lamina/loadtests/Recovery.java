package dev.lamina.loadtests;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.forAll;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;

/**
 * A function that throws, times out or kills its own runtime leaves the platform healthy: for
 * {@code rounds} rounds (default 10), each misbehaviour gets Lambda's answer (200 with
 * {@code X-Amz-Function-Error: Unhandled}; "Task timed out after 1.00 seconds"; "Runtime exited")
 * and the very next invocation of the same function succeeds — on the same environment after a
 * throw, on a fresh one after a timeout or a crash (checked by the environment id the probe
 * returns). The next call's client-observed time is
 * recorded per kind (a fresh environment's includes its cold start).
 */
public class Recovery extends LaminaSimulation {

  private static final String FUNCTION = "lt-recovery";
  private final int rounds = Target.intOption("rounds", 10);

  {
    var misbehaving = scenario("misbehaving")
        .exec(invoke("first", FUNCTION, "{}").check(status().is(200), jsonPath("$.sandbox").saveAs("sandbox")))
        .repeat(rounds).on(
            misbehave("throw", "asked to throw"), next("after throw", true),
            misbehave("timeout", "Task timed out after 1.00 seconds"), next("after timeout", false),
            misbehave("exit", "Runtime exited with error: exit status 3"), next("after crash", false));
    setUp(misbehaving.injectOpen(atOnceUsers(1))).protocols(protocol())
        .assertions(forAll().failedRequests().count().is(0L));
  }

  private static ChainBuilder misbehave(String action, String message) {
    return exec(invoke(action, FUNCTION, "{\"do\": \"" + action + "\"}")
        .check(status().is(200), header("X-Amz-Function-Error").is("Unhandled"),
            jsonPath("$.errorMessage").transform(m -> m.contains(message)).is(true)));
  }

  /**
   * The call after a misbehaviour: it must succeed, in the environment that ran the previous
   * call ({@code sameEnvironment}: a function error keeps it, as Lambda does) or in a new one (a
   * timeout or a crash resets it). The probe answers with its environment's id.
   */
  private ChainBuilder next(String series, boolean sameEnvironment) {
    var environment = jsonPath("$.sandbox");
    return timed(series, exec(invoke(series, FUNCTION, "{}")
        .check(status().is(200), header("X-Amz-Function-Error").notExists(),
            sameEnvironment ? environment.is(session -> session.getString("sandbox"))
                : environment.not(session -> session.getString("sandbox")),
            environment.saveAs("sandbox"))));
  }

  @Override
  public void before() {
    api.recreate(new LaminaApi.FunctionSpec(FUNCTION, "python3.12", "probe.misbehave", api.zipExample("python/probe"),
        128, 1));
    results.put("rounds", rounds);
  }

  @Override
  public void after() {
    super.after();
    api.delete(FUNCTION);
  }
}
