package org.openmrs.module.cluster.spring;

import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import org.openmrs.module.cluster.CacheMode;
import org.openmrs.module.cluster.CacheOptions;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterCache;
import org.springframework.cache.Cache;
import org.springframework.cache.CacheManager;

/**
 * A Spring {@link CacheManager} whose caches are {@link ClusterCache}s of one node, each a
 * {@link ClusterSpringCache}, created on first use under the name Spring asks for. Registered as
 * the bean {@code apiCacheManager}, it replaces OpenMRS core's cache manager, so that the
 * {@code @Cacheable} methods of core and modules cache on every node and a {@code @CacheEvict}
 * on one node evicts on all (see docs/cache.md). Compiled against Spring 5.3; runs on Spring 6
 * and 7. Thread-safe.
 */
public class ClusterCacheManager implements CacheManager {

    private final Cluster cluster;
    private final CacheOptions options;
    private final ConcurrentMap<String, ClusterSpringCache> caches = new ConcurrentHashMap<String, ClusterSpringCache>();

    /**
     * Caches in {@link CacheMode#INVALIDATION} mode, unbounded and without expiry: each node
     * loads its values from the database, and a write or eviction on one node drops the key on
     * the others. Values stay on the node that loaded them (Hibernate objects need not travel),
     * but are still encoded once, with Java serialization unless a codec is configured.
     */
    public ClusterCacheManager(Cluster cluster) {
        this(cluster, CacheOptions.builder().mode(CacheMode.INVALIDATION).build());
    }

    /** Caches with these options, every one of them. */
    public ClusterCacheManager(Cluster cluster, CacheOptions options) {
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * The cache of this name, opened on this node the first time it is asked for; never null.
     *
     * @throws IllegalArgumentException if the node has this cache open with other options
     * @throws org.openmrs.module.cluster.ClusterException if the node is closed
     */
    @Override
    public Cache getCache(String name) {
        Objects.requireNonNull(name, "name");
        return caches.computeIfAbsent(name, cacheName -> new ClusterSpringCache(cluster.cache(cacheName, options)));
    }

    /** The names of the caches asked for so far, sorted. */
    @Override
    public Collection<String> getCacheNames() {
        return Collections.unmodifiableSet(new TreeSet<String>(caches.keySet()));
    }

    @Override
    public String toString() {
        return "ClusterCacheManager{node '" + cluster.nodeName() + "', " + options + "}";
    }
}
