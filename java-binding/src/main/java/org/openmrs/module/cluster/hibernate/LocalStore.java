package org.openmrs.module.cluster.hibernate;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one region holds on this node: values loaded here, and for each key the local time of
 * its last invalidation. A value read from the database by a transaction that began before an
 * invalidation of its key was received here (or before the whole region's) is refused: that
 * read may have seen the row before the other node's commit. Both times are readings of this
 * node's {@link LocalClock}, so no other node's clock matters.
 */
final class LocalStore {

    /** How long an invalidation is remembered per key; older ones fold into {@link #floor}. */
    private static final long REMEMBER_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** Invalidations between two sweeps for old ones. */
    private static final int SWEEP_EVERY = 4096;

    /** A value (null when invalidated) and the time of the key's last invalidation (0: none). */
    private static final class Slot {
        final Object value;
        final long invalidatedAt;

        Slot(Object value, long invalidatedAt) {
            this.value = value;
            this.invalidatedAt = invalidatedAt;
        }
    }

    private final ConcurrentHashMap<RegionKey, Slot> slots = new ConcurrentHashMap<RegionKey, Slot>();
    private final long maxEntries;
    private final AtomicInteger sinceSweep = new AtomicInteger();
    /** No value is taken from a transaction that began at or before this. */
    private volatile long floor;

    LocalStore(long maxEntries) {
        this.maxEntries = maxEntries;
    }

    Object get(RegionKey key) {
        Slot slot = slots.get(key);
        return slot == null ? null : slot.value;
    }

    /** Keeps the value unless its key, or the region, was invalidated after {@code txStart}. */
    boolean putFromLoad(RegionKey key, Object value, long txStart) {
        if (slots.size() >= maxEntries && !slots.containsKey(key)) {
            return false;
        }
        boolean[] kept = new boolean[1];
        slots.compute(key, (k, slot) -> {
            // Read inside compute: a region invalidation raises the floor before it clears.
            if (txStart <= floor || slot != null && slot.invalidatedAt >= txStart) {
                return slot;
            }
            kept[0] = true;
            return new Slot(value, slot == null ? 0 : slot.invalidatedAt);
        });
        return kept[0];
    }

    void invalidate(RegionKey key, long now) {
        slots.compute(key, (k, slot) -> new Slot(null, Math.max(now, slot == null ? 0 : slot.invalidatedAt)));
        if (sinceSweep.incrementAndGet() >= SWEEP_EVERY) {
            sinceSweep.set(0);
            forgetOldInvalidations(now);
        }
    }

    void invalidateAll(long now) {
        raiseFloor(now);
        slots.clear();
    }

    /** Bounds the memory of invalidations: an old one is replaced by raising the floor past it. */
    private void forgetOldInvalidations(long now) {
        for (Iterator<Map.Entry<RegionKey, Slot>> it = slots.entrySet().iterator(); it.hasNext();) {
            Map.Entry<RegionKey, Slot> entry = it.next();
            Slot slot = entry.getValue();
            if (slot.value == null && now - slot.invalidatedAt > REMEMBER_NANOS) {
                raiseFloor(slot.invalidatedAt);
                slots.remove(entry.getKey(), slot);
            }
        }
    }

    private synchronized void raiseFloor(long to) {
        if (to > floor) {
            floor = to;
        }
    }
}
