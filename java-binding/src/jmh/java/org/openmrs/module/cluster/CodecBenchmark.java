package org.openmrs.module.cluster;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openmrs.module.cluster.aop.EntityEvent;

/**
 * Decoding what the default codec Java-serializes: an {@link EntityEvent} (what every OpenMRS
 * save publishes) and a small map (a cache value that is not a string or a number). These are
 * the paths of events and caches whose cost a check of each class read adds to; the cache and
 * events benchmarks carry strings, which never reach Java serialization.
 * {@code gradle jmh -PjmhArgs=CodecBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBenchmark {

    private DefaultCodec codec;
    private byte[] entityEvent;
    private byte[] map;

    @Setup
    public void encode() {
        codec = new DefaultCodec(CodecBenchmark.class.getClassLoader());
        entityEvent = codec.encode(new EntityEvent("org.openmrs.Patient", UUID.randomUUID().toString(),
                EntityEvent.Action.UPDATED, "node-a", Instant.now()));
        Map<String, Integer> values = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            values.put("key-" + i, i);
        }
        map = codec.encode(values);
    }

    @Benchmark
    public Object decodeEntityEvent() {
        return codec.decode(entityEvent, 0, entityEvent.length);
    }

    @Benchmark
    public Object decodeMap() {
        return codec.decode(map, 0, map.length);
    }
}
