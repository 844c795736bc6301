package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.Arrays;

import org.junit.Rule;
import org.junit.Test;
import org.junit.function.ThrowingRunnable;

/**
 * The documented limits on names and payloads (docs/configuration.md, "Limits"): a call past one
 * throws IllegalArgumentException naming the limit, and nothing of it reaches the cluster.
 */
public class LimitsTest {

    private static final String NAME_LIMIT = "over the limit of 256 bytes";
    private static final String NAME_RULE = "names are 1 to 256 bytes of UTF-8 without control characters";

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    @Test(timeout = 30_000)
    public void badLockNamesAreRefusedWhereTheyAreGiven() {
        Cluster cluster = nodes.start();
        assertRefused("lock name is empty", () -> cluster.lock(""));
        char[] huge = new char[17 * 1024 * 1024];
        Arrays.fill(huge, 'x');
        assertRefused("lock name of 17825792 bytes is " + NAME_LIMIT, () -> cluster.lock(new String(huge)));
        assertRefused("lock name \"a\\0b\" contains the control character U+0000 at byte 1",
                () -> cluster.lock("a\0b"));
        assertRefused("lock name \"orders\\n\" contains the control character U+000A at byte 6",
                () -> cluster.lock("orders\n"));
        char[] longest = new char[256];
        Arrays.fill(longest, 'l');
        ClusterLock lock = cluster.lock(new String(longest));
        assertTrue(lock.tryLock());
        lock.unlock();
    }

    @Test(timeout = 30_000)
    public void badNamesOfTheOtherKindsAreRefused() {
        Cluster cluster = nodes.start();
        assertRefused("queue name \"hl7\\r\" contains the control character U+000D", () -> cluster.queue("hl7\r"));
        assertRefused("cache name is empty", () -> cluster.cache(""));
        assertRefused("topic name \"a\\tb\" contains the control character U+0009",
                () -> cluster.events().publish("a\tb", "m"));
        assertRefused("topic name \"a\\nb\"", () -> cluster.events().subscribe("a\nb", message -> { }));
        assertRefused("schedule name \"nightly\\0\"",
                () -> cluster.scheduler().scheduleSingleton("nightly\0", Duration.ofSeconds(1), () -> { }));
    }

    @Test(timeout = 60_000)
    public void aQueueItemOverTheLimitIsRefusedAndNotOffered() {
        Cluster cluster = nodes.start();
        ClusterQueue<byte[]> queue = cluster.queue("hl7");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> queue.offer(new byte[20 * 1024 * 1024]));
        assertTrue(e.getMessage(), e.getMessage().matches(
                "queue item of \\d+ bytes is over the limit of 1048576 bytes \\(queue 'hl7'\\)"));
        assertEquals(0, queue.size());
        queue.offer(new byte[1000 * 1024]);
        assertEquals(1, queue.size());
    }

    @Test(timeout = 30_000)
    public void anEventOverTheLimitIsRefusedAndNotDelivered() {
        Cluster cluster = nodes.start();
        ClusterEvents events = cluster.events();
        java.util.List<byte[]> got = new java.util.concurrent.CopyOnWriteArrayList<>();
        events.<byte[]>subscribe("scans", got::add);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> events.publish("scans", new byte[2 * 1024 * 1024]));
        assertTrue(e.getMessage(), e.getMessage().matches(
                "event payload of \\d+ bytes is over the limit of 1048576 bytes \\(topic 'scans'\\)"));
        events.publish("scans", new byte[] {1});
        EventsTest.await(() -> got.size() == 1);
        assertEquals(1, got.get(0).length);
    }

    @Test(timeout = 30_000)
    public void cacheKeysAndValuesOverTheLimitAreRefusedAndNotStored() {
        Cluster cluster = nodes.start();
        ClusterCache<String, byte[]> cache = cluster.cache("scans");
        IllegalArgumentException value = assertThrows(IllegalArgumentException.class,
                () -> cache.put("k", new byte[5 * 1024 * 1024]));
        assertTrue(value.getMessage(), value.getMessage().matches(
                "cache value of \\d+ bytes is over the limit of 4194304 bytes \\(cache 'scans'\\)"));
        assertFalse(cache.containsKey("k"));
        char[] key = new char[70 * 1024];
        Arrays.fill(key, 'k');
        IllegalArgumentException longKey = assertThrows(IllegalArgumentException.class,
                () -> cache.put(new String(key), new byte[1]));
        assertTrue(longKey.getMessage(), longKey.getMessage().matches(
                "cache key of \\d+ bytes is over the limit of 65536 bytes \\(cache 'scans'\\)"));
        assertEquals(0, cache.size());
    }

    private static void assertRefused(String start, ThrowingRunnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage(), e.getMessage().startsWith(start));
        assertTrue(e.getMessage(), e.getMessage().endsWith(NAME_RULE));
    }
}
