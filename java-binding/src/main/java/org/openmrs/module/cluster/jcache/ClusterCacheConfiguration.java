package org.openmrs.module.cluster.jcache;

import javax.cache.configuration.CompleteConfiguration;
import javax.cache.configuration.MutableConfiguration;

import org.openmrs.module.cluster.CacheMode;

/**
 * A JCache configuration with the cluster's own options: the {@link CacheMode} (REPLICATED by
 * default: every node holds every entry; INVALIDATION: a write only drops the other nodes' copies)
 * and a bound on the entries each node holds (none by default; past it, the least recently used
 * entries are evicted, without events, as JSR-107 wants). Expiry is the {@link
 * javax.cache.expiry.ExpiryPolicy}'s, per entry. Pass it to {@code createCache} like a
 * {@link MutableConfiguration}; a plain one gets the defaults.
 *
 * <p>Equality is {@link MutableConfiguration}'s: these options do not take part.
 */
public class ClusterCacheConfiguration<K, V> extends MutableConfiguration<K, V> {

    private static final long serialVersionUID = 1L;

    private CacheMode mode = CacheMode.REPLICATED;
    private long maxEntries;

    public ClusterCacheConfiguration() {
    }

    /** A copy of {@code configuration}, with its cluster options if it has any. */
    public ClusterCacheConfiguration(CompleteConfiguration<K, V> configuration) {
        super(configuration);
        if (configuration instanceof ClusterCacheConfiguration) {
            ClusterCacheConfiguration<K, V> cluster = (ClusterCacheConfiguration<K, V>) configuration;
            this.mode = cluster.mode;
            this.maxEntries = cluster.maxEntries;
        }
    }

    public CacheMode getMode() {
        return mode;
    }

    public ClusterCacheConfiguration<K, V> setMode(CacheMode mode) {
        if (mode == null) {
            throw new NullPointerException("mode");
        }
        this.mode = mode;
        return this;
    }

    /** The most entries each node holds; 0 for no bound. */
    public long getMaxEntries() {
        return maxEntries;
    }

    /** @throws IllegalArgumentException if negative */
    public ClusterCacheConfiguration<K, V> setMaxEntries(long maxEntries) {
        if (maxEntries < 0) {
            throw new IllegalArgumentException("maxEntries: must not be negative, got " + maxEntries);
        }
        this.maxEntries = maxEntries;
        return this;
    }
}
