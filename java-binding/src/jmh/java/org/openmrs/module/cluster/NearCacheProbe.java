package org.openmrs.module.cluster;

/**
 * Lets the benchmarks drop a key from a cache's near cache, so that the next get goes to the
 * native store (the "miss to native" case, which the public API cannot force), and encode keys as
 * caches do. Benchmark code only.
 */
public final class NearCacheProbe {

    private NearCacheProbe() {
    }

    public static void forget(ClusterCache<?, ?> cache, Object key) {
        ((NodeCache<?, ?>) cache).forget(key);
    }

    /** A key's bytes as a cache without a codec of its own stores them. */
    public static byte[] encode(Object key) {
        return new DefaultCodec(null).encode(key);
    }
}
