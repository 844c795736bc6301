package org.openmrs.module.cluster;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;

/** The ClusterCache contract on one embedded node: the map operations, expiry, the size bound, codecs, options. */
public class ClusterCacheTest {

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    private Cluster cluster;

    @Before
    public void startNode() {
        cluster = nodes.start();
    }

    @Test(timeout = 30_000)
    public void putGetRemoveClearContainsAndSize() {
        ClusterCache<String, String> cache = cluster.cache("concepts");
        assertEquals("concepts", cache.name());
        assertNull(cache.get("a"));
        assertFalse(cache.containsKey("a"));
        assertEquals(0, cache.size());
        cache.put("a", "1");
        cache.put("b", "2");
        assertEquals("1", cache.get("a"));
        assertTrue(cache.containsKey("a"));
        assertEquals(2, cache.size());
        cache.put("a", "one");
        assertEquals("a put is visible to this node's next get at once", "one", cache.get("a"));
        cache.remove("a");
        assertNull(cache.get("a"));
        assertFalse(cache.containsKey("a"));
        assertEquals(1, cache.size());
        cache.remove("never there");
        cache.clear();
        assertNull(cache.get("b"));
        assertEquals(0, cache.size());
        cache.put("c", "3");
        assertEquals("a write after a clear stays", "3", cache.get("c"));
    }

    @Test(timeout = 30_000)
    public void keysAreTheUnexpiredOnesThisNodeHolds() throws InterruptedException {
        ClusterCache<String, String> cache = cluster.cache("keyed");
        assertEquals(Collections.emptySet(), cache.keys());
        cache.put("a", "1");
        cache.put("b", "2");
        cache.put("c", "3");
        cache.remove("b");
        assertEquals(new HashSet<>(Arrays.asList("a", "c")), cache.keys());
        ClusterCache<String, String> expiring = cluster.cache("keyed-briefly",
                CacheOptions.builder().timeToLive(Duration.ofMillis(50)).build());
        expiring.put("x", "1");
        assertEquals(Collections.singleton("x"), expiring.keys());
        Thread.sleep(100);
        assertEquals("an expired entry not yet swept is no key", Collections.emptySet(), expiring.keys());
    }

    @Test(timeout = 30_000)
    public void getAllAndPutAllReadAndWriteManyEntriesAsGetsAndPutsWould() {
        ClusterCache<String, String> cache = cluster.cache("many");
        Map<String, String> entries = new HashMap<>();
        for (int i = 0; i < 100; i++) {
            entries.put("k" + i, "v" + i);
        }
        cache.putAll(entries);
        assertEquals(100, cache.size());
        assertEquals("v7", cache.get("k7"));
        cache.put("k7", "seven");
        List<String> asked = new ArrayList<>(entries.keySet());
        asked.add("absent");
        Map<String, String> expected = new HashMap<>(entries);
        expected.put("k7", "seven");
        assertEquals("near-cached and stored values alike, absent keys left out", expected, cache.getAll(asked));
        assertEquals(Collections.emptyMap(), cache.getAll(Collections.<String>emptyList()));
        assertThrows(NullPointerException.class, () -> cache.putAll(Collections.singletonMap("k", null)));
        assertNull("a refused batch stores nothing", cache.get("k"));
    }

    @Test(timeout = 30_000)
    public void statsCountHitsMissesAndEvictionsExactly() {
        ClusterCache<String, String> cache = cluster.cache("counted", CacheOptions.builder().maxEntries(10).build());
        assertEquals("CacheStats{hits=0, misses=0, evictions=0}", cache.stats().toString());
        cache.put("a", "1");
        cache.get("a");
        cache.get("a");
        cache.get("absent");
        cache.getAll(Arrays.asList("a", "absent", "other", "a"));
        cache.containsKey("a");
        CacheStats stats = cache.stats();
        assertEquals("two gets and one key of getAll found a value", 3, stats.hits());
        assertEquals("one get and two keys of getAll did not", 3, stats.misses());
        for (int i = 0; i < 25; i++) {
            cache.put("e" + i, "x");
        }
        assertEquals("26 entries into a bound of 10", 16, cache.stats().evictions());
    }

