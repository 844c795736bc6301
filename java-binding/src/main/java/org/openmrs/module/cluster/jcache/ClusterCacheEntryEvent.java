package org.openmrs.module.cluster.jcache;

import javax.cache.Cache;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.EventType;

/**
 * A {@link Change} as a listener sees it. Removals and expiries carry the value that went both as
 * value and as old value, updates their old value, whether or not the listener asked for it (the
 * specification allows old values to be available always).
 */
final class ClusterCacheEntryEvent<K, V> extends CacheEntryEvent<K, V> {

    private static final long serialVersionUID = 1L;

    private final transient Change change;

    ClusterCacheEntryEvent(Cache<K, V> source, Change change) {
        super(source, change.type());
        this.change = change;
    }

    @Override
    @SuppressWarnings("unchecked")
    public K getKey() {
        return (K) change.key;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V getValue() {
        return (V) change.value;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V getOldValue() {
        return (V) (getEventType() == EventType.UPDATED ? change.oldValue
                : getEventType() == EventType.CREATED ? null : change.value);
    }

    @Override
    public boolean isOldValueAvailable() {
        return getEventType() != EventType.CREATED;
    }

    @Override
    public <T> T unwrap(Class<T> clazz) {
        if (clazz.isInstance(this)) {
            return clazz.cast(this);
        }
        throw new IllegalArgumentException("a cache entry event cannot be unwrapped to " + clazz);
    }
}
