package dev.lamina.persistence.journal;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;

/**
 * Creates the journal and snapshot tables of the embedded (JDBC/H2) profile when they do not
 * exist yet. Idempotent: safe at every start. Entities must not start before it completes.
 */
public final class JournalSchema {

  private JournalSchema() {}

  public static CompletionStage<Done> ensureJdbc(ActorSystem<?> system) {
    return SchemaUtils.createIfNotExists(system);
  }
}
