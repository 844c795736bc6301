package org.openmrs.module.cluster;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

/**
 * A reentrant lock held by one owner at a time across the whole cluster, an owner being a
 * (node, Java thread) pair. Grants are linearizable: at no moment do two owners hold one lock.
 * Each grant carries a fence, strictly increasing per lock name over the cluster's life, so a
 * resource can reject a stale holder. When a holder's node dies or is cut off, its locks pass
 * on within the bound given in the documentation.
 *
 * <p>{@link #unlock()} by a thread that does not hold the lock throws
 * {@link IllegalMonitorStateException}; {@link #newCondition()} throws
 * {@link UnsupportedOperationException}; {@link #lockInterruptibly()} honours interrupts.
 */
public interface ClusterLock extends Lock {

    /** The fence returned when a lock was not acquired; never the fence of a grant. */
    long INVALID_FENCE = 0L;

    String name();

    /** Acquires the lock, waiting as long as it takes, and returns the grant's fence. */
    long lockAndGetFence();

    /** Acquires the lock if it is free now; returns its fence, or {@link #INVALID_FENCE}. */
    long tryLockAndGetFence();

    /** Acquires the lock within the wait given; returns its fence, or {@link #INVALID_FENCE}. */
    long tryLockAndGetFence(long time, TimeUnit unit);

    /**
     * The fence of the current thread's hold.
     *
     * @throws IllegalMonitorStateException if the current thread does not hold the lock
     */
    long getFence();

    /** Whether anyone in the cluster holds the lock. */
    boolean isLocked();

    boolean isLockedByCurrentThread();

    /** The current thread's reentrant hold count; 0 when it does not hold the lock. */
    int getLockCount();
}
