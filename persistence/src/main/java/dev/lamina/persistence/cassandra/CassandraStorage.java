package dev.lamina.persistence.cassandra;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.metadata.Node;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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

  private static void createSchema(CqlSession session, CassandraSettings settings) {
    String keyspace = settings.keyspace();
    String step = "create keyspace " + keyspace;
    try {
      ddl(session, CassandraSchema.keyspace(keyspace, settings.replicationFactor()), step);
      warnOnOtherReplication(session, settings);
      for (String table : CassandraSchema.tables(keyspace)) {
        step = "create table " + table.replaceFirst("^CREATE TABLE IF NOT EXISTS (\\S+).*$", "$1");
        ddl(session, table, step);
      }
    } catch (DriverException e) {
      throw new CassandraUnavailableException("Cassandra at " + settings.contactPoints() + " did not let Lamina "
          + step + ": " + e.getMessage(), e);
    }
  }

  /** Runs a schema change and waits until every Cassandra node has it. */
  private static void ddl(CqlSession session, String cql, String step) {
    ResultSet result = session.execute(SimpleStatement.newInstance(cql).setTimeout(SCHEMA_TIMEOUT));
    if (result.getExecutionInfo().isSchemaInAgreement()) {
      return;
    }
    // The driver already waited CONTROL_CONNECTION_AGREEMENT_TIMEOUT; one more check, then give up.
    if (!session.checkSchemaAgreement()) {
      throw new CassandraUnavailableException("Cassandra nodes did not agree on the schema within "
          + SCHEMA_TIMEOUT.toSeconds() + " s after Lamina's " + step + "; is a node down?", null);
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
        .map(e -> e.getKey().getEndPoint() + ": " + e.getValue().stream()
            .map(CassandraStorage::message).distinct().collect(Collectors.joining("; ")))
        .collect(Collectors.joining(", "));
  }

  private static String message(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return root == t || root.getMessage() == null ? text : text + " (" + root.getMessage() + ")";
  }
}
