package dev.lamina.actors.registry;

import java.util.concurrent.ThreadLocalRandom;

/**
 * What an invocation of {@code name[:qualifier]} runs: one version, or for an alias with a
 * routing configuration, one of two versions by weight.
 *
 * @param additional the alias's additional version, or null
 * @param additionalWeight the share of invocations {@code additional} gets, in [0, 1]
 * @param alias the alias name, or null when the qualifier named a version
 * @param eventConfig the event invoke config of the qualifier invoked, or null
 */
public record Resolved(FunctionConfig main, FunctionConfig additional, double additionalWeight, String alias,
    EventInvokeConfig eventConfig) {

  /** The version to run this time. */
  public FunctionConfig pick() {
    if (additional == null || additionalWeight <= 0) {
      return main;
    }
    return ThreadLocalRandom.current().nextDouble() < additionalWeight ? additional : main;
  }

  static Resolved of(FunctionRegistry.Reply reply) {
    AliasConfig alias = reply.alias();
    EventInvokeConfig events = reply.eventConfigs().isEmpty() ? null : reply.eventConfigs().get(0);
    if (alias == null) {
      return new Resolved(reply.config(), null, 0, null, events);
    }
    double weight = alias.additionalVersionWeights().values().stream().findFirst().orElse(0.0);
    return new Resolved(reply.config(), reply.additional(), reply.additional() == null ? 0 : weight, alias.name(),
        events);
  }
}
