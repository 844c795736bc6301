package org.openmrs.module.cluster.spring;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeNotNull;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.openmrs.module.cluster.CacheMode;
import org.openmrs.module.cluster.CacheOptions;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.EmbeddedNodes;
import org.openmrs.module.cluster.it.CachedNameService;
import org.openmrs.module.cluster.it.CachingConfig;
import org.springframework.cache.Cache;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.core.SpringVersion;

/** Spring's caching annotations on ClusterCacheManager, on an embedded node, and the Cache contract underneath. */
public class ClusterCacheManagerTest {

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    private Cluster cluster;
    private AnnotationConfigApplicationContext spring;
    private CachedNameService service;
    private ClusterCacheManager manager;

    @Before
    public void startNodeAndSpring() {
        cluster = nodes.start();
        spring = new AnnotationConfigApplicationContext(CachingConfig.class);
        service = spring.getBean(CachedNameService.class);
        manager = spring.getBean(ClusterCacheManager.class);
    }

    @After
    public void closeSpring() {
        spring.close();
    }

    /**
     * The build runs this class on Spring 5.3 ({@code test}), 6 and 7 ({@code springCompatTest6},
     * {@code springCompatTest7}), compiled against 5.3 each time: each run must have the Spring it
     * names on its classpath.
     */
    @Test(timeout = 30_000)
    public void runsOnTheSpringTheBuildNames() {
        String expected = System.getProperty("openmrs.cluster.test.springVersion");
        assumeNotNull(expected);
        assertEquals(expected, SpringVersion.getVersion());
    }

    @Test(timeout = 30_000)
    public void cacheableReadsReachTheServiceOncePerKeyAndWritesPutOrEvict() {
        String first = service.name("1");
        assertEquals(first, service.name("1"));
        assertEquals(1, service.calls());
        service.name("2");
        assertEquals(2, service.calls());
        service.rename("1", "renamed");
        assertEquals("a @CachePut stores its result", "renamed", service.name("1"));
        service.purge("1");
        assertEquals("name-of-1-call-3", service.name("1"));
        assertEquals(3, service.calls());
    }

    @Test(timeout = 30_000)
    public void aNullResultIsCachedToo() {
        assertNull(service.missing("x"));
        assertNull(service.missing("x"));
        assertEquals(1, service.calls());
    }

    @Test(timeout = 30_000)
    public void aSyncReadLoadsOnceWhileManyThreadsAskForIt() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                answers.add(threads.submit(() -> service.slowName("s")));
            }
            for (Future<String> answer : answers) {
                assertEquals("name-of-s-call-1", answer.get());
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(1, service.calls());
    }

    @Test(timeout = 30_000)
    public void theManagerMakesInvalidationCachesOnFirstUseAndNamesThem() {
        Cache cache = manager.getCache("concepts");
        assertNotNull(cache);
        assertSame(cache, manager.getCache("concepts"));
        assertEquals("concepts", cache.getName());
        assertSame("INVALIDATION, unbounded, no expiry", cache.getNativeCache(),
                cluster.cache("concepts", CacheOptions.builder().mode(CacheMode.INVALIDATION).build()));
        service.name("1");
        assertTrue(manager.getCacheNames().containsAll(Arrays.asList("concepts", CachedNameService.NAMES)));
        ClusterCacheManager replicated = new ClusterCacheManager(cluster, CacheOptions.defaults());
        assertSame(cluster.cache("codes"), replicated.getCache("codes").getNativeCache());
        assertThrows(IllegalArgumentException.class, () -> replicated.getCache("concepts"));
    }

    @Test(timeout = 30_000)
    public void theCacheContractUnderneath() {
        Cache cache = manager.getCache("direct");
        assertNull(cache.get("k"));
        assertNull(cache.putIfAbsent("k", "first"));
        assertEquals("first", cache.putIfAbsent("k", "second").get());
        assertEquals("first", cache.get("k", String.class));
        cache.put("n", null);
        assertNotNull("a cached null is a wrapper holding null", cache.get("n"));
        assertNull(cache.get("n").get());
        assertTrue(cache.evictIfPresent("k"));
        assertNull(cache.get("k"));
        assertTrue(cache.invalidate());
        assertNull(cache.get("n"));
        AtomicInteger loads = new AtomicInteger();
        Callable<String> loader = () -> "loaded " + loads.incrementAndGet();
        assertEquals("loaded 1", cache.get("l", loader));
        assertEquals("loaded 1", cache.get("l", loader));
        Cache.ValueRetrievalException e = assertThrows(Cache.ValueRetrievalException.class,
                () -> cache.get("bad", () -> {
                    throw new IOException("database down");
                }));
        assertEquals("bad", e.getKey());
        assertTrue(e.getCause() instanceof IOException);
        assertNull("a failed load stores nothing", cache.get("bad"));
        cache.clear();
        assertNull(cache.get("l"));
    }

    /** Spring 6.1's asynchronous methods, called directly: this build compiles against 5.3. */
    @Test(timeout = 30_000)
    public void theAsynchronousLookupsOfSpring61() throws Exception {
        ClusterSpringCache cache = (ClusterSpringCache) manager.getCache("async");
        assertNull("absent: no future at all", cache.retrieve("k"));
        assertEquals("loaded", cache.retrieve("k", () -> CompletableFuture.completedFuture("loaded")).get());
        assertEquals("loaded", ((Cache.ValueWrapper) cache.retrieve("k").get()).get());
        assertEquals("a stored value is not loaded again", "loaded",
                cache.retrieve("k", () -> CompletableFuture.completedFuture("other")).get());
    }
}
