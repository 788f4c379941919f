package dev.lamina.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.cql.Row;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Opening the storage connects, creates the schema once however many nodes start, and reports health. */
@Timeout(120)
class CassandraStorageTest {

  @Test
  void nodesStartingTogetherCreateOneSchemaAndReopeningChangesNothing() throws Exception {
    CassandraSettings settings = TestCassandra.settings(TestCassandra.uniqueKeyspace(CassandraStorageTest.class));
    ExecutorService starts = Executors.newFixedThreadPool(3);
    List<CassandraStorage> nodes = new ArrayList<>();
    try {
      List<CompletableFuture<CassandraStorage>> opening = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        opening.add(CompletableFuture.supplyAsync(() -> CassandraStorage.open(settings), starts));
      }
      for (CompletableFuture<CassandraStorage> node : opening) {
        nodes.add(node.get(90, TimeUnit.SECONDS));
      }
      nodes.add(CassandraStorage.open(settings));  // a later start finds everything in place

      List<Row> tables = nodes.get(0).session().execute(
          "SELECT table_name, id FROM system_schema.tables WHERE keyspace_name = ?", settings.keyspace()).all();
      assertEquals(List.of("code_blobs", "code_chunks", "log_days", "logs"),
          tables.stream().map(r -> r.getString("table_name")).sorted().toList());
      for (Row table : tables) {
        assertEquals(CassandraSchema.tableId(settings.keyspace(), table.getString("table_name")), table.getUuid("id"),
            "the id every node asks for");
      }
      assertTrue(nodes.get(3).session().checkSchemaAgreement());
    } finally {
      starts.shutdownNow();
      for (int i = nodes.size() - 1; i >= 1; i--) {
        nodes.get(i).close();
      }
      if (!nodes.isEmpty()) {
        TestCassandra.dropAndClose(nodes.get(0));
      }
    }
  }

  @Test
  void anotherComponentsTablesGetTheStableIdToo() throws Exception {
    CassandraSettings settings = TestCassandra.settings(TestCassandra.uniqueKeyspace(CassandraStorageTest.class));
    String other = settings.keyspace() + "_other";
    // Statements shaped like the journal plugin's: one table with options, one without.
    List<String> statements = List.of(
        "CREATE KEYSPACE IF NOT EXISTS " + other
            + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};",
        "CREATE TABLE IF NOT EXISTS " + other + ".messages (\n  pid text,\n  nr bigint,\n"
            + "  PRIMARY KEY ((pid), nr))\n  WITH gc_grace_seconds = 864000\n  AND comment = 'x(y)';",
        "CREATE TABLE IF NOT EXISTS " + other + ".metadata (pid text PRIMARY KEY, deleted_to bigint)");
    CassandraStorage first = CassandraStorage.open(settings);
    CassandraStorage second = CassandraStorage.open(settings);
    try {
      CompletableFuture<Void> a = CompletableFuture.runAsync(() -> first.createSchema(statements));
      CompletableFuture<Void> b = CompletableFuture.runAsync(() -> second.createSchema(statements));
      a.get(90, TimeUnit.SECONDS);
      b.get(90, TimeUnit.SECONDS);
      first.createSchema(statements);   // idempotent
      List<Row> tables = first.session().execute(
          "SELECT table_name, id, gc_grace_seconds FROM system_schema.tables WHERE keyspace_name = ?", other).all();
      assertEquals(2, tables.size());
      for (Row table : tables) {
        assertEquals(CassandraSchema.tableId(other, table.getString("table_name")), table.getUuid("id"));
      }
      assertEquals(864000, tables.stream().filter(t -> t.getString("table_name").equals("messages")).findFirst()
          .orElseThrow().getInt("gc_grace_seconds"), "the statement's own options are kept");
    } finally {
      first.session().execute("DROP KEYSPACE IF EXISTS " + other);
      second.close();
      TestCassandra.dropAndClose(first);
    }
  }

  @Test
  void anUnreachableCassandraIsReportedWithItsContactPoints() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();  // free again once closed: nothing listens there
    }
    CassandraSettings nowhere = new CassandraSettings(List.of("127.0.0.1:" + closedPort), "datacenter1", "lamina",
        1, com.datastax.oss.driver.api.core.DefaultConsistencyLevel.QUORUM, Duration.ofSeconds(2),
        Duration.ofSeconds(2), 1 << 20, Duration.ofDays(1), Duration.ofSeconds(1), 8, 1 << 20);

    CassandraUnavailableException failure = assertThrows(CassandraUnavailableException.class,
        () -> CassandraStorage.open(nowhere));

    assertTrue(failure.getMessage().startsWith("Cassandra is not reachable at [127.0.0.1:" + closedPort + "]"),
        failure.getMessage());
    assertTrue(failure.getMessage().endsWith("127.0.0.1:" + closedPort + ": Connection refused"),
        "what that node answered: " + failure.getMessage());
  }

  @Test
  void reachableIsTrueWhileConnectedAndFalseOnceClosed() throws Exception {
    CassandraStorage storage = CassandraStorage.open(
        TestCassandra.settings(TestCassandra.uniqueKeyspace(CassandraStorageTest.class)));
    boolean whileOpen;
    try {
      whileOpen = storage.reachable().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } finally {
      TestCassandra.dropAndClose(storage);
    }

    assertTrue(whileOpen);
    assertFalse(storage.reachable(Duration.ofMillis(500)).toCompletableFuture().get(5, TimeUnit.SECONDS));
  }
}
