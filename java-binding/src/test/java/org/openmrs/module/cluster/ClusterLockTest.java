package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;

/** The ClusterLock contract on an embedded node, its owners being threads of this JVM. */
public class ClusterLockTest {

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    private Cluster cluster;
    private ClusterLock lock;

    @Before
    public void startNode() {
        cluster = nodes.start();
        lock = cluster.lock("orders");
    }

    @Test(timeout = 30_000)
    public void oneInstancePerName() {
        assertSame(lock, cluster.lock("orders"));
        assertEquals("orders", lock.name());
        assertTrue(lock.toString(), lock.toString().contains("'orders'"));
        assertTrue(lock.toString(), lock.toString().contains(cluster.nodeName()));
        assertThrows(NullPointerException.class, () -> cluster.lock(null));
    }

    @Test(timeout = 30_000)
    public void reLocksAreCountedAndTheLastUnlockReleases() throws InterruptedException {
        assertFalse(lock.isLocked());
        assertEquals(0, lock.getLockCount());
        assertFalse(lock.isLockedByCurrentThread());

        long fence = lock.lockAndGetFence();
        assertNotEquals(ClusterLock.INVALID_FENCE, fence);
        assertEquals(fence, lock.getFence());
        assertEquals(fence, lock.lockAndGetFence());
        lock.lock();
        assertTrue(lock.tryLock());
        assertEquals(fence, lock.tryLockAndGetFence());
        assertTrue(lock.tryLock(1, TimeUnit.SECONDS));
        lock.lockInterruptibly();
        assertEquals(7, lock.getLockCount());
        assertEquals(fence, lock.getFence());

        for (int count = 6; count >= 1; count--) {
            lock.unlock();
            assertEquals(count, lock.getLockCount());
            assertTrue(lock.isLockedByCurrentThread());
            assertTrue(lock.isLocked());
        }
        lock.unlock();
        assertEquals(0, lock.getLockCount());
        assertFalse(lock.isLockedByCurrentThread());
        assertFalse(lock.isLocked());
        assertThrows(IllegalMonitorStateException.class, lock::getFence);
    }

    @Test(timeout = 30_000)
    public void twoCallsForOneNameShareTheHolds() {
        lock.lock();
        cluster.lock("orders").lock();
        assertEquals(2, lock.getLockCount());
        cluster.lock("orders").unlock();
        lock.unlock();
        assertFalse(lock.isLocked());
    }

    @Test(timeout = 30_000)
    public void unlockWithoutAHoldThrows() throws Exception {
        IllegalMonitorStateException none = assertThrows(IllegalMonitorStateException.class, lock::unlock);
        assertTrue(none.getMessage(), none.getMessage().contains("lock 'orders' is not held by thread"));
        assertThrows(IllegalMonitorStateException.class, lock::getFence);

        lock.lock();
        Throwable byOther = OtherThread.run("other", () -> {
            try {
                lock.unlock();
                return null;
            } catch (IllegalMonitorStateException e) {
                return e;
            }
        });
        assertTrue("unlock by another thread should throw, got " + byOther,
                byOther instanceof IllegalMonitorStateException);
        assertEquals(1, lock.getLockCount());
        lock.unlock();
    }

    @Test(timeout = 30_000)
    public void anotherThreadCannotTakeAHeldLockUntilItIsReleased() throws Exception {
        long fence = lock.lockAndGetFence();
        assertFalse(OtherThread.run("other", lock::tryLock));
        assertEquals(ClusterLock.INVALID_FENCE, (long) OtherThread.run("other", lock::tryLockAndGetFence));
        assertTrue(OtherThread.run("other", lock::isLocked));
        assertFalse(OtherThread.run("other", lock::isLockedByCurrentThread));
        assertEquals(0, (int) OtherThread.run("other", lock::getLockCount));

        lock.unlock();
        long otherFence = OtherThread.run("other", () -> {
            long granted = lock.tryLockAndGetFence();
            lock.unlock();
            return granted;
        });
        assertTrue("fence " + otherFence + " after " + fence, otherFence > fence);
    }

