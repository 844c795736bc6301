package org.openmrs.module.cluster.jcache;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.configuration.MutableConfiguration;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.openmrs.module.cluster.CacheMode;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterCache;
import org.openmrs.module.cluster.EmbeddedNodes;

/** The provider on one node: which node it uses, the cluster options, and atomicity among a node's threads. */
public class ClusterCachingProviderTest {

    private static final URI URI_OF_TEST = URI.create("test:jcache");

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    private final ClusterCachingProvider provider = new ClusterCachingProvider();

    @After
    public void closeProvider() {
        provider.close();
    }

    @Test(timeout = 30_000)
    public void usesTheNodeThisJvmStartedAndLeavesItOpen() {
        Cluster node = nodes.start();
        CacheManager manager = provider.getCacheManager(URI_OF_TEST, getClass().getClassLoader(), new Properties());
        assertSame(node, manager.unwrap(Cluster.class));
        Cache<String, String> cache = manager.createCache("people", new MutableConfiguration<String, String>());
        cache.put("k", "v");
        assertEquals("v", cache.get("k"));
        ClusterCache<?, ?> store = cache.unwrap(ClusterCache.class);
        assertTrue(store.name(), store.name().startsWith("jcache/") && store.name().endsWith("/people"));
        assertEquals(1, store.keys().size());

        provider.close();
        assertTrue(manager.isClosed());
        assertTrue(cache.isClosed());
        assertEquals("the node's entries stay", 1, store.keys().size());
        assertSame("a node the provider did not start stays open", node, Cluster.current());
    }

    @Test(timeout = 30_000)
    public void startsAnEmbeddedNodeWithTheAllowListOfItsPropertiesWhenNoneIsOpenAndClosesIt() {
        try {
            fail("a node is open before the test: " + Cluster.current());
        } catch (IllegalStateException expected) {
            // None is: the provider starts one.
        }
        Properties properties = new Properties();
        properties.setProperty("cluster.serialization.allow", "com.example.*");
        CacheManager manager = provider.getCacheManager(URI_OF_TEST, getClass().getClassLoader(), properties);
        Cluster started = manager.unwrap(Cluster.class);
        assertSame(started, Cluster.current());
        assertNotNull(started.nodeName());

        provider.close();
        try {
            fail("the provider's node is still open: " + Cluster.current());
        } catch (IllegalStateException expected) {
            // Closed with the provider.
        }
    }

    @Test(timeout = 30_000)
    public void aClusterCacheConfigurationSetsTheModeAndTheBoundWhoseEvictionsTheStatisticsCount() throws Exception {
        nodes.start();
        CacheManager manager = provider.getCacheManager(URI_OF_TEST, getClass().getClassLoader(), new Properties());
        ClusterCacheConfiguration<Integer, String> bounded = new ClusterCacheConfiguration<Integer, String>()
                .setMode(CacheMode.INVALIDATION).setMaxEntries(10);
        bounded.setTypes(Integer.class, String.class).setStatisticsEnabled(true);
        Cache<Integer, String> cache = manager.createCache("bounded", bounded);
        for (int i = 0; i < 30; i++) {
            cache.put(i, "v" + i);
        }
        ClusterCache<?, ?> store = cache.unwrap(ClusterCache.class);
        assertEquals(10, store.size());
        assertTrue(store.toString(), store.toString().contains("mode=INVALIDATION"));
        ClusterCacheConfiguration<?, ?> configuration = cache.getConfiguration(ClusterCacheConfiguration.class);
        assertEquals(CacheMode.INVALIDATION, configuration.getMode());
        assertEquals(10, configuration.getMaxEntries());
        ObjectName statistics =
                new ObjectName("javax.cache:type=CacheStatistics,CacheManager=test.jcache,Cache=bounded");
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        assertEquals(20L, server.getAttribute(statistics, "CacheEvictions"));
        assertEquals(30L, server.getAttribute(statistics, "CachePuts"));
        server.invoke(statistics, "clear", new Object[0], new String[0]);
        assertEquals(0L, server.getAttribute(statistics, "CacheEvictions"));
        cache.put(100, "one more");
        assertEquals(1L, server.getAttribute(statistics, "CacheEvictions"));
    }

    @Test(timeout = 30_000)
    public void storeByValueHandsEachCallerItsOwnCopyOfAMutableValue() {
        nodes.start();
        CacheManager manager = provider.getCacheManager(URI_OF_TEST, getClass().getClassLoader(), new Properties());
        Cache<Date, Date> cache = manager.createCache("dates", new MutableConfiguration<Date, Date>());
        Date key = new Date(1_000);
        cache.put(key, new Date(2_000));
        Date first = cache.get(key);
        first.setTime(3_000);
        assertEquals("a caller's change to what it got stays its own", new Date(2_000), cache.get(key));
        cache.iterator().next().getValue().setTime(5_000);
        assertEquals(new Date(2_000), cache.getAndPut(key, new Date(4_000)));
        assertEquals(new Date(4_000), cache.get(key));
    }

    @Test(timeout = 60_000)
    public void putIfAbsentHasOneWinnerPerKeyAmongTheThreadsOfANode() throws Exception {
        nodes.start();
        CacheManager manager = provider.getCacheManager(URI_OF_TEST, getClass().getClassLoader(), new Properties());
        Cache<Integer, String> cache = manager.createCache("race", new MutableConfiguration<Integer, String>());
        int threads = 4;
        int keys = 2_000;
        ConcurrentMap<Integer, AtomicInteger> wins = new ConcurrentHashMap<>();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> racers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String racer = "t" + t;
                racers.add(pool.submit(() -> {
                    go.await();
                    for (int key = 0; key < keys; key++) {
                        if (cache.putIfAbsent(key, racer)) {
                            wins.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> racer : racers) {
                racer.get(50, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(keys, wins.size());
        for (int key = 0; key < keys; key++) {
            assertEquals("winners of key " + key, 1, wins.get(key).get());
        }
    }
}
