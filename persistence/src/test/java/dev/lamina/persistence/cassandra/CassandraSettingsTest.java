package dev.lamina.persistence.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** lamina.cassandra is read once, with defaults from reference.conf, and a bad value names its key. */
class CassandraSettingsTest {

  @Test
  void defaultsComeFromReferenceConf() {
    CassandraSettings settings = CassandraSettings.from(ConfigFactory.defaultReference());

    assertEquals(List.of("127.0.0.1:9142"), settings.contactPoints());
    assertEquals("datacenter1", settings.localDatacenter());
    assertEquals("lamina", settings.keyspace());
    assertEquals(1, settings.replicationFactor());
    assertEquals(DefaultConsistencyLevel.QUORUM, settings.consistency());
    assertEquals(1 << 20, settings.codeChunkBytes());
    assertEquals(Duration.ofDays(14), settings.logTtl());
    assertEquals(Duration.ofSeconds(2), settings.logSettle());
  }

  @Test
  void aBadValueIsRefusedWithItsKey() {
    assertNamesKey("lamina.cassandra.code-chunk-bytes", "lamina.cassandra.code-chunk-bytes = 32m");
    assertNamesKey("lamina.cassandra.consistency", "lamina.cassandra.consistency = MOSTLY");
    assertNamesKey("lamina.cassandra.contact-points", "lamina.cassandra.contact-points = [\"localhost\"]");
    assertNamesKey("lamina.cassandra.keyspace", "lamina.cassandra.keyspace = \"Lamina-Prod\"");
    assertNamesKey("lamina.cassandra.replication-factor", "lamina.cassandra.replication-factor = 0");
  }

  @Test
  void consistencyIsCaseInsensitive() {
    Config config = ConfigFactory.parseString("lamina.cassandra.consistency = local_quorum")
        .withFallback(ConfigFactory.defaultReference());

    assertEquals(DefaultConsistencyLevel.LOCAL_QUORUM, CassandraSettings.from(config).consistency());
  }

  private static void assertNamesKey(String key, String hocon) {
    Config config = ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference());
    ConfigException e = assertThrows(ConfigException.class, () -> CassandraSettings.from(config));
    assertTrue(e.getMessage().contains(key), e.getMessage());
  }
}
