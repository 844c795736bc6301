package org.openmrs.jmh;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.hazelcast.config.Config;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NearCacheConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.replicatedmap.ReplicatedMap;

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
import org.openmrs.module.cluster.CacheOptions;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterCache;
import org.openmrs.module.cluster.ClusterConfig;
import org.openmrs.module.cluster.ClusterMember;
import org.openmrs.module.cluster.NearCacheProbe;

/**
 * Caches on 3-node loopback clusters, ours and Hazelcast 5.4.0's, side by side with Caffeine, in
 * one run ({@code gradle jmh -PjmhArgs=CacheBenchmark}). Both clusters are three nodes in this JVM
 * that talk over loopback TCP. Every cache holds {@value #KEYS} String keys with 100-character
 * String values, and each operation takes the next key in turn.
 * <ul>
 * <li>{@code *Get}: a hit. Ours and Hazelcast's IMap from their near caches (IMap's set to keep
 * decoded objects, local entries included), ReplicatedMap from its local copy, Caffeine's
 * {@code getIfPresent};</li>
 * <li>{@code ourGetMissToNative}: the key dropped from the near cache, then a get, which reads the
 * native store over JNI, decodes, and keeps the value in the near cache again (the drop, one
 * {@code ConcurrentHashMap.remove}, is a few nanoseconds of it);</li>
 * <li>{@code *Put}: ours {@code put}; IMap {@code set} (a put that returns no old value, its
 * cheapest write); ReplicatedMap {@code put};</li>
 * <li>{@code *LagAt10k}: a write on node 1, then spinning on node 2's get until it returns the
 * value, while another thread writes other keys on node 1 at a steady 10,000 a second: the time
 * until a write is readable on another node, under that load.</li>
 * </ul>
 */
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CacheBenchmark {

    static final int KEYS = 1024;
    private static final int NODES = 3;
    static final String VALUE = repeat('v', 100);
    private static final long LAG_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
    static final String[] KEY = new String[KEYS];

    static {
        for (int i = 0; i < KEYS; i++) {
            KEY[i] = "key-" + i;
        }
    }

    /** The next key for this thread. */
    @State(Scope.Thread)
    public static class Cursor {
        private int next;

        String key() {
            return KEY[next++ & (KEYS - 1)];
        }
    }

    /** Writes a probe on node 1 and spins on node 2 until it reads it back, under a paced load. */
    static final class LagProbe {
        private final AtomicLong probes = new AtomicLong();
        private final Pacer load;
        private final java.util.function.BiConsumer<String, String> write;
        private final Function<String, Object> readElsewhere;

        LagProbe(String label, java.util.function.BiConsumer<String, String> write,
                Function<String, Object> readElsewhere) {
            this.write = write;
            this.readElsewhere = readElsewhere;
            int[] filler = {0};
            this.load = Pacer.start(label, () -> write.accept(KEY[filler[0]++ & (KEYS - 1)], VALUE));
        }

        void probe() {
            String value = "probe-" + probes.incrementAndGet();
            write.accept("probe", value);
            long deadline = System.nanoTime() + LAG_TIMEOUT_NS;
            while (!value.equals(readElsewhere.apply("probe"))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("a write was not readable on another node within 10 s");
                }
                Thread.onSpinWait();
            }
        }

        void stop() throws InterruptedException {
            load.stop();
        }
    }

    /** Three of our nodes in this JVM, each with the cache filled and its near cache warm. */
    @State(Scope.Benchmark)
    public static class Ours {
        private final List<Cluster> nodes = new ArrayList<>();
        private final List<ClusterCache<String, String>> caches = new ArrayList<>();
        ClusterCache<String, String> cache;
        private LagProbe lag;

        @Setup(Level.Trial)
        public void start() throws InterruptedException {
            String clusterName = "bench-" + UUID.randomUUID();
            Cluster first = Cluster.start(ClusterConfig.builder().clusterName(clusterName).nodeName("bench1")
                    .bind("127.0.0.1:0").secret(BenchTopics.SECRET).build());
            nodes.add(first);
            String seed = first.members().stream().filter(ClusterMember::isLocal).findFirst()
                    .orElseThrow(IllegalStateException::new).address();
            for (int i = 2; i <= NODES; i++) {
                nodes.add(Cluster.start(ClusterConfig.builder().clusterName(clusterName).nodeName("bench" + i)
                        .bind("127.0.0.1:0").seeds(seed).secret(BenchTopics.SECRET).build()));
            }
            for (Cluster node : nodes) {
                caches.add(node.cache("bench", CacheOptions.defaults()));
            }
            cache = caches.get(0);
            for (String key : KEY) {
                cache.put(key, VALUE);
            }
            for (ClusterCache<String, String> each : caches) {
                long deadline = System.nanoTime() + LAG_TIMEOUT_NS;
                while (each.size() < KEYS) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the cache did not reach every node: " + each.size());
                    }
                    Thread.sleep(10);
                }
                for (String key : KEY) {
                    each.get(key);
                }
            }
        }

        LagProbe lag() {
            if (lag == null) {
                ClusterCache<String, String> elsewhere = caches.get(1);
                lag = new LagProbe("ours", cache::put, elsewhere::get);
            }
            return lag;
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            if (lag != null) {
                lag.stop();
            }
            nodes.forEach(Cluster::close);
        }
    }

    /** Three Hazelcast members in this JVM, with an IMap (near cache on each) and a ReplicatedMap, filled. */
    @State(Scope.Benchmark)
    public static class Hazelcasts {
        private final List<HazelcastInstance> members = new ArrayList<>();
        IMap<String, String> map;
        ReplicatedMap<String, String> replicated;
        private LagProbe lag;

        @Setup(Level.Trial)
        public void start() {
            String clusterName = "bench-" + UUID.randomUUID();
            for (int i = 0; i < NODES; i++) {
                Config config = HazelcastLoopback.config(clusterName);
                config.addMapConfig(new MapConfig("bench").setNearCacheConfig(new NearCacheConfig("bench")
                        .setInMemoryFormat(InMemoryFormat.OBJECT).setCacheLocalEntries(true)));
                members.add(Hazelcast.newHazelcastInstance(config));
            }
            map = members.get(0).getMap("bench");
            replicated = members.get(0).getReplicatedMap("bench");
            for (String key : KEY) {
                map.set(key, VALUE);
                replicated.put(key, VALUE);
            }
            for (String key : KEY) {
                map.get(key);
            }
        }

        LagProbe lag() {
            if (lag == null) {
                ReplicatedMap<String, String> elsewhere = members.get(1).getReplicatedMap("bench");
                lag = new LagProbe("Hazelcast ReplicatedMap", replicated::put, elsewhere::get);
            }
            return lag;
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            if (lag != null) {
                lag.stop();
            }
            members.forEach(member -> member.getLifecycleService().terminate());
        }
    }

    /** Caffeine with the same entries: what a single JVM would use. */
    @State(Scope.Benchmark)
    public static class Local {
        Cache<String, String> cache;

        @Setup(Level.Trial)
        public void fill() {
            cache = Caffeine.newBuilder().build();
            for (String key : KEY) {
                cache.put(key, VALUE);
            }
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public String caffeineGetIfPresent(Local local, Cursor cursor) {
        return local.cache.getIfPresent(cursor.key());
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public String ourGet(Ours ours, Cursor cursor) {
        return ours.cache.get(cursor.key());
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public String ourGetMissToNative(Ours ours, Cursor cursor) {
        String key = cursor.key();
        NearCacheProbe.forget(ours.cache, key);
        return ours.cache.get(key);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void ourPut(Ours ours, Cursor cursor) {
        ours.cache.put(cursor.key(), VALUE);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public String hazelcastIMapNearCacheGet(Hazelcasts hazelcast, Cursor cursor) {
        return hazelcast.map.get(cursor.key());
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void hazelcastIMapSet(Hazelcasts hazelcast, Cursor cursor) {
        hazelcast.map.set(cursor.key(), VALUE);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public String hazelcastReplicatedMapGet(Hazelcasts hazelcast, Cursor cursor) {
        return hazelcast.replicated.get(cursor.key());
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public String hazelcastReplicatedMapPut(Hazelcasts hazelcast, Cursor cursor) {
        return hazelcast.replicated.put(cursor.key(), VALUE);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void ourLagAt10k(Ours ours) {
        ours.lag().probe();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void hazelcastReplicatedMapLagAt10k(Hazelcasts hazelcast) {
        hazelcast.lag().probe();
    }

    private static String repeat(char c, int n) {
        StringBuilder s = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            s.append(c);
        }
        return s.toString();
    }
}