    @Test(timeout = 30_000)
    public void getWithALoaderLoadsOnceAmongContendingThreadsAndStoresNoNull() throws Exception {
        ClusterCache<String, String> cache = cluster.cache("loaded");
        AtomicInteger loads = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        List<String> values = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 8; i++) {
            Thread thread = new Thread(() -> values.add(cache.get("k", key -> {
                loads.incrementAndGet();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
                return "loaded " + key;
            })));
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join(20_000);
        }
        assertEquals(1, loads.get());
        assertEquals(Collections.nCopies(8, "loaded k"), values);
        assertNull(cache.get("n", key -> null));
        assertFalse("a null load is not stored", cache.containsKey("n"));
        assertEquals("found without loading", "loaded k", cache.get("k", key -> "again"));
    }

    @Test(timeout = 30_000)
    public void oneInstancePerNameAndOptionsThatDifferAreRefused() {
        CacheOptions bounded = CacheOptions.builder().maxEntries(5).build();
        ClusterCache<String, String> cache = cluster.cache("users", bounded);
        assertSame(cache, cluster.cache("users", CacheOptions.builder().maxEntries(5).build()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cluster.cache("users"));
        assertTrue(e.getMessage(), e.getMessage().contains("'users'"));
        assertTrue(e.getMessage(), e.getMessage().contains(bounded.toString()));
        assertTrue(e.getMessage(), e.getMessage().contains(CacheOptions.defaults().toString()));
        assertTrue("other names are other caches", cluster.cache("roles") != (Object) cache);
    }

    @Test(timeout = 30_000)
    public void nullKeysAndValuesAreRefusedAsConcurrentHashMapDoes() {
        ClusterCache<String, String> cache = cluster.cache("c");
        assertThrows(NullPointerException.class, () -> cache.get(null));
        assertThrows(NullPointerException.class, () -> cache.put(null, "v"));
        assertThrows(NullPointerException.class, () -> cache.put("k", null));
        assertThrows(NullPointerException.class, () -> cache.remove(null));
        assertThrows(NullPointerException.class, () -> cache.containsKey(null));
        assertThrows(NullPointerException.class, () -> cluster.cache(null));
        assertThrows(NullPointerException.class, () -> cluster.cache("c", null));
    }

    @Test(timeout = 30_000)
    public void theDefaultCodecCarriesCommonTypesAndSerializables() {
        ClusterCache<Object, Object> cache = cluster.cache("mixed");
        UUID uuid = UUID.randomUUID();
        List<Object> keys = Arrays.asList("s", 1, 1L, true, uuid, new DefaultCodecTest.Point(1, 2));
        List<Object> values = Arrays.asList("été", 2, Long.MAX_VALUE, false, UUID.randomUUID(),
                new ArrayList<>(Arrays.asList("x", new DefaultCodecTest.Point(3, 4))));
        for (int i = 0; i < keys.size(); i++) {
            cache.put(keys.get(i), values.get(i));
        }
        assertEquals("1 and 1L are different keys", keys.size(), cache.size());
        for (int i = 0; i < keys.size(); i++) {
            assertEquals(values.get(i), cache.get(keys.get(i)));
            assertEquals(values.get(i), cache.get(keys.get(i)));
        }
        cache.put(new byte[] {1, 2}, new byte[] {3, 4});
        assertArrayEquals("an array key is found by its contents", new byte[] {3, 4}, (byte[]) cache.get(new byte[] {1, 2}));
    }

    @Test(timeout = 30_000)
    public void whatIsNotSerializableIsRefusedNamingTheClassAndTheCache() {
        ClusterCache<Object, Object> cache = cluster.cache("strict");
        IllegalArgumentException value = assertThrows(IllegalArgumentException.class, () -> cache.put("k", new Thread()));
        assertTrue(value.getMessage(), value.getMessage().contains("java.lang.Thread"));
        assertTrue(value.getMessage(), value.getMessage().contains("a value of cache 'strict'"));
        IllegalArgumentException key = assertThrows(IllegalArgumentException.class, () -> cache.get(new Object()));
        assertTrue(key.getMessage(), key.getMessage().contains("a key of cache 'strict'"));
        assertEquals(0, cache.size());
    }

    @Test(timeout = 30_000)
    public void aHitServesTheDecodedCopyNotTheCallersObjectAndDecodesOnce() {
        CountingCodec codec = new CountingCodec();
        ClusterCache<String, List<String>> cache = cluster.cache("near", CacheOptions.builder().codec(codec).build());
        List<String> mine = new ArrayList<>(Arrays.asList("a"));
        cache.put("k", mine);
        mine.add("changed after the put");
        List<String> first = cache.get("k");
        assertEquals(Arrays.asList("a"), first);
        assertSame("the second get is a near-cache hit", first, cache.get("k"));
        assertTrue(cache.containsKey("k"));
        assertEquals(1, codec.valueDecodes.get());
        cache.put("k", Arrays.asList("b"));
        assertEquals(Arrays.asList("b"), cache.get("k"));
        assertEquals(2, codec.valueDecodes.get());
    }

    @Test(timeout = 30_000)
    public void entriesExpireAfterTheirTimeToLiveEvenInTheNearCache() throws InterruptedException {
        ClusterCache<String, String> cache = cluster.cache("ttl",
                CacheOptions.builder().timeToLive(Duration.ofMillis(1000)).build());
        cache.put("k", "v");
        long written = System.nanoTime();
        assertEquals("v", cache.get("k"));
        assertEquals("v", cache.get("k"));
        long aliveForMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - written);
        assertTrue("read within its time to live (" + aliveForMs + " ms)", aliveForMs < 1000);
        Thread.sleep(1200);
        assertNull(cache.get("k"));
        assertFalse(cache.containsKey("k"));
        cache.put("k", "again");
        assertEquals("again", cache.get("k"));
    }

    @Test(timeout = 30_000)
    public void maxEntriesBoundsWhatTheNodeHoldsAndEvictionsReachTheNearCache() {
        ClusterCache<Integer, String> cache = cluster.cache("bounded", CacheOptions.builder().maxEntries(10).build());
        for (int i = 0; i < 10; i++) {
            cache.put(i, "v" + i);
            assertEquals("v" + i, cache.get(i));
        }
        for (int i = 10; i < 100; i++) {
            cache.put(i, "v" + i);
            assertTrue("size " + cache.size() + " after " + (i + 1) + " puts", cache.size() <= 10);
        }
        assertEquals("the latest write is kept", "v99", cache.get(99));
        EventsTest.await(() -> present(cache, 100) <= 10);
    }

    @Test(timeout = 30_000)
    public void closingTheNodeEndsItsInvalidationThreadAndFailsCacheCalls() throws InterruptedException {
        ClusterCache<String, String> cache = cluster.cache("c");
        cache.put("k", "v");
        assertEquals("v", cache.get("k"));
        Thread invalidator = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("openmrs-cluster-cache-" + cluster.nodeName()))
                .findFirst().orElseThrow(() -> new AssertionError("no invalidation thread"));
        assertTrue(invalidator.isDaemon());
        String name = cluster.nodeName();
        cluster.close();
        invalidator.join(5_000);
        assertFalse("the invalidation thread ended with the node", invalidator.isAlive());
        ClusterTest.assertClosed(name, () -> cache.get("k"));
        ClusterTest.assertClosed(name, () -> cache.put("k", "w"));
        ClusterTest.assertClosed(name, () -> cache.containsKey("k"));
        ClusterTest.assertClosed(name, cache::size);
        ClusterTest.assertClosed(name, cache::clear);
    }

    private static int present(ClusterCache<Integer, String> cache, int keys) {
        int present = 0;
        for (int i = 0; i < keys; i++) {
            if (cache.get(i) != null) {
                present++;
            }
        }
        return present;
    }

    /** The default codec, counting the values it decodes (keys are strings). */
    private static final class CountingCodec implements CacheCodec {
        final AtomicInteger valueDecodes = new AtomicInteger();
        private final CacheCodec delegate = new DefaultCodec(CountingCodec.class.getClassLoader());

        @Override
        public byte[] encode(Object object) {
            return delegate.encode(object);
        }

        @Override
        public Object decode(byte[] bytes, int offset, int length) {
            Object decoded = delegate.decode(bytes, offset, length);
            if (!(decoded instanceof String)) {
                valueDecodes.incrementAndGet();
            }
            return decoded;
        }
    }
}
