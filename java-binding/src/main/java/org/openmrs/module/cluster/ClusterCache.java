package org.openmrs.module.cluster;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A cache whose entries are shared by the members of the cluster, as its {@link CacheMode}
 * says. A put is visible to this node's next get at once and to the others shortly after;
 * once writes stop, every live member holds the same value for every key, whatever the order
 * in which concurrent writes arrived. A node that joins receives the replicated entries.
 * Keys and values are {@code Serializable} unless a codec is configured.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public interface ClusterCache<K, V> {

    String name();

    /** The value for {@code key}, or null when absent. */
    V get(K key);

    /**
     * The value for {@code key}; when absent, what {@code loader} returns for it, which is then
     * put (a null is returned and not stored). Under contention the key is loaded once across the
     * cluster: a load holds the cluster lock of the key's stripe (one of 256 per cache), and a
     * caller that had to wait for that lock waits up to 250 ms more for the holder's value to
     * reach its node before it loads itself (docs/cache.md, "Loading").
     *
     * @throws ClusterException as {@link #get(Object)} and {@link ClusterLock#lock()} do; what the
     *                          loader throws passes unwrapped
     */
    V get(K key, Function<? super K, ? extends V> loader);

    /** The values of the keys present (absent and expired ones are left out), read in one crossing into the library. */
    Map<K, V> getAll(Collection<? extends K> keys);

    /** Puts every entry, as that many puts do, in one crossing into the library. */
    void putAll(Map<? extends K, ? extends V> entries);

    /** This node's hits, misses and evictions of this cache since it opened. */
    CacheStats stats();

    void put(K key, V value);

    void remove(K key);

    void clear();

    boolean containsKey(K key);

    /** The number of entries this node holds. */
    long size();

    /**
     * The keys of the unexpired entries this node holds, a snapshot taken now; keys whose class
     * the allow-list refuses are left out, as {@link #get} returns null for them.
     */
    Set<K> keys();
}
