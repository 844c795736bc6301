package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.Optional;
import java.util.Properties;

import org.junit.Test;
import org.junit.function.ThrowingRunnable;

public class ClusterConfigTest {

    private static final String SECRET = "0123456789abcdef";

    @Test
    public void defaults() {
        ClusterConfig config = ClusterConfig.builder().build();
        assertEquals("openmrs", config.clusterName());
        assertEquals(Optional.empty(), config.nodeName());
        assertEquals("127.0.0.1:0", config.bind());
        assertEquals(Collections.emptyList(), config.seeds());
        assertEquals(Optional.empty(), config.secret());
        assertEquals(Optional.empty(), config.dataDir());
        assertEquals("unversioned", config.appVersion());
        assertEquals(Duration.ofSeconds(30), config.joinTimeout());
        assertEquals(3, config.raftVoters());
        assertEquals(Collections.emptyList(), config.serializationAllow());
        assertEquals(config, ClusterConfig.fromProperties(new Properties()));
    }

    @Test
    public void everySettingIsKept() {
        ClusterConfig config = full();
        assertEquals("prod", config.clusterName());
        assertEquals(Optional.of("a"), config.nodeName());
        assertEquals("10.1.2.3:7000", config.bind());
        assertEquals(Arrays.asList("10.1.2.3:7000", "db.example.org:7001", "[fe80::1]:7002"), config.seeds());
        assertEquals(Optional.of(SECRET), config.secret());
        assertEquals(Optional.of(Paths.get("/var/lib/openmrs/cluster")), config.dataDir());
        assertEquals("2.7.0", config.appVersion());
        assertEquals(Duration.ofMillis(1500), config.joinTimeout());
        assertEquals(5, config.raftVoters());
        assertEquals(Arrays.asList("org.acme.*", "com.example.Dto", "com.example.Outer$Inner"),
                config.serializationAllow());
    }

    @Test
    public void propertiesRoundTrip() {
        ClusterConfig config = full();
        Properties properties = config.toProperties();
        assertEquals("10.1.2.3:7000,db.example.org:7001,[fe80::1]:7002", properties.getProperty("cluster.seeds"));
        assertEquals("1500", properties.getProperty("cluster.join.timeout.ms"));
        assertEquals("5", properties.getProperty("cluster.raft.voters"));
        assertEquals("org.acme.*,com.example.Dto,com.example.Outer$Inner",
                properties.getProperty("cluster.serialization.allow"));
        assertEquals(config, ClusterConfig.fromProperties(properties));
        assertEquals(config.hashCode(), ClusterConfig.fromProperties(properties).hashCode());
        ClusterConfig defaults = ClusterConfig.builder().build();
        assertEquals(defaults, ClusterConfig.fromProperties(defaults.toProperties()));
    }

    @Test
    public void fromPropertiesReadsEveryKeyAndIgnoresOtherKeys() {
        Properties p = new Properties();
        p.setProperty("cluster.name", " prod ");
        p.setProperty("cluster.node.name", "a");
        p.setProperty("cluster.bind", "10.0.0.5:7000");
        p.setProperty("cluster.seeds", "h1:7000, h2:7000,");
        p.setProperty("cluster.secret", SECRET);
        p.setProperty("cluster.data.dir", "/tmp/x");
        p.setProperty("cluster.app.version", "2.7.0");
        p.setProperty("cluster.join.timeout.ms", "2500");
        p.setProperty("cluster.raft.voters", " 1 ");
        p.setProperty("cluster.serialization.allow", " org.acme.* , com.example.Dto,");
        p.setProperty("connection.url", "jdbc:mysql://db/openmrs");
        ClusterConfig config = ClusterConfig.fromProperties(p);
        assertEquals("prod", config.clusterName());
        assertEquals(Optional.of("a"), config.nodeName());
        assertEquals("10.0.0.5:7000", config.bind());
        assertEquals(Arrays.asList("h1:7000", "h2:7000"), config.seeds());
        assertEquals(Optional.of(SECRET), config.secret());
        assertEquals(Optional.of(Paths.get("/tmp/x")), config.dataDir());
        assertEquals("2.7.0", config.appVersion());
        assertEquals(Duration.ofMillis(2500), config.joinTimeout());
        assertEquals(1, config.raftVoters());
        assertEquals(Arrays.asList("org.acme.*", "com.example.Dto"), config.serializationAllow());
    }

