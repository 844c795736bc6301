package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Properties;

import org.junit.Rule;
import org.junit.Test;
import org.junit.function.ThrowingRunnable;

public class ClusterTest {

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    @Test(timeout = 30_000)
    public void anEmbeddedNodeIsItsOnlyMember() {
        Cluster cluster = nodes.start();
        assertFalse(cluster.nodeName().isEmpty());
        List<ClusterMember> members = cluster.members();
        assertEquals(1, members.size());
        ClusterMember self = members.get(0);
        assertEquals(cluster.nodeName(), self.name());
        assertTrue(self.isLocal());
        assertEquals("unversioned", self.appVersion());
        assertTrue(self.address(), self.address().startsWith("127.0.0.1:"));
        assertNotEquals("127.0.0.1:0", self.address());
    }

    @Test(timeout = 30_000)
    public void aNodeWithoutASecretDoesNotStart() {
        ClusterConfig config = ClusterConfig.builder().clusterName("no-secret-" + System.nanoTime()).build();
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> Cluster.start(config));
        assertTrue(refused.getMessage(), refused.getMessage().startsWith("cluster.secret: is required"));
    }

    @Test(timeout = 30_000)
    public void statusShowsThisNodeAlive() {
        Cluster cluster = nodes.start();
        ClusterStatus status = cluster.status();
        assertEquals("ALIVE", status.memberStates().get(cluster.nodeName()));
        assertFalse(status.role().isEmpty());
        assertTrue(status.term() >= 0);
        assertTrue(status.toString(), status.toString().contains(cluster.nodeName()));
    }

    @Test(timeout = 30_000)
    public void startedNodesAreNamedFromTheirConfig() {
        try (Cluster cluster = Cluster.start(ClusterConfig.builder().clusterName("named-" + System.nanoTime())
                .nodeName("alpha").appVersion("2.7.0").secret("a secret of sixteen bytes or more").build())) {
            assertEquals("alpha", cluster.nodeName());
            assertEquals("2.7.0", cluster.members().get(0).appVersion());
        }
    }

    @Test(timeout = 30_000)
    public void embeddedNodesNeverJoinEachOther() {
        Cluster a = nodes.start();
        Cluster b = nodes.start();
        assertEquals(1, a.members().size());
        assertEquals(1, b.members().size());
        assertNotEquals(a.nodeName(), b.nodeName());
    }

    @Test(timeout = 30_000)
    public void currentIsTheLastStartedNodeNotClosed() {
        assertThrows(IllegalStateException.class, Cluster::current);
        Cluster a = nodes.start();
        assertSame(a, Cluster.current());
        Cluster b = nodes.start();
        assertSame(b, Cluster.current());
        b.close();
        assertSame(a, Cluster.current());
        a.close();
        IllegalStateException none = assertThrows(IllegalStateException.class, Cluster::current);
        assertTrue(none.getMessage(), none.getMessage().contains("no cluster node is open"));
    }

    @Test(timeout = 30_000)
    public void closingAnOlderNodeKeepsTheCurrentOne() {
        Cluster a = nodes.start();
        Cluster b = nodes.start();
        Cluster c = nodes.start();
        a.close();
        assertSame(c, Cluster.current());
        c.close();
        assertSame(b, Cluster.current());
    }

    @Test(timeout = 30_000)
    public void closeIsIdempotent() {
        Cluster cluster = nodes.start();
        cluster.close();
        cluster.close();
    }

    @Test(timeout = 30_000)
    public void callsOnAClosedNodeThrowClusterException() {
        Cluster cluster = nodes.start();
        String name = cluster.nodeName();
        cluster.close();
        assertEquals(name, cluster.nodeName());
        assertClosed(name, cluster::members);
        assertClosed(name, cluster::status);
        assertClosed(name, () -> cluster.lock("l"));
        assertClosed(name, cluster::scheduler);
        assertClosed(name, () -> cluster.queue("q"));
        assertClosed(name, () -> cluster.cache("c"));
        assertClosed(name, () -> cluster.cache("c", CacheOptions.defaults()));
        assertClosed(name, () -> cluster.onPanic(reason -> { }));
    }

    @Test(timeout = 30_000)
    public void propertiesWithoutClusterKeysStartAnEmbeddedNode() {
        Properties runtime = new Properties();
        runtime.setProperty("connection.url", "jdbc:h2:mem:x");
        runtime.setProperty("cluster.seeds", "");
        runtime.setProperty("cluster.serialization.allow", "com.example.*");
        Cluster cluster = nodes.closedAfter(Cluster.startFromProperties(runtime));
        assertEquals(1, cluster.members().size());
        String address = cluster.members().get(0).address();
        assertTrue(address, address.startsWith("127.0.0.1:"));
    }

    @Test(timeout = 30_000)
    public void propertiesWithClusterKeysButNoSecretNameTheSecret() {
        Properties runtime = new Properties();
        runtime.setProperty("cluster.name", "forgot-the-secret");
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> Cluster.startFromProperties(runtime));
        assertTrue(refused.getMessage(), refused.getMessage().startsWith("cluster.secret: is required"));
    }

    @Test(timeout = 60_000)
    public void nodesStartedFromPropertiesFormOneCluster() {
        Properties first = new Properties();
        first.setProperty("cluster.name", "from-properties-" + System.nanoTime());
        first.setProperty("cluster.bind", "127.0.0.1:0");
        first.setProperty("cluster.secret", "a secret of sixteen bytes or more");
        Cluster a = nodes.closedAfter(Cluster.startFromProperties(first));
        Properties second = new Properties();
        second.putAll(first);
        second.setProperty("cluster.seeds", a.members().get(0).address());
        Cluster b = nodes.closedAfter(Cluster.startFromProperties(second));
        assertEquals(2, b.members().size());
    }

    @Test
    public void startRefusesNoConfig() {
        assertThrows(NullPointerException.class, () -> Cluster.start(null));
    }

    static void assertClosed(String name, ThrowingRunnable call) {
        ClusterException e = assertThrows(ClusterException.class, call);
        assertEquals("node '" + name + "' is closed", e.getMessage());
    }
}
