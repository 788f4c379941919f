package dev.lamina.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.lamina.node.api.NodeSettings;
import dev.lamina.persistence.cassandra.CassandraCodeStore;
import dev.lamina.persistence.cassandra.CassandraLogStore;
import dev.lamina.persistence.cassandra.CassandraSettings;
import dev.lamina.persistence.cassandra.CassandraStorage;
import dev.lamina.persistence.code.CodeStore;
import dev.lamina.persistence.code.local.LocalCodeStore;
import dev.lamina.persistence.journal.JournalSchema;
import dev.lamina.persistence.logs.LogStore;
import dev.lamina.persistence.logs.local.FileLogStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.cassandra.KeyspaceAndTableStatements;
import org.apache.pekko.persistence.cassandra.PluginSettings;

/**
 * Where a node keeps what outlives it, per profile. Embedded: an H2 journal, code and logs as
 * files, all under the data directory. Cluster: journal, code blobs and logs in Cassandra (code
 * extracted into a local cache under the data directory), shared by every node.
 */
final class NodeStorage implements AutoCloseable {

  private final String journal;
  private final CodeStore code;
  private final LogStore logs;
  private final CassandraStorage cassandra;   // null when embedded

  private NodeStorage(String journal, CodeStore code, LogStore logs, CassandraStorage cassandra) {
    this.journal = journal;
    this.code = code;
    this.logs = logs;
    this.cassandra = cassandra;
  }

  /** The embedded profile's journal URL: an H2 file under the data directory (options: lamina.journal.h2-options). */
  static Config embeddedJournal(Config config, Path dataDir) {
    String h2Options = config.getString("lamina.journal.h2-options");
    return config.withValue("pekko-persistence-jdbc.shared-databases.slick.db.url",
        ConfigValueFactory.fromAnyRef("jdbc:h2:file:" + dataDir.resolve("journal/lamina")
            + (h2Options.isEmpty() ? "" : ";" + h2Options)));
  }

  static NodeStorage embedded(Config config, Path dataDir, NodeSettings settings) throws IOException {
    return new NodeStorage("jdbc-h2",
        new LocalCodeStore(dataDir.resolve("code"), settings.maxUnzippedBytes()),
        new FileLogStore(dataDir.resolve("logs"), config.getBytes("lamina.logs.max-file-bytes")), null);
  }

  /** Connects to Cassandra (failing with the contact points when it cannot) and prepares the schema. */
  static NodeStorage cassandra(Config config, Path dataDir, NodeSettings settings) throws IOException {
    CassandraStorage cassandra = CassandraStorage.open(CassandraSettings.from(config));
    try {
      return new NodeStorage("cassandra",
          new CassandraCodeStore(cassandra, dataDir.resolve("code"), settings.maxUnzippedBytes()),
          new CassandraLogStore(cassandra), cassandra);
    } catch (RuntimeException | IOException e) {
      cassandra.close();
      throw e;
    }
  }

  /**
   * Completes when persistent entities may start: the journal's and snapshot store's tables exist.
   * On Cassandra the plugin's own statements run here, with stable table ids, so that nodes starting
   * together agree on the schema (the plugin's autocreate is off in the cluster profile).
   */
  CompletionStage<Done> prepareJournal(ActorSystem<?> system, java.util.concurrent.Executor blocking) {
    if (cassandra == null) {
      return JournalSchema.ensureJdbc(system);
    }
    KeyspaceAndTableStatements plugin = new KeyspaceAndTableStatements(system, "pekko.persistence.cassandra",
        PluginSettings.apply(Adapter.toClassic(system)));
    List<String> statements = new ArrayList<>();
    statements.add(plugin.createJournalKeyspaceStatement());
    statements.addAll(plugin.getCreateJournalTablesStatements());
    statements.add(plugin.createSnapshotKeyspaceStatement());
    statements.addAll(plugin.getCreateSnapshotTablesStatements());
    return CompletableFuture.supplyAsync(() -> {
      cassandra.createSchema(statements);
      return Done.getInstance();
    }, blocking);
  }

  CodeStore code() {
    return code;
  }

  LogStore logs() {
    return logs;
  }

  /** True when the shared store answers (always true for local files). */
  CompletionStage<Boolean> reachable() {
    return cassandra == null ? CompletableFuture.completedFuture(true) : cassandra.reachable();
  }

  /** What each kind of data is kept in, for /health. */
  Map<String, String> describe() {
    return cassandra == null
        ? Map.of("journal", journal, "code", "local-files", "logs", "local-files")
        : Map.of("journal", journal, "code", "cassandra", "logs", "cassandra",
            "contactPoints", String.join(",", cassandra.settings().contactPoints()));
  }

  @Override
  public void close() {
    logs.close();
    if (cassandra != null) {
      cassandra.close();
    }
  }
}
