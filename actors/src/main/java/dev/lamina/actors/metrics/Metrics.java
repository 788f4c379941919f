package dev.lamina.actors.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's meters (exposed by the node as Prometheus text on {@code /metrics}). Actors hold the
 * meters of what they own and update them without a lookup on the warm path; gauges are backed by
 * numbers the owning actor sets, kept here so that an actor started again reports on the same
 * gauge.
 */
public final class Metrics {

  /** The meters of one function version, for its sandboxes. */
  public record InvocationMeters(Counter succeeded, Counter failed, Timer duration, Counter coldStarts,
      Timer initDuration) {

    /** One invocation's outcome; {@code initMs} negative on a warm invocation. */
    public void record(boolean functionError, double durationMs, double initMs) {
      (functionError ? failed : succeeded).increment();
      duration.record((long) (durationMs * 1000), TimeUnit.MICROSECONDS);
      if (initMs >= 0) {
        coldStarts.increment();
        initDuration.record((long) (initMs * 1000), TimeUnit.MICROSECONDS);
      }
    }
  }

  private final MeterRegistry registry;
  private final Map<GaugeKey, AtomicInteger> gauges = new ConcurrentHashMap<>();
  private final Map<String, EventMeters> eventMeters = new ConcurrentHashMap<>();

  private record GaugeKey(String name, Tags tags) {
    boolean ofFunction(String function) {
      return tags.stream().anyMatch(t -> t.getKey().equals("function") && t.getValue().equals(function));
    }
  }

  public Metrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Meters kept in memory only (tests, embedding without a scrape). */
  public static Metrics inMemory() {
    return new Metrics(new SimpleMeterRegistry());
  }

  public MeterRegistry registry() {
    return registry;
  }

  public InvocationMeters invocations(String function, String version) {
    Tags tags = Tags.of("function", function, "version", version);
    return new InvocationMeters(
        registry.counter("lamina.invocations", tags.and("outcome", "success")),
        registry.counter("lamina.invocations", tags.and("outcome", "function_error")),
        Timer.builder("lamina.invocation.duration").tags(tags).register(registry),
        registry.counter("lamina.cold.starts", tags),
        Timer.builder("lamina.init.duration").tags(tags).register(registry));
  }

  /**
   * The function was deleted: its series leave the scrape (meters a running sandbox still holds
   * keep counting into the void until it stops).
   */
  public void forgetFunction(String function) {
    registry.getMeters().stream()
        .filter(m -> function.equals(m.getId().getTag("function")))
        .toList()
        .forEach(registry::remove);
    gauges.keySet().removeIf(key -> key.ofFunction(function));
    eventMeters.remove(function);
  }

  /** An invocation refused with 429 and {@code reason}. */
  public void throttled(String function, String reason) {
    registry.counter("lamina.throttles", "function", function, "reason", reason).increment();
  }

  /** Invocations in flight of one function version (set by its function actor). */
  public AtomicInteger concurrentExecutions(String function, String version) {
    return gauge("lamina.concurrent.executions", Tags.of("function", function, "version", version));
  }

  /** Sandboxes of one function version in {@code state} ({@code idle}, {@code busy}). */
  public AtomicInteger sandboxes(String function, String version, String state) {
    return gauge("lamina.sandboxes", Tags.of("function", function, "version", version, "state", state));
  }

  /** Units of concurrency the account has leased out (at most its limit). */
  public AtomicInteger accountConcurrency(String account) {
    return gauge("lamina.account.concurrent.executions", Tags.of("account", account));
  }

  /** Scaling tokens left: per function, or the account's burst pool ({@code function} = {@code *}). */
  public AtomicInteger scalingTokens(String function) {
    return gauge("lamina.scaling.tokens", Tags.of("function", function));
  }

  /**
   * What this node offers to sandboxes, and the memory its sandboxes hold (all leases together,
   * each worker adding and removing its own); CPUs as Lambda allots them, 1 vCPU per 1,769 MB.
   */
  public java.util.concurrent.atomic.AtomicLong workerCapacity(long memoryMb, int cpus) {
    java.util.concurrent.atomic.AtomicLong used = new java.util.concurrent.atomic.AtomicLong();
    Gauge.builder("lamina.worker.memory.capacity", () -> memoryMb).baseUnit("megabytes").register(registry);
    Gauge.builder("lamina.worker.memory.used", used, java.util.concurrent.atomic.AtomicLong::get)
        .baseUnit("megabytes").strongReference(true).register(registry);
    Gauge.builder("lamina.worker.cpus", () -> cpus).register(registry);
    Gauge.builder("lamina.worker.cpus.allotted", used, u -> u.get() / 1769.0).strongReference(true).register(registry);
    return used;
  }

  /** When the current host lease started (System.nanoTime), shown as its age in seconds. */
  public java.util.concurrent.atomic.AtomicLong leaseStarted() {
    java.util.concurrent.atomic.AtomicLong started = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
    Gauge.builder("lamina.worker.lease.age", started, s -> (System.nanoTime() - s.get()) / 1e9)
        .baseUnit("seconds").strongReference(true).register(registry);
    return started;
  }

  /** The meters of one function's asynchronous event queue (all its partitions together). */
  public record EventMeters(Counter accepted, Counter dispatched, Counter retried, Counter expired,
      Counter retriesExhausted, Counter toFailureDestination, Counter toSuccessDestination, Counter discarded,
      Timer ageAtDispatch, AtomicInteger depth) {}

  /** The function's event meters, created once per function (and again after it was forgotten). */
  public EventMeters events(String function) {
    return eventMeters.computeIfAbsent(function, this::newEventMeters);
  }

  /** The function's event meters if they exist (not forgotten), without creating them. */
  public EventMeters eventsIfPresent(String function) {
    return eventMeters.get(function);
  }

  private EventMeters newEventMeters(String function) {
    Tags tags = Tags.of("function", function);
    return new EventMeters(
        registry.counter("lamina.events.accepted", tags),
        registry.counter("lamina.events.dispatched", tags),
        registry.counter("lamina.events.retried", tags),
        registry.counter("lamina.events.failed", tags.and("condition", "EventAgeExceeded")),
        registry.counter("lamina.events.failed", tags.and("condition", "RetriesExhausted")),
        registry.counter("lamina.events.delivered", tags.and("destination", "on-failure")),
        registry.counter("lamina.events.delivered", tags.and("destination", "on-success")),
        registry.counter("lamina.events.discarded", tags),
        Timer.builder("lamina.events.age.at.dispatch").tags(tags).register(registry),
        gauge("lamina.events.queued", tags));
  }

  /** Messages in a Lamina queue: {@code visible}, {@code in-flight} (received, not deleted), {@code delayed}. */
  public AtomicInteger queueDepth(String queue, String state) {
    return gauge("lamina.queue.messages", Tags.of("queue", queue, "state", state));
  }

  /** Batches an event source mapping handed to its function, by outcome. */
  public Counter mappingBatches(String uuid, String outcome) {
    return registry.counter("lamina.mapping.batches", "mapping", uuid, "outcome", outcome);
  }

  private AtomicInteger gauge(String name, Tags tags) {
    return gauges.computeIfAbsent(new GaugeKey(name, tags), k -> {
      AtomicInteger value = new AtomicInteger();
      Gauge.builder(name, value, AtomicInteger::get).tags(tags).strongReference(true).register(registry);
      return value;
    });
  }
}
