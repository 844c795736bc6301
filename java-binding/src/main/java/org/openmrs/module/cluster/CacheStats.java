package org.openmrs.module.cluster;

/**
 * What one node's callers got from a {@link ClusterCache} since it opened on the node: reads that
 * found a value (hits) and reads that did not (misses), by {@code get}, {@code getAll} (one per key)
 * and {@code get(key, loader)}, and the entries the node evicted to keep its bound. Counts only
 * grow; a snapshot, immutable.
 */
public final class CacheStats {

    private final long hits;
    private final long misses;
    private final long evictions;

    CacheStats(long hits, long misses, long evictions) {
        this.hits = hits;
        this.misses = misses;
        this.evictions = evictions;
    }

    public long hits() {
        return hits;
    }

    public long misses() {
        return misses;
    }

    public long evictions() {
        return evictions;
    }

    @Override
    public String toString() {
        return "CacheStats{hits=" + hits + ", misses=" + misses + ", evictions=" + evictions + "}";
    }
}
