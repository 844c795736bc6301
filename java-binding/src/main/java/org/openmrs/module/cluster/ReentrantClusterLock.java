package org.openmrs.module.cluster;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * The {@link ClusterLock} of {@link Cluster#lock(String)}. The owner is (node, Java thread). Each
 * thread's hold, its fence and its count, is kept here: a re-lock only asks this node's replica
 * whether the hold still stands (no network), and the consensus layer sees only a thread's
 * first lock and its last unlock. Waits are cut into slices of {@value #SLICE_MS} ms so that
 * interrupts and deadlines are noticed in between; a wait that ends without a grant withdraws
 * its request, so it leaves no owner behind. Thread-safe.
 */
final class ReentrantClusterLock implements ClusterLock {

    /** The longest one native wait lasts. */
    private static final long SLICE_MS = 100;

    private final NativeNode node;
    private final String name;
    private final ThreadLocal<Hold> holds = new ThreadLocal<Hold>();

    ReentrantClusterLock(NativeNode node, String name) {
        this.node = node;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    /** Waits as long as it takes. An interrupt does not end the wait; it stays set for the caller. */
    @Override
    public void lock() {
        lockAndGetFence();
    }

    /** Waits as long as it takes. An interrupt does not end the wait; it stays set for the caller. */
    @Override
    public long lockAndGetFence() {
        Hold hold = reenter();
        return hold != null ? hold.fence : grant(acquire(Long.MAX_VALUE, false));
    }

    /** As {@link #lock()}, but an interrupt, before or during the wait, ends it with an exception. */
    @Override
    public void lockInterruptibly() throws InterruptedException {
        if (Thread.interrupted()) {
            throw interruptedException();
        }
        if (reenter() == null && grant(acquire(Long.MAX_VALUE, true)) == INVALID_FENCE) {
            Thread.interrupted();
            throw interruptedException();
        }
    }

    @Override
    public boolean tryLock() {
        return tryLockAndGetFence() != INVALID_FENCE;
    }

    @Override
    public long tryLockAndGetFence() {
        Hold hold = reenter();
        return hold != null ? hold.fence : grant(tryOnce());
    }

    /** As {@link #tryLockAndGetFence(long, TimeUnit)}, but an interrupt ends the wait with an exception. */
    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        if (Thread.interrupted()) {
            throw interruptedException();
        }
        long fence = tryLockAndGetFence(time, unit);
        if (fence == INVALID_FENCE && Thread.interrupted()) {
            throw interruptedException();
        }
        return fence != INVALID_FENCE;
    }

    /**
     * Acquires the lock within the wait given (none if it is not positive): returns the fence, or
     * {@link #INVALID_FENCE}. An interrupt, before or during the wait, ends it: the result is then
     * {@link #INVALID_FENCE} and the interrupt stays set.
     */
    @Override
    public long tryLockAndGetFence(long time, TimeUnit unit) {
        Hold hold = reenter();
        if (hold != null) {
            return hold.fence;
        }
        long timeoutNanos = unit.toNanos(time);
        return grant(timeoutNanos > 0 ? acquire(timeoutNanos, true) : tryOnce());
    }

    /**
     * Releases one hold of the current thread; the last releases the lock in the cluster.
     *
     * @throws IllegalMonitorStateException if the current thread does not hold the lock, or its
     *                                      last hold was lost meanwhile (its node lost contact
     *                                      with the majority and the lock passed on)
     */
    @Override
    public void unlock() {
        Hold hold = currentHold();
        if (hold == null) {
            throw notHeld();
        }
        if (--hold.count > 0) {
            return;
        }
        holds.remove();
        release(hold.fence);
    }

    /**
     * The fence of the current thread's hold, as granted. A resource that compares fences refuses
     * it once the lock has passed to another owner.
     */
    @Override
    public long getFence() {
        Hold hold = currentHold();
        if (hold == null) {
            throw notHeld();
        }
        return hold.fence;
    }

    /** Asks the cluster (linearizable): whether anyone holds the lock. */
    @Override
    public boolean isLocked() {
        return node.call(handle -> Native.lockIsLocked(handle, name));
    }

    /** Whether the current thread holds the lock and this node still knows its hold stands; no network. */
    @Override
    public boolean isLockedByCurrentThread() {
        Hold hold = currentHold();
        return hold != null && stands(hold);
    }

    /** The current thread's hold count, 0 if it holds none or its hold no longer stands; no network. */
    @Override
    public int getLockCount() {
        Hold hold = currentHold();
        return hold != null && stands(hold) ? hold.count : 0;
    }

    /** @throws UnsupportedOperationException always */
    @Override
    public Condition newCondition() {
        throw new UnsupportedOperationException("ClusterLock '" + name + "' has no conditions: a Condition cannot"
                + " wait across nodes; signal other nodes with ClusterEvents or a ClusterQueue instead");
    }

    @Override
    public String toString() {
        return "ClusterLock{'" + name + "' on node '" + node.name() + "'}";
    }

    /**
     * Counts one more hold of a thread that holds the lock, and returns it; null if the thread holds
     * none.
     *
     * @throws ClusterException if its hold no longer stands; the hold is dropped
     */
    private Hold reenter() {
        Hold hold = currentHold();
        if (hold == null) {
            return null;
        }
        if (!stands(hold)) {
            throw lost(hold);
        }
        hold.count++;
        return hold;
    }

    private long tryOnce() {
        long threadId = Thread.currentThread().getId();
        return node.call(handle -> Native.lockTry(handle, name, threadId));
    }

    /**
     * Queues a request and waits for its grant until {@code timeoutNanos} (positive) pass or, if
     * {@code stopOnInterrupt}, the thread is interrupted. Returns the fence, or
     * {@link #INVALID_FENCE} if the wait ended without a grant. Then, and when a call fails, the
     * request is withdrawn.
     */
    private long acquire(long timeoutNanos, boolean stopOnInterrupt) {
        if (stopOnInterrupt && Thread.currentThread().isInterrupted()) {
            return INVALID_FENCE;
        }
        long threadId = Thread.currentThread().getId();
        long requestId = node.nextRequestId();
        try {
            long deadline = System.nanoTime() + timeoutNanos;
            long remaining = timeoutNanos;
            do {
                long waitMs = Math.min(SLICE_MS, TimeUnit.NANOSECONDS.toMillis(remaining) + 1);
                long fence = node.call(handle -> Native.lockAcquire(handle, name, threadId, requestId, waitMs));
                if (fence != INVALID_FENCE) {
                    return fence;
                }
                remaining = deadline - System.nanoTime();
            } while (remaining > 0 && !(stopOnInterrupt && Thread.currentThread().isInterrupted()));
        } catch (RuntimeException e) {
            try {
                cancel(threadId, requestId);
            } catch (RuntimeException cancelFailure) {
                e.addSuppressed(cancelFailure);
            }
            throw e;
        }
        cancel(threadId, requestId);
        return INVALID_FENCE;
    }

    private void cancel(long threadId, long requestId) {
        node.call(handle -> {
            Native.lockCancel(handle, name, threadId, requestId);
            return null;
        });
    }

    private void release(long fence) {
        long threadId = Thread.currentThread().getId();
        node.call(handle -> {
            Native.lockRelease(handle, name, threadId, fence);
            return null;
        });
    }

    /** Records a grant as the current thread's first hold; passes {@link #INVALID_FENCE} through. */
    private long grant(long fence) {
        if (fence != INVALID_FENCE) {
            holds.set(new Hold(fence));
        }
        return fence;
    }

    /** @throws ClusterException if the node is closed */
    private Hold currentHold() {
        node.ensureOpen();
        return holds.get();
    }

    /** Whether this node's replica still records the hold and its lease on its session is valid. */
    private boolean stands(Hold hold) {
        long threadId = Thread.currentThread().getId();
        return node.call(handle -> Native.lockHeld(handle, name, threadId, hold.fence));
    }

    /**
     * Drops a hold that no longer stands and releases what the cluster may still record of it (if
     * this node regained contact before its session ended), so that it leaves no owner behind.
     */
    private ClusterException lost(Hold hold) {
        holds.remove();
        ClusterException lost = new ClusterException("lock '" + name + "' was lost: node '" + node.name()
                + "' lost contact with the cluster majority, so the lock may have passed to another owner;"
                + " its fence " + hold.fence + " is stale");
        try {
            release(hold.fence);
        } catch (RuntimeException releaseFailure) {
            lost.addSuppressed(releaseFailure);
        }
        return lost;
    }

    private IllegalMonitorStateException notHeld() {
        return new IllegalMonitorStateException("lock '" + name + "' is not held by thread '"
                + Thread.currentThread().getName() + "' on node '" + node.name() + "'");
    }

    private InterruptedException interruptedException() {
        return new InterruptedException("interrupted while waiting for lock '" + name + "' on node '"
                + node.name() + "'");
    }

    /** A thread's hold: the fence of its grant and how many times it locked. Only that thread touches it. */
    private static final class Hold {

        final long fence;
        int count = 1;

        Hold(long fence) {
            this.fence = fence;
        }
    }
}
