package dev.lamina.actors.layer;

import dev.lamina.actors.CborSerializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The resource-based policy of one layer version: who may use it. Lamina serves one account, so
 * the statements are kept and shown as Lambda shows them, not enforced.
 *
 * @param statements in the order they were added
 */
public record LayerPolicy(List<Statement> statements, String revisionId) implements CborSerializable {

  /**
   * One {@code lambda:GetLayerVersion} grant.
   *
   * @param principal an account id or {@code *}
   * @param organizationId the organization the grant is limited to, or null
   */
  public record Statement(String sid, String principal, String organizationId) implements CborSerializable {}

  public LayerPolicy {
    statements = List.copyOf(statements);
  }

  public Statement statement(String sid) {
    return statements.stream().filter(s -> s.sid().equals(sid)).findFirst().orElse(null);
  }

  LayerPolicy with(Statement statement, String revision) {
    List<Statement> all = new ArrayList<>(statements);
    all.add(statement);
    return new LayerPolicy(all, revision);
  }

  LayerPolicy without(String sid, String revision) {
    return new LayerPolicy(statements.stream().filter(s -> !s.sid().equals(sid)).toList(), revision);
  }
}