    @Test
    public void emptyOptionalPropertiesCountAsUnset() {
        Properties p = new Properties();
        p.setProperty("cluster.node.name", "");
        p.setProperty("cluster.seeds", " ");
        p.setProperty("cluster.secret", "");
        p.setProperty("cluster.data.dir", "");
        p.setProperty("cluster.serialization.allow", " ");
        assertEquals(ClusterConfig.builder().build(), ClusterConfig.fromProperties(p));
    }

    @Test
    public void unknownClusterKeyIsNamed() {
        Properties p = new Properties();
        p.setProperty("cluster.bnd", "127.0.0.1:7000");
        assertRejected("cluster.bnd", () -> ClusterConfig.fromProperties(p));
    }

    @Test
    public void badClusterName() {
        assertRejected("cluster.name", () -> ClusterConfig.builder().clusterName("").build());
        assertRejected("cluster.name", () -> ClusterConfig.builder().clusterName(null).build());
        assertRejected("cluster.name", () -> ClusterConfig.builder().clusterName("a b").build());
        assertRejected("cluster.name", () -> ClusterConfig.builder().clusterName("a,b").build());
        assertRejected("cluster.name", () -> fromProperty("cluster.name", ""));
    }

    @Test
    public void badNodeName() {
        assertRejected("cluster.node.name", () -> ClusterConfig.builder().nodeName("").build());
        assertRejected("cluster.node.name", () -> ClusterConfig.builder().nodeName("node\t1").build());
        assertRejected("cluster.node.name", () -> fromProperty("cluster.node.name", "a,b"));
    }

    @Test
    public void badBind() {
        for (String bad : new String[] {"", "127.0.0.1", ":7000", "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:65536",
                "127.0.0.1:x", "::1:7000", "[]:7000", "my host:7000", "0.0.0.0:7000", "[::]:7000"}) {
            assertRejected("cluster.bind", () -> ClusterConfig.builder().bind(bad).secret(SECRET).build());
        }
        assertRejected("cluster.bind", () -> ClusterConfig.builder().bind(null).build());
        assertRejected("cluster.bind", () -> fromProperty("cluster.bind", "localhost"));
    }

    @Test
    public void goodBind() {
        for (String good : new String[] {"127.0.0.1:0", "127.0.0.1:65535", "localhost:7000", "[::1]:7000"}) {
            assertEquals(good, ClusterConfig.builder().bind(good).build().bind());
        }
    }

    @Test
    public void badSeeds() {
        for (String bad : new String[] {"h:0", "h", "h:65536", ":7000", ""}) {
            assertRejected("cluster.seeds", () -> ClusterConfig.builder().seeds("ok:7000", bad).build());
        }
        assertRejected("cluster.seeds", () -> ClusterConfig.builder().seeds((String) null).build());
        assertRejected("cluster.seeds", () -> fromProperty("cluster.seeds", "h1:7000,h2"));
    }

    @Test
    public void secretIsRequiredUnlessBindIsLoopback() {
        for (String loopback : new String[] {"127.0.0.1:0", "127.1.2.3:7000", "localhost:7000", "LOCALHOST:7000",
                "[::1]:7000"}) {
            assertEquals(Optional.empty(), ClusterConfig.builder().bind(loopback).build().secret());
        }
        for (String open : new String[] {"10.0.0.5:7000", "db.example.org:7000", "[fe80::1]:7000",
                "128.0.0.1:7000"}) {
            assertRejected("cluster.secret", () -> ClusterConfig.builder().bind(open).build());
            assertEquals(open, ClusterConfig.builder().bind(open).secret(SECRET).build().bind());
        }
    }

    @Test
    public void shortSecret() {
        assertRejected("cluster.secret", () -> ClusterConfig.builder().secret("too-short").build());
        assertRejected("cluster.secret", () -> fromProperty("cluster.secret", "0123456789abcde"));
        // Counted in bytes of UTF-8, as the key derivation (and the native side) sees them.
        assertRejected("cluster.secret", () -> ClusterConfig.builder().secret("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9").build());
        assertEquals(8, ClusterConfig.builder().secret("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9").build()
                .secret().get().length());
    }

    @Test
    public void badDataDir() {
        assertRejected("cluster.data.dir", () -> fromProperty("cluster.data.dir", "bad\u0000path"));
    }

