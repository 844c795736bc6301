package org.openmrs.module.cluster.hibernate;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.hibernate.cache.spi.RegionFactory;
import org.hibernate.cache.spi.TimestampsRegion;
import org.hibernate.cache.spi.support.AbstractRegion;
import org.hibernate.engine.spi.SharedSessionContractImplementor;

/**
 * When each table (query space) last changed, as this node's {@link LocalClock} saw it: for a
 * change made here, when its transaction completed; for another node's, when its invalidation
 * was received here, which is after that node's commit. A cached query result carries the start
 * of the transaction that read it, and Hibernate serves it only if every table it read changed
 * before that start, so a result read before another node's commit is never served after the
 * commit returned.
 *
 * <p>Hibernate writes a time in the future before a transaction's changes ("pre-invalidation":
 * no result is cached while they are under way) and the current time after it completes. The
 * first stays on this node; the second is sent to every node, which waits as for an entity.
 */
final class Timestamps extends AbstractRegion implements TimestampsRegion, Invalidations.Target {

    private final Invalidations invalidations;
    private final ConcurrentHashMap<String, Long> lastChanged = new ConcurrentHashMap<String, Long>();
    /** When every table was last invalidated at once; a floor under each table's time. */
    private final AtomicLong allChanged = new AtomicLong();

    Timestamps(String name, RegionFactory factory, Invalidations invalidations) {
        super(name, factory);
        this.invalidations = invalidations;
        invalidations.register(name, this);
    }

    @Override
    public Object getFromCache(Object key, SharedSessionContractImplementor session) {
        if (!invalidations.serving()) {
            // Every cached result is then older: each query goes to the database.
            return Long.MAX_VALUE;
        }
        Long changed = lastChanged.get(String.valueOf(key));
        long floor = allChanged.get();
        if (changed == null) {
            return floor == 0 ? null : Long.valueOf(floor);
        }
        return Math.max(changed, floor);
    }

    @Override
    public void putIntoCache(Object key, Object value, SharedSessionContractImplementor session) {
        String space = String.valueOf(key);
        long time = (Long) value;
        // A time not in the future replaces this node's own pre-invalidation: its transaction is over.
        lastChanged.put(space, time);
        if (time <= LocalClock.now()) {
            ClusterTransaction.invalidate(session, invalidations, getName(), space.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    public void invalidated(byte[] key, long now) {
        if (key == null) {
            allChanged.accumulateAndGet(now, Math::max);
        } else {
            lastChanged.merge(new String(key, StandardCharsets.UTF_8), now, Long::max);
        }
    }

    @Override
    public void stopServing() {
        // getFromCache answers for everything once the node stops serving.
    }

    /** Every cached query result becomes stale, on every node. */
    @Override
    public void clear() {
        invalidations.invalidate(getName(), null);
    }

    @Override
    public void destroy() {
        invalidations.unregister(getName(), this);
    }
}
