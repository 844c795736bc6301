package org.openmrs.module.cluster;

import java.util.Set;

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
