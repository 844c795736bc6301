package org.openmrs.module.cluster;

/**
 * Lets the benchmarks empty a cache's near cache, so that a get goes to the native store: the
 * "miss to native" case, which the public API cannot force. Benchmark code only.
 */
public final class NearCacheProbe {

    private NearCacheProbe() {
    }

    public static void dropNearCache(ClusterCache<?, ?> cache) {
        ((NodeCache<?, ?>) cache).dropNearCache();
    }
}
