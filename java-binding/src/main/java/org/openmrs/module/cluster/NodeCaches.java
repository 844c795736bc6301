package org.openmrs.module.cluster;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * The caches of one node, one {@link NodeCache} per name, and the daemon thread that keeps their
 * near caches in step with the library's store. The thread starts with the first cache opened,
 * waits for invalidations in native slices of {@value #POLL_MS} ms and ends once the node is
 * closed. It runs with no context class loader, so that it pins no module's: the default codec
 * then reads a key's class through the loader of the code that opened its cache. Thread-safe.
 */
final class NodeCaches {

    private static final Logger LOG = Logger.getLogger(NodeCaches.class.getName());
    private static final long POLL_MS = 1000;
    private static final int CACHE_ID_BYTES = 8;

    private final NativeNode node;
    /** How long an open waits for the entries of the members this node joined. */
    private final long openWaitMs;
    private final AllowedClasses allowed;
    private final LoadLocks loads;
    private final ConcurrentMap<String, NodeCache<?, ?>> byName = new ConcurrentHashMap<String, NodeCache<?, ?>>();
    private final ConcurrentMap<Long, NodeCache<?, ?>> byId = new ConcurrentHashMap<Long, NodeCache<?, ?>>();
    /** Started by the first open; guarded by this. */
    private Thread invalidator;

    NodeCaches(NativeNode node, long openWaitMs, AllowedClasses allowed, LoadLocks loads) {
        this.node = node;
        this.openWaitMs = openWaitMs;
        this.allowed = allowed;
        this.loads = loads;
    }

    /**
     * The cache of this name, opened with {@code options} the first time; {@code creatorLoader}
     * reads its serialized keys and values when the thread's context class loader cannot.
     *
     * @throws IllegalArgumentException if the cache is already open with other options
     * @throws ClusterException         if the node is closed, or has not received the replicated
     *                                  entries of the members it joined within the open wait
     */
    NodeCache<?, ?> open(String name, CacheOptions options, ClassLoader creatorLoader) {
        NodeCache<?, ?> cache = byName.computeIfAbsent(name, cacheName -> create(cacheName, options, creatorLoader));
        if (!cache.options().equals(options)) {
            throw new IllegalArgumentException("cache '" + name + "' is already open on node '" + node.name()
                    + "' with " + cache.options() + "; it cannot be opened again with " + options);
        }
        return cache;
    }

    /** Forgets the decoded values of every cache, once the node is closed. */
    void closed() {
        dropNearCaches();
    }

    private NodeCache<?, ?> create(String name, CacheOptions options, ClassLoader creatorLoader) {
        long ttlMs = options.timeToLive().map(ttl -> Math.max(1, ttl.toMillis())).orElse(0L);
        long id = node.call(handle -> Native.cacheOpen(handle, name, options.mode().ordinal(),
                options.maxEntries().orElse(0), ttlMs, openWaitMs));
        CacheCodec codec = options.codec()
                .orElseGet(() -> new DefaultCodec(creatorLoader, allowed, "cache '" + name + "'"));
        NodeCache<Object, Object> cache = new NodeCache<Object, Object>(node, id, name, options, codec, loads);
        byId.put(id, cache);
        startInvalidator();
        return cache;
    }

    private synchronized void startInvalidator() {
        if (invalidator == null) {
            invalidator = new Thread(this::invalidate, "openmrs-cluster-cache-" + node.name());
            invalidator.setDaemon(true);
            invalidator.setContextClassLoader(null);
            invalidator.start();
        }
    }

    private void invalidate() {
        while (!node.isClosed()) {
            try {
                byte[][] batch = Native.cacheInvalidations(node.handle(), POLL_MS);
                if (batch == null) {
                    return;
                }
                for (byte[] entry : batch) {
                    NodeCache<?, ?> cache = byId.get(ByteBuffer.wrap(entry, 0, CACHE_ID_BYTES).getLong());
                    if (cache != null) {
                        cache.invalidate(entry, CACHE_ID_BYTES);
                    }
                }
            } catch (RuntimeException e) {
                if (node.isClosed()) {
                    return;
                }
                // Some invalidations may be lost: only reading the store again is safe.
                LOG.log(Level.WARNING, "node '" + node.name() + "' failed to take its cache invalidations;"
                        + " every near cache is cleared", e);
                dropNearCaches();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(POLL_MS));
            }
        }
    }

    private void dropNearCaches() {
        for (NodeCache<?, ?> cache : byName.values()) {
            cache.dropNearCache();
        }
    }
}
