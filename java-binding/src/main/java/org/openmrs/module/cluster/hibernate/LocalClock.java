package org.openmrs.module.cluster.hibernate;

/**
 * Hibernate's cache timestamps on this node: nanoseconds of the monotonic clock, so that a
 * transaction's start and the receipt of an invalidation are both read from one clock that
 * neither NTP nor another node's clock can move. Timestamps of two nodes are never compared.
 */
final class LocalClock {

    /** One less than the first reading, so that every timestamp is positive. */
    private static final long ORIGIN = System.nanoTime() - 1;

    private LocalClock() {
    }

    static long now() {
        return System.nanoTime() - ORIGIN;
    }
}
