package org.openmrs.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterCache;
import org.openmrs.module.cluster.NearCacheProbe;
import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * Where a near-cache miss spends its time, on one embedded node: the whole miss (the key dropped
 * from the near cache, then a get), and of it the store read over JNI alone, the key encoded
 * beforehand. The difference is the codec and the near cache's bookkeeping. Run with
 * {@code gradle jmh -PjmhArgs=CacheMissBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CacheMissBenchmark {

    @State(Scope.Benchmark)
    public static class Node {
        private Cluster node;
        ClusterCache<String, String> cache;
        long handle;
        long id;
        final byte[][] keys = new byte[CacheBenchmark.KEYS][];

        @Setup(Level.Trial)
        public void start() {
            node = Cluster.embedded();
            cache = node.cache("miss");
            for (String key : CacheBenchmark.KEY) {
                cache.put(key, CacheBenchmark.VALUE);
            }
            handle = NativeNode.of(node).handle();
            // Opening a name again answers the id the cache already has.
            id = Native.cacheOpen(handle, "miss", 0, 0, 0, 1_000);
            for (int i = 0; i < keys.length; i++) {
                keys[i] = NearCacheProbe.encode(CacheBenchmark.KEY[i]);
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            node.close();
        }
    }

    @Benchmark
    public String missToNative(Node node, CacheBenchmark.Cursor cursor) {
        String key = cursor.key();
        NearCacheProbe.forget(node.cache, key);
        return node.cache.get(key);
    }

    @Benchmark
    public byte[] storeReadOverJni(Node node, Keys keys) {
        return Native.cacheGet(node.handle, node.id, node.keys[keys.next++ & (CacheBenchmark.KEYS - 1)]);
    }

    /** The next encoded key for this thread. */
    @State(Scope.Thread)
    public static class Keys {
        int next;
    }
}
