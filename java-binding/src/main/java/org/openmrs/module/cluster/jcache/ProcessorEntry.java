package org.openmrs.module.cluster.jcache;

import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheLoaderException;
import javax.cache.processor.MutableEntry;

/**
 * The entry an {@link javax.cache.processor.EntryProcessor} works on: it records what the
 * processor did, and the cache applies only the net effect once the processor returns.
 */
final class ProcessorEntry<K, V> implements MutableEntry<K, V> {

    /** The net effect on the entry. */
    enum Operation { NONE, ACCESS, LOAD, CREATE, UPDATE, REMOVE }

    private final K key;
    /** The value before the processor ran; null when there was none. */
    private final V existing;
    /** The loader of a read-through cache, else null. */
    private final CacheLoader<K, V> loader;
    private V value;
    private Operation operation = Operation.NONE;

    ProcessorEntry(K key, V existing, CacheLoader<K, V> loader) {
        this.key = key;
        this.existing = existing;
        this.loader = loader;
        this.value = existing;
    }

    Operation operation() {
        return operation;
    }

    @Override
    public K getKey() {
        return key;
    }

    /** The value as the processor left it; reading an absent one of a read-through cache loads it. */
    @Override
    public V getValue() {
        if (operation == Operation.NONE && value != null) {
            operation = Operation.ACCESS;
        } else if (value == null && operation != Operation.REMOVE && loader != null) {
            value = load();
            if (value != null) {
                operation = Operation.LOAD;
            }
        }
        return value;
    }

    @Override
    public boolean exists() {
        return value != null;
    }

    @Override
    public void remove() {
        operation = operation == Operation.CREATE || operation == Operation.LOAD ? Operation.NONE : Operation.REMOVE;
        value = null;
    }

    @Override
    public void setValue(V newValue) {
        if (newValue == null) {
            throw new NullPointerException("value");
        }
        operation = existing == null ? Operation.CREATE : Operation.UPDATE;
        value = newValue;
    }

    @Override
    public <T> T unwrap(Class<T> clazz) {
        if (clazz.isInstance(this)) {
            return clazz.cast(this);
        }
        throw new IllegalArgumentException("an entry processor's entry cannot be unwrapped to " + clazz);
    }

    private V load() {
        try {
            return loader.load(key);
        } catch (CacheLoaderException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CacheLoaderException("the loader failed on a key", e);
        }
    }
}
