package dev.lamina.persistence.cassandra;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * The keyspace and tables of the cluster profile's code and log storage, as CQL.
 *
 * <p>Every statement is {@code IF NOT EXISTS}, so creating the schema is idempotent. Several nodes
 * may run it at the same moment: a keyspace is identified by its name, and each table is created
 * {@code WITH ID} = a UUID derived from keyspace and table name, so concurrent creations on
 * different nodes describe the very same table. (Without a fixed id each node would mint its own,
 * and Cassandra 5.0 can end up with two ids for one table.)
 */
final class CassandraSchema {

  static final String CODE_BLOBS = "code_blobs";
  static final String CODE_CHUNKS = "code_chunks";
  static final String LOGS = "logs";
  static final String LOG_DAYS = "log_days";

  private CassandraSchema() {}

  static String keyspace(String keyspace, int replicationFactor) {
    return "CREATE KEYSPACE IF NOT EXISTS " + keyspace
        + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': " + replicationFactor + "}";
  }

  /** A table's name and its {@code CREATE TABLE IF NOT EXISTS} statement. */
  record Table(String name, String cql) {}

  /** The tables, in creation order. */
  static List<Table> tables(String keyspace) {
    return List.of(
        // One row per stored zip, written after all of its chunks: its presence means "complete".
        // chunk_bytes is recorded per blob, so changing code-chunk-bytes leaves older blobs readable.
        new Table(CODE_BLOBS, "CREATE TABLE IF NOT EXISTS " + keyspace + "." + CODE_BLOBS + " ("
            + "digest text PRIMARY KEY, "          // SHA-256 of the zip, lower-case hex
            + "size bigint, "                      // zip bytes
            + "chunk_bytes int, "                  // bytes per chunk (the last one holds the rest)
            + "chunks int, "
            + "stored_at timestamp"
            + ") WITH ID = " + tableId(keyspace, CODE_BLOBS)),
        // Each chunk is its own partition: a 50 MB zip is 50 small partitions spread over the
        // cluster, not one large partition on a single replica set.
        new Table(CODE_CHUNKS, "CREATE TABLE IF NOT EXISTS " + keyspace + "." + CODE_CHUNKS + " ("
            + "digest text, chunk_index int, data blob, "
            + "PRIMARY KEY ((digest, chunk_index))"
            + ") WITH ID = " + tableId(keyspace, CODE_CHUNKS)),
        // Log rows of one function and one UTC day, in timestamp order. at_us: microseconds since
        // the epoch, taken by the writing node when it sends the row; writer: a random id of the
        // writing store instance, so rows of two nodes with the same at_us do not overwrite each
        // other. Written with USING TTL; one-day compaction windows drop expired days whole.
        new Table(LOGS, "CREATE TABLE IF NOT EXISTS " + keyspace + "." + LOGS + " ("
            + "function text, day int, at_us bigint, writer bigint, lines text, "
            + "PRIMARY KEY ((function, day), at_us, writer)"
            + ") WITH CLUSTERING ORDER BY (at_us ASC, writer ASC)"
            + " AND compaction = {'class': 'TimeWindowCompactionStrategy',"
            + " 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}"
            // Rows are never deleted, only expire: tombstones need no long repair window.
            + " AND gc_grace_seconds = 10800"
            + " AND ID = " + tableId(keyspace, LOGS)),
        // The days on which a function has log rows, so a reader finds the oldest kept day and
        // skips empty days without probing every partition. Kept one day longer than the rows.
        new Table(LOG_DAYS, "CREATE TABLE IF NOT EXISTS " + keyspace + "." + LOG_DAYS + " ("
            + "function text, day int, "
            + "PRIMARY KEY (function, day)"
            + ") WITH CLUSTERING ORDER BY (day ASC) AND ID = " + tableId(keyspace, LOG_DAYS)));
  }

  private static final java.util.regex.Pattern CREATE_TABLE = java.util.regex.Pattern.compile(
      "(?is)\\s*CREATE\\s+TABLE\\s+IF\\s+NOT\\s+EXISTS\\s+([\\w\"]+)\\.([\\w\"]+).*");

  /**
   * Another component's {@code CREATE TABLE IF NOT EXISTS ks.t …} (e.g. the journal plugin's) with
   * the same stable id as Lamina's own tables; other statements unchanged.
   */
  static String withStableId(String cql) {
    String statement = cql.strip();
    if (statement.endsWith(";")) {
      statement = statement.substring(0, statement.length() - 1).strip();
    }
    java.util.regex.Matcher table = CREATE_TABLE.matcher(statement);
    if (!table.matches()) {
      return statement;
    }
    String id = tableId(table.group(1).replace("\"", ""), table.group(2).replace("\"", "")).toString();
    String afterColumns = statement.substring(endOfColumns(statement, table.end(2)) + 1);
    return statement + (afterColumns.toUpperCase(java.util.Locale.ROOT).contains("WITH") ? " AND ID = " : " WITH ID = ")
        + id;
  }

  /** The index of the parenthesis closing the column list that opens after {@code from}. */
  private static int endOfColumns(String statement, int from) {
    int depth = 0;
    boolean quoted = false;
    for (int i = statement.indexOf('(', from); i >= 0 && i < statement.length(); i++) {
      char c = statement.charAt(i);
      if (c == '\'') {
        quoted = !quoted;   // '' inside a string toggles twice: still quoted
      } else if (!quoted && c == '(') {
        depth++;
      } else if (!quoted && c == ')' && --depth == 0) {
        return i;
      }
    }
    throw new IllegalArgumentException("no column list in: " + statement);
  }

  /** The same id on every node for the same table; version 3 (name-based) UUID. */
  static UUID tableId(String keyspace, String table) {
    return UUID.nameUUIDFromBytes(("dev.lamina.persistence.cassandra/" + keyspace + "." + table)
        .getBytes(StandardCharsets.UTF_8));
  }
}
