package org.openmrs.module.cluster.jcache;

import javax.cache.Cache;

/** A key and the value it had when an iterator or a loader produced it. */
public final class ClusterCacheEntry<K, V> implements Cache.Entry<K, V> {

    private final K key;
    private final V value;

    ClusterCacheEntry(K key, V value) {
        this.key = key;
        this.value = value;
    }

    @Override
    public K getKey() {
        return key;
    }

    @Override
    public V getValue() {
        return value;
    }

    @Override
    public <T> T unwrap(Class<T> clazz) {
        if (clazz.isInstance(this)) {
            return clazz.cast(this);
        }
        throw new IllegalArgumentException("a cache entry cannot be unwrapped to " + clazz);
    }

    @Override
    public String toString() {
        return "ClusterCacheEntry{" + key + "=" + value + "}";
    }
}
