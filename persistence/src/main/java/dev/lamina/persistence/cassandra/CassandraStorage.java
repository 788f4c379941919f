package dev.lamina.persistence.cassandra;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.metadata.Node;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection to Cassandra shared by the cluster profile's code and log stores.
 *
 * <p>{@link #open} blocks: it connects (failing with {@link CassandraUnavailableException} naming the
 * contact points when none answers within {@code connect-timeout}) and creates the keyspace and
 * tables of {@link CassandraSchema} if they do not exist, waiting until every Cassandra node agrees
 * on the schema. Several Lamina nodes may open it at the same time. Every request of the session
 * uses the configured consistency level and request timeout unless a statement says otherwise.
 *
 * <p>Close it after the stores that use it.
 */
public final class CassandraStorage implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CassandraStorage.class);
  private static final Duration SCHEMA_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration DEFAULT_HEALTH_TIMEOUT = Duration.ofSeconds(2);
  private static final SimpleStatement HEALTH_QUERY =
      SimpleStatement.newInstance("SELECT release_version FROM system.local");

  private final CassandraSettings settings;
  private final CqlSession session;

  private CassandraStorage(CassandraSettings settings, CqlSession session) {
    this.settings = settings;
    this.session = session;
  }

  /** Connects and makes sure the schema exists. Blocking; for start-up. */
  public static CassandraStorage open(CassandraSettings settings) {
    CqlSession session = connect(settings);
    try {
      createSchema(session, settings);
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
    enableSchemaMetadata(session);
    return new CassandraStorage(settings, session);
  }

  public CqlSession session() {
    return session;
  }

  public CassandraSettings settings() {
    return settings;
  }

  /** {@code keyspace.table}, for statements: the session has no default keyspace. */
  String table(String table) {
    return settings.keyspace() + "." + table;
  }

  /**
   * Whether a Cassandra node answers a trivial query within two seconds. Never blocks and never
   * fails: for a health endpoint.
   */
  public CompletionStage<Boolean> reachable() {
    return reachable(DEFAULT_HEALTH_TIMEOUT);
  }

  /** Whether a Cassandra node answers a trivial query within {@code timeout}. Never blocks or fails. */
  public CompletionStage<Boolean> reachable(Duration timeout) {
    try {
      return session.executeAsync(HEALTH_QUERY.setTimeout(timeout))
          .handle((rows, failure) -> failure == null && rows.one() != null);
    } catch (RuntimeException e) {  // e.g. the session is closed
      return CompletableFuture.completedFuture(false);
    }
  }

  @Override
  public void close() {
    session.close();
  }

  private static CqlSession connect(CassandraSettings settings) {
    Duration connect = settings.connectTimeout();
    DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
        .withStringList(DefaultDriverOption.CONTACT_POINTS, settings.contactPoints())
        .withString(DefaultDriverOption.LOAD_BALANCING_LOCAL_DATACENTER, settings.localDatacenter())
        .withString(DefaultDriverOption.SESSION_NAME, "lamina")
        .withString(DefaultDriverOption.REQUEST_CONSISTENCY, settings.consistency().name())
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, settings.requestTimeout())
        .withDuration(DefaultDriverOption.CONNECTION_CONNECT_TIMEOUT, connect)
        .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, connect)
        .withDuration(DefaultDriverOption.CONTROL_CONNECTION_TIMEOUT, connect)
        .withDuration(DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, SCHEMA_TIMEOUT)
        .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, SCHEMA_TIMEOUT)
        // Off while creating the schema: with it on, the driver re-reads the schema after every
        // statement (~1.5 s each instead of ~50 ms). Turned on afterwards, for our keyspace only,
        // because token-aware routing needs the keyspace's replication.
        .withBoolean(DefaultDriverOption.METADATA_SCHEMA_ENABLED, false)
        .withStringList(DefaultDriverOption.METADATA_SCHEMA_REFRESHED_KEYSPACES, List.of(settings.keyspace()))
        // Fail the start with a clear error instead of retrying silently for ever.
        .withBoolean(DefaultDriverOption.RECONNECT_ON_INIT, false)
        // Everything is flushed before the session closes; the default 2 s quiet period only delays it.
        .withInt(DefaultDriverOption.NETTY_IO_SHUTDOWN_QUIET_PERIOD, 0)
        .withInt(DefaultDriverOption.NETTY_ADMIN_SHUTDOWN_QUIET_PERIOD, 0)
        .build();
    try {
      return CqlSession.builder().withConfigLoader(config).build();
    } catch (AllNodesFailedException e) {
      throw new CassandraUnavailableException("Cassandra is not reachable at " + settings.contactPoints()
          + " (lamina.cassandra.contact-points, local datacenter " + settings.localDatacenter() + "): "
          + describe(e.getAllErrors()), e);
    } catch (DriverException | IllegalStateException e) {
      throw new CassandraUnavailableException("Cannot connect to Cassandra at " + settings.contactPoints()
          + " (lamina.cassandra.contact-points): " + e.getMessage(), e);
    }
  }

  /**
   * Runs another component's schema statements (keyspaces and {@code IF NOT EXISTS} tables, e.g.
   * the journal plugin's), blocking, each table with a stable id so that nodes running them at the
   * same moment agree (see {@link CassandraSchema}). Idempotent.
   */
  public void createSchema(List<String> statements) {
    for (String cql : statements) {
      try {
        ddl(session, CassandraSchema.withStableId(cql), cql.strip().lines().findFirst().orElse(""));
      } catch (DriverException e) {
        throw new CassandraUnavailableException("Cassandra at " + settings.contactPoints()
            + " refused a schema statement: " + e.getMessage() + "\n" + cql, e);
      }
    }
  }

  private static void createSchema(CqlSession session, CassandraSettings settings) {
    String keyspace = settings.keyspace();
    String step = "create keyspace " + keyspace;
    try {
      ddl(session, CassandraSchema.keyspace(keyspace, settings.replicationFactor()), step);
      warnOnOtherReplication(session, settings);
      for (CassandraSchema.Table table : CassandraSchema.tables(keyspace)) {
        step = "create table " + keyspace + "." + table.name();
        ddl(session, table.cql(), step);
      }
    } catch (DriverException e) {
      throw new CassandraUnavailableException("Cassandra at " + settings.contactPoints() + " did not let Lamina "
          + step + ": " + e.getMessage(), e);
    }
  }

  /**
   * Runs a schema change and waits until every Cassandra node has it (the driver does not wait by
   * itself while its schema metadata is off). checkSchemaAgreement polls the nodes' schema versions
   * for up to CONTROL_CONNECTION_AGREEMENT_TIMEOUT.
   */
  private static void ddl(CqlSession session, String cql, String step) {
    session.execute(SimpleStatement.newInstance(cql).setTimeout(SCHEMA_TIMEOUT));
    if (!session.checkSchemaAgreement()) {
      throw new CassandraUnavailableException("Cassandra nodes did not agree on the schema within "
          + SCHEMA_TIMEOUT.toSeconds() + " s after Lamina's " + step + "; is a node down?", null);
    }
  }

  /** Schema metadata gives token-aware routing; without it requests still work, one hop longer. */
  private static void enableSchemaMetadata(CqlSession session) {
    try {
      session.setSchemaMetadataEnabled(true).toCompletableFuture()
          .get(SCHEMA_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      log.warn("could not read the keyspace's schema metadata; requests are not routed to replicas directly: {}",
          e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** An existing keyspace keeps its replication: say so when it differs from the setting. */
  private static void warnOnOtherReplication(CqlSession session, CassandraSettings settings) {
    Row row = session.execute(SimpleStatement.newInstance(
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", settings.keyspace())).one();
    if (row == null) {
      return;
    }
    Map<String, String> replication = row.getMap("replication", String.class, String.class);
    if (!Integer.toString(settings.replicationFactor()).equals(replication.get("replication_factor"))) {
      log.warn("keyspace {} already exists with replication {}; lamina.cassandra.replication-factor = {} applies "
          + "only to a new keyspace (change it with ALTER KEYSPACE)", settings.keyspace(), replication,
          settings.replicationFactor());
    }
  }

  private static String describe(Map<Node, List<Throwable>> errors) {
    if (errors.isEmpty()) {
      return "no node could be contacted";
    }
    return errors.entrySet().stream()
        .map(e -> e.getKey().getEndPoint().toString().replaceFirst("^/", "") + ": " + e.getValue().stream()
            .map(CassandraStorage::message).distinct().collect(Collectors.joining("; ")))
        .collect(Collectors.joining(", "));
  }

  /**
   * The socket-level reason when there is one ("Connection refused"): the driver keeps it as a
   * suppressed exception under a generic "failed to send request".
   */
  private static String message(Throwable t) {
    Throwable socket = socketError(t, 0);
    if (socket instanceof UnknownHostException) {
      return "unknown host " + socket.getMessage();
    }
    if (socket != null && socket.getMessage() != null) {
      return socket.getMessage().replaceFirst(": .*$", "");  // "Connection refused: /127.0.0.1:9142"
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  private static Throwable socketError(Throwable t, int depth) {
    if (t == null || depth > 8) {
      return null;
    }
    if (t instanceof SocketException || t instanceof UnknownHostException || t instanceof SocketTimeoutException) {
      return t;
    }
    for (Throwable suppressed : t.getSuppressed()) {
      Throwable found = socketError(suppressed, depth + 1);
      if (found != null) {
        return found;
      }
    }
    return t.getCause() == t ? null : socketError(t.getCause(), depth + 1);
  }
}