    @Test
    public void badAppVersion() {
        assertRejected("cluster.app.version", () -> ClusterConfig.builder().appVersion("").build());
        assertRejected("cluster.app.version", () -> ClusterConfig.builder().appVersion("2.7 beta").build());
        assertRejected("cluster.app.version", () -> fromProperty("cluster.app.version", ""));
    }

    @Test
    public void badJoinTimeout() {
        assertRejected("cluster.join.timeout.ms", () -> ClusterConfig.builder().joinTimeout(Duration.ZERO).build());
        assertRejected("cluster.join.timeout.ms",
                () -> ClusterConfig.builder().joinTimeout(Duration.ofMillis(-5)).build());
        assertRejected("cluster.join.timeout.ms", () -> ClusterConfig.builder().joinTimeout(null).build());
        assertRejected("cluster.join.timeout.ms", () -> fromProperty("cluster.join.timeout.ms", "0"));
        IllegalArgumentException e = assertRejected("cluster.join.timeout.ms",
                () -> fromProperty("cluster.join.timeout.ms", "abc"));
        assertEquals("cluster.join.timeout.ms: must be a positive number of milliseconds, got 'abc'", e.getMessage());
    }

    @Test
    public void raftVotersFromOneToNine() {
        assertEquals(1, ClusterConfig.builder().raftVoters(1).build().raftVoters());
        assertEquals(9, ClusterConfig.builder().raftVoters(9).build().raftVoters());
        assertRejected("cluster.raft.voters", () -> ClusterConfig.builder().raftVoters(0).build());
        assertRejected("cluster.raft.voters", () -> ClusterConfig.builder().raftVoters(10).build());
        assertRejected("cluster.raft.voters", () -> fromProperty("cluster.raft.voters", "-1"));
        IllegalArgumentException e = assertRejected("cluster.raft.voters",
                () -> fromProperty("cluster.raft.voters", "three"));
        assertEquals("cluster.raft.voters: must be a whole number from 1 to 9, got 'three'", e.getMessage());
    }

    @Test
    public void badSerializationAllowEntriesAreNamed() {
        for (String bad : new String[] {"*", ".*", "org.acme.", "org..acme.*", "org.acme.**", "org acme.Dto",
                "1org.Dto", "org.acme.*.Dto", "org/acme/Dto", ""}) {
            IllegalArgumentException e = assertRejected("cluster.serialization.allow",
                    () -> ClusterConfig.builder().serializationAllow("org.ok.*", bad).build());
            assertTrue(e.getMessage(), e.getMessage().endsWith("got '" + bad + "'"));
        }
        assertRejected("cluster.serialization.allow", () -> fromProperty("cluster.serialization.allow", "org.ok.*,*"));
        assertRejected("cluster.serialization.allow", () -> ClusterConfig.builder().serializationAllow((String) null)
                .build());
        assertEquals(Collections.emptyList(), ClusterConfig.builder().serializationAllow((String[]) null).build()
                .serializationAllow());
    }

    @Test
    public void toStringHidesTheSecret() {
        String text = full().toString();
        assertFalse(text, text.contains(SECRET));
        assertTrue(text, text.contains("cluster.bind=10.1.2.3:7000"));
    }

    private static ClusterConfig full() {
        return ClusterConfig.builder()
                .clusterName("prod")
                .nodeName("a")
                .bind("10.1.2.3:7000")
                .seeds("10.1.2.3:7000", "db.example.org:7001", "[fe80::1]:7002")
                .secret(SECRET)
                .dataDir(Paths.get("/var/lib/openmrs/cluster"))
                .appVersion("2.7.0")
                .joinTimeout(Duration.ofMillis(1500))
                .raftVoters(5)
                .serializationAllow("org.acme.*", "com.example.Dto", "com.example.Outer$Inner")
                .build();
    }

    private static ClusterConfig fromProperty(String key, String value) {
        Properties p = new Properties();
        p.setProperty(key, value);
        return ClusterConfig.fromProperties(p);
    }

    private static IllegalArgumentException assertRejected(String key, ThrowingRunnable build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        assertTrue("expected the message to start with '" + key + ":' but got: " + e.getMessage(),
                e.getMessage().startsWith(key + ":"));
        return e;
    }
}
