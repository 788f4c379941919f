package dev.lamina.persistence.cassandra;

/**
 * Cassandra could not be reached, or did not let Lamina set up its keyspace, at start-up. The
 * message names the contact points and what went wrong with each; a node cannot run without its
 * storage, so this ends the start.
 */
public final class CassandraUnavailableException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  CassandraUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
