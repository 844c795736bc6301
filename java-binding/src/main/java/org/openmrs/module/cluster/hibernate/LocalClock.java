package org.openmrs.module.cluster.hibernate;

import java.util.concurrent.TimeUnit;

/**
 * Hibernate's cache timestamps on this node: nanoseconds of the monotonic clock, so that a
 * transaction's start and the receipt of an invalidation are both read from one clock that
 * neither NTP nor another node's clock can move. Timestamps of two nodes are never compared.
 */
final class LocalClock {

    /**
     * System property, for tests: milliseconds this node's readings run ahead, as if its clock
     * were skewed. Since no reading is compared with another node's, it must change nothing.
     */
    static final String OFFSET_PROPERTY = "openmrs.cluster.hibernate.clock.offset.ms";

    /** One less than the first reading (moved by the offset), so that every timestamp is positive. */
    private static final long ORIGIN = System.nanoTime() - 1
            - TimeUnit.MILLISECONDS.toNanos(Math.max(0, Long.getLong(OFFSET_PROPERTY, 0)));

    private LocalClock() {
    }

    static long now() {
        return System.nanoTime() - ORIGIN;
    }
}
