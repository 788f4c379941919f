package dev.lamina.persistence.cassandra;

import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * {@code lamina.cassandra.*}: where the cluster profile keeps code and logs, and how. Defaults and
 * the reasons for them are in this module's {@code reference.conf}. Every value is checked here, at
 * start-up, with an error naming the key.
 *
 * @param contactPoints "host:port" of one or more Cassandra nodes
 * @param consistency level of every code and log read and write
 * @param codeChunkBytes size of one stored code chunk (the last one of a zip is smaller)
 * @param logTtl how long a log row is kept (whole seconds, as Cassandra's TTL)
 * @param logSettle how long after its timestamp a log row may still appear; readers lag this much
 * @param logMaxInFlight log writes in flight at once
 * @param logMaxQueuedBytes log text (UTF-8 bytes) waiting to be written before appends are dropped
 */
public record CassandraSettings(List<String> contactPoints, String localDatacenter, String keyspace,
    int replicationFactor, DefaultConsistencyLevel consistency, Duration connectTimeout, Duration requestTimeout,
    int codeChunkBytes, Duration logTtl, Duration logSettle, int logMaxInFlight, long logMaxQueuedBytes) {

  public static final String PATH = "lamina.cassandra";

  private static final Pattern HOST_PORT = Pattern.compile("[^\\s:]+:\\d{1,5}");
  // Cassandra's own limit for an unquoted keyspace name; lower case so it needs no quoting anywhere.
  private static final Pattern KEYSPACE = Pattern.compile("[a-z][a-z0-9_]{0,47}");
  private static final int MIN_CHUNK = 64 * 1024;
  private static final int MAX_CHUNK = 8 * 1024 * 1024;
  private static final Duration MAX_TTL = Duration.ofDays(7300);  // Cassandra refuses TTLs over 20 years

  public CassandraSettings {
    contactPoints = List.copyOf(contactPoints);
    if (contactPoints.isEmpty()) {
      throw bad("contact-points", "needs at least one \"host:port\"");
    }
    for (String point : contactPoints) {
      if (!HOST_PORT.matcher(point).matches() || port(point) < 1 || port(point) > 65535) {
        throw bad("contact-points", "\"" + point + "\" is not \"host:port\"");
      }
    }
    if (localDatacenter == null || localDatacenter.isBlank()) {
      throw bad("local-datacenter", "must not be empty");
    }
    if (keyspace == null || !KEYSPACE.matcher(keyspace).matches()) {
      throw bad("keyspace", "\"" + keyspace + "\" must be lower-case letters, digits and _, starting with a letter, at most 48");
    }
    if (replicationFactor < 1) {
      throw bad("replication-factor", "must be at least 1, not " + replicationFactor);
    }
    positive("connect-timeout", connectTimeout);
    positive("request-timeout", requestTimeout);
    if (codeChunkBytes < MIN_CHUNK || codeChunkBytes > MAX_CHUNK) {
      throw bad("code-chunk-bytes", "must be between 64k and 8m (Cassandra's write and frame limits), not "
          + codeChunkBytes);
    }
    if (logTtl.compareTo(Duration.ofSeconds(1)) < 0 || logTtl.compareTo(MAX_TTL) > 0) {
      throw bad("log-ttl", "must be between 1 s and 20 years, not " + logTtl);
    }
    if (logSettle.compareTo(Duration.ofMillis(10)) < 0) {
      throw bad("log-settle", "must be at least 10 ms, not " + logSettle);
    }
    if (logMaxInFlight < 1) {
      throw bad("log-max-in-flight", "must be at least 1, not " + logMaxInFlight);
    }
    if (logMaxQueuedBytes < 1024 * 1024) {
      throw bad("log-max-queued-bytes", "must be at least 1m, not " + logMaxQueuedBytes);
    }
  }

  /** Reads {@code lamina.cassandra} (with this module's reference.conf as the fallback). */
  public static CassandraSettings from(Config config) {
    Config c = config.getConfig(PATH);
    String consistency = c.getString("consistency");
    DefaultConsistencyLevel level;
    try {
      level = DefaultConsistencyLevel.valueOf(consistency.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw bad("consistency", "\"" + consistency + "\" is not a consistency level (ONE, QUORUM, LOCAL_QUORUM, ALL, ...)");
    }
    long chunk = c.getBytes("code-chunk-bytes");
    return new CassandraSettings(c.getStringList("contact-points"), c.getString("local-datacenter"),
        c.getString("keyspace"), c.getInt("replication-factor"), level, c.getDuration("connect-timeout"),
        c.getDuration("request-timeout"), (int) Math.min(chunk, Integer.MAX_VALUE), c.getDuration("log-ttl"),
        c.getDuration("log-settle"), c.getInt("log-max-in-flight"), c.getBytes("log-max-queued-bytes"));
  }

  /** The same settings with another code chunk size. */
  public CassandraSettings withCodeChunkBytes(int bytes) {
    return new CassandraSettings(contactPoints, localDatacenter, keyspace, replicationFactor, consistency,
        connectTimeout, requestTimeout, bytes, logTtl, logSettle, logMaxInFlight, logMaxQueuedBytes);
  }

  /** The same settings with another log TTL and settle time. */
  public CassandraSettings withLogTiming(Duration ttl, Duration settle) {
    return new CassandraSettings(contactPoints, localDatacenter, keyspace, replicationFactor, consistency,
        connectTimeout, requestTimeout, codeChunkBytes, ttl, settle, logMaxInFlight, logMaxQueuedBytes);
  }

  /** {@link #logTtl} in whole seconds, at least 1, as CQL's {@code USING TTL} wants it. */
  int logTtlSeconds() {
    return (int) Math.max(1, logTtl.toSeconds());
  }

  private static int port(String hostPort) {
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  private static void positive(String key, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw bad(key, "must be positive, not " + value);
    }
  }

  private static ConfigException bad(String key, String problem) {
    return new ConfigException.BadValue(PATH + "." + key, problem);
  }
}