    @Test(timeout = 30_000)
    public void fencesIncreaseWithEveryGrant() throws Exception {
        List<Long> fences = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            fences.add(lock.lockAndGetFence());
            lock.unlock();
            fences.add(OtherThread.run("other-" + i, () -> {
                long granted = lock.tryLockAndGetFence(1, TimeUnit.SECONDS);
                lock.unlock();
                return granted;
            }));
            assertTrue(lock.tryLock());
            fences.add(lock.getFence());
            lock.unlock();
        }
        for (int i = 1; i < fences.size(); i++) {
            assertTrue("fences " + fences, fences.get(i) > fences.get(i - 1));
        }
    }

    @Test(timeout = 30_000)
    public void lockInterruptiblyEndsOnAnInterruptDuringTheWait() throws Exception {
        lock.lock();
        OtherThread<Boolean> waiter = OtherThread.start("waiter", () -> {
            try {
                lock.lockInterruptibly();
                return false;
            } catch (InterruptedException e) {
                return !Thread.currentThread().isInterrupted();
            }
        });
        Thread.sleep(300);
        long interrupted = System.nanoTime();
        waiter.interrupt();
        assertTrue("the waiter should throw InterruptedException and clear its interrupt", waiter.result());
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - interrupted);
        assertTrue("the interrupt ended the wait after " + ms + " ms", ms < 2_000);

        lock.unlock();
        assertFalse("the interrupted waiter must not be granted the lock later", lock.isLocked());
    }

    @Test(timeout = 30_000)
    public void lockInterruptiblyThrowsAtOnceWhenTheInterruptIsAlreadySet() {
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, lock::lockInterruptibly);
        assertFalse(Thread.currentThread().isInterrupted());
        assertFalse(lock.isLocked());
    }

    @Test(timeout = 30_000)
    public void lockWaitsThroughAnInterruptAndKeepsIt() throws Exception {
        lock.lock();
        OtherThread<Boolean> waiter = OtherThread.start("waiter", () -> {
            Thread.currentThread().interrupt();
            lock.lock();
            boolean stillInterrupted = Thread.currentThread().isInterrupted();
            lock.unlock();
            return stillInterrupted;
        });
        Thread.sleep(300);
        lock.unlock();
        assertTrue("lock() should keep the interrupt set", waiter.result());
        assertFalse(lock.isLocked());
    }

    @Test(timeout = 30_000)
    public void tryLockWithATimeoutGivesUpAfterItAndLeavesNoOwner() throws Exception {
        lock.lock();
        long timeoutMs = 500;
        long started = System.nanoTime();
        assertFalse(OtherThread.run("other", () -> lock.tryLock(timeoutMs, TimeUnit.MILLISECONDS)));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue("tryLock(" + timeoutMs + " ms) gave up after " + ms + " ms",
                ms >= timeoutMs && ms < timeoutMs + 1_500);

        lock.unlock();
        assertFalse("the request that timed out must not be granted later", lock.isLocked());
        assertTrue(OtherThread.run("later", () -> {
            boolean granted = lock.tryLock();
            lock.unlock();
            return granted;
        }));
    }

    @Test(timeout = 30_000)
    public void tryLockWithATimeoutGetsALockReleasedDuringTheWait() throws Exception {
        long fence = lock.lockAndGetFence();
        OtherThread<Long> waiter = OtherThread.start("waiter", () -> {
            long granted = lock.tryLockAndGetFence(10, TimeUnit.SECONDS);
            lock.unlock();
            return granted;
        });
        Thread.sleep(200);
        lock.unlock();
        long granted = waiter.result();
        assertTrue("fence " + granted + " after " + fence, granted > fence);
    }

    @Test(timeout = 30_000)
    public void tryLockWithoutATimeoutTakesAFreeLock() {
        assertTrue(lock.tryLockAndGetFence(0, TimeUnit.SECONDS) != ClusterLock.INVALID_FENCE);
        lock.unlock();
    }

    @Test(timeout = 30_000)
    public void tryLockWithATimeoutHonoursInterrupts() throws Exception {
        lock.lock();
        OtherThread<Boolean> waiter = OtherThread.start("waiter", () -> {
            try {
                lock.tryLock(10, TimeUnit.SECONDS);
                return false;
            } catch (InterruptedException e) {
                return true;
            }
        });
        Thread.sleep(300);
        waiter.interrupt();
        assertTrue("tryLock(time) should throw InterruptedException", waiter.result());

        long fence = OtherThread.run("interrupted", () -> {
            Thread.currentThread().interrupt();
            long result = lock.tryLockAndGetFence(10, TimeUnit.SECONDS);
            assertTrue(Thread.currentThread().isInterrupted());
            return result;
        });
        assertEquals(ClusterLock.INVALID_FENCE, fence);
        lock.unlock();
        assertFalse(lock.isLocked());
    }

    @Test(timeout = 30_000)
    public void newConditionIsUnsupported() {
        assertThrows(UnsupportedOperationException.class, lock::newCondition);
    }

    @Test(timeout = 30_000)
    public void callsOnAClosedNodeThrowClusterException() {
        lock.lock();
        cluster.close();
        String name = cluster.nodeName();
        ClusterTest.assertClosed(name, lock::lock);
        ClusterTest.assertClosed(name, lock::unlock);
        ClusterTest.assertClosed(name, lock::tryLock);
        ClusterTest.assertClosed(name, () -> lock.tryLock(1, TimeUnit.SECONDS));
        ClusterTest.assertClosed(name, lock::getFence);
        ClusterTest.assertClosed(name, lock::isLocked);
        ClusterTest.assertClosed(name, lock::isLockedByCurrentThread);
        ClusterTest.assertClosed(name, lock::getLockCount);
    }
}
