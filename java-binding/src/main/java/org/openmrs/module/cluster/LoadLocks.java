package org.openmrs.module.cluster;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import java.util.function.Function;

/**
 * The cluster locks under which {@link ClusterCache#get(Object, java.util.function.Function)}
 * loads: {@value #STRIPES} per cache, since every lock name the cluster ever granted stays in its
 * Raft state (its fences must keep growing), so one per key would grow it without bound. Named
 * after a digest of the cache's name, to stay within the limit of lock names whatever the cache's.
 */
final class LoadLocks {

    static final int STRIPES = 256;

    private final Function<String, ClusterLock> locks;

    LoadLocks(Function<String, ClusterLock> locks) {
        this.locks = locks;
    }

    /** The lock of the key's stripe; every node picks the same for the same key bytes. */
    ClusterLock of(String cacheName, byte[] key) {
        int stripe = (Arrays.hashCode(key) & Integer.MAX_VALUE) % STRIPES;
        UUID cache = UUID.nameUUIDFromBytes(cacheName.getBytes(StandardCharsets.UTF_8));
        return locks.apply("cache-load/" + cache + "/" + stripe);
    }
}
