package org.openmrs.module.cluster.jcache;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import javax.cache.management.CacheStatisticsMXBean;

/**
 * The statistics of one cache on this node, as JSR-107 defines them: what this node's callers
 * did, not the cluster's. Counted only while statistics are enabled; {@link #clear()} zeroes them.
 * Evictions are the node's, counted by the library whether or not statistics are enabled.
 */
final class CacheStatistics implements CacheStatisticsMXBean {

    private static final float NANOS_PER_MICRO = 1000f;

    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder removals = new LongAdder();
    /** The library's count of the cluster cache's evictions on this node, which only grows. */
    private final LongSupplier evicted;
    /** What {@link #evicted} said when the counts last started from zero. */
    private volatile long evictedBefore;
    private final LongAdder getNanos = new LongAdder();
    private final LongAdder putNanos = new LongAdder();
    private final LongAdder removeNanos = new LongAdder();
    private volatile boolean enabled;

    CacheStatistics(LongSupplier evicted) {
        this.evicted = evicted;
        this.evictedBefore = evicted.getAsLong();
    }

    void enable(boolean on) {
        enabled = on;
    }

    boolean enabled() {
        return enabled;
    }

    /** A start for the timings below; 0 when disabled, so that no clock is read for nothing. */
    long start() {
        return enabled ? System.nanoTime() : 0;
    }

    void hit(long start) {
        if (enabled) {
            hits.increment();
            getNanos.add(System.nanoTime() - start);
        }
    }

    void miss(long start) {
        if (enabled) {
            misses.increment();
            getNanos.add(System.nanoTime() - start);
        }
    }

    void put(long start) {
        if (enabled) {
            puts.increment();
            putNanos.add(System.nanoTime() - start);
        }
    }

    void removal(long start) {
        if (enabled) {
            removals.increment();
            removeNanos.add(System.nanoTime() - start);
        }
    }

    @Override
    public void clear() {
        hits.reset();
        misses.reset();
        puts.reset();
        removals.reset();
        evictedBefore = evicted.getAsLong();
        getNanos.reset();
        putNanos.reset();
        removeNanos.reset();
    }

    @Override
    public long getCacheHits() {
        return hits.sum();
    }

    @Override
    public float getCacheHitPercentage() {
        return percentOfGets(getCacheHits());
    }

    @Override
    public long getCacheMisses() {
        return misses.sum();
    }

    @Override
    public float getCacheMissPercentage() {
        return percentOfGets(getCacheMisses());
    }

    @Override
    public long getCacheGets() {
        return getCacheHits() + getCacheMisses();
    }

    @Override
    public long getCachePuts() {
        return puts.sum();
    }

    @Override
    public long getCacheRemovals() {
        return removals.sum();
    }

    @Override
    public long getCacheEvictions() {
        return evicted.getAsLong() - evictedBefore;
    }

    @Override
    public float getAverageGetTime() {
        return averageMicros(getNanos.sum(), getCacheGets());
    }

    @Override
    public float getAveragePutTime() {
        return averageMicros(putNanos.sum(), getCachePuts());
    }

    @Override
    public float getAverageRemoveTime() {
        return averageMicros(removeNanos.sum(), getCacheRemovals());
    }

    private float percentOfGets(long count) {
        long gets = getCacheGets();
        return gets == 0 ? 0f : count * 100f / gets;
    }

    private static float averageMicros(long nanos, long count) {
        return count == 0 ? 0f : nanos / NANOS_PER_MICRO / count;
    }
}
