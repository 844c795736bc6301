package org.openmrs.module.cluster.shedlock;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import net.javacrumbs.shedlock.core.ClockProvider;
import net.javacrumbs.shedlock.core.DefaultLockingTaskExecutor;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.LockingTaskExecutor;
import net.javacrumbs.shedlock.core.SimpleLock;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterException;
import org.openmrs.module.cluster.EmbeddedNodes;
import org.openmrs.module.cluster.OtherThread;

/** ClusterLockProvider under ShedLock's own executor, on an embedded node. */
public class ClusterLockProviderTest {

    private static final Duration LONG = Duration.ofSeconds(30);
    private static final Duration SHORT = Duration.ofMillis(800);
    /** How late a hold may end: the poll interval, the commit, and a loaded machine. */
    private static final long SLACK_MS = 2_000;

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    private Cluster cluster;
    private ClusterLockProvider provider;
    private LockingTaskExecutor executor;

    @Before
    public void startNode() {
        cluster = nodes.start();
        provider = new ClusterLockProvider(cluster);
        executor = new DefaultLockingTaskExecutor(provider);
    }

    @Test(timeout = 30_000)
    public void theExecutorRunsATaskAndFreesItsName() {
        AtomicInteger runs = new AtomicInteger();
        assertTrue(execute(config("report", LONG, Duration.ZERO), runs::incrementAndGet));
        assertEquals(1, runs.get());
        Optional<SimpleLock> again = provider.lock(config("report", LONG, Duration.ZERO));
        assertTrue("the name should be free once the task ended", again.isPresent());
        again.get().unlock();
    }

    @Test(timeout = 30_000)
    public void aSecondExecutionOfTheSameNameSkipsWhileTheFirstRuns() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        OtherThread<Boolean> first = OtherThread.start("first", () -> execute(config("report", LONG, Duration.ZERO),
                () -> {
                    running.countDown();
                    return finish.await(10, TimeUnit.SECONDS);
                }));
        assertTrue(running.await(10, TimeUnit.SECONDS));

        AtomicInteger runs = new AtomicInteger();
        assertFalse("the second execution should have been skipped",
                execute(config("report", LONG, Duration.ZERO), runs::incrementAndGet));
        assertEquals(0, runs.get());
        assertTrue("another name is independent", execute(config("other", LONG, Duration.ZERO), runs::incrementAndGet));

        finish.countDown();
        assertTrue(first.result());
    }

    @Test(timeout = 30_000)
    public void lockAtLeastForKeepsTheNameHeldAfterTheTaskEnds() {
        LockConfiguration config = config("report", LONG, SHORT);
        assertTrue(execute(config, () -> "done"));
        assertFalse("lockAtLeastFor should keep the name held", provider.lock(config("report", LONG, Duration.ZERO))
                .isPresent());
        assertFreedAround(config.getLockAtLeastUntil(), "report");
    }

    @Test(timeout = 30_000)
    public void lockAtMostForFreesANameThatIsNeverUnlocked() {
        LockConfiguration config = config("report", SHORT, Duration.ZERO);
        assertTrue(provider.lock(config).isPresent());
        assertFalse(provider.lock(config("report", LONG, Duration.ZERO)).isPresent());
        assertFreedAround(config.getLockAtMostUntil(), "report");
    }

    @Test(timeout = 30_000)
    public void aClosedNodeRefusesToLock() {
        cluster.close();
        ClusterException e = assertThrows(ClusterException.class,
                () -> provider.lock(config("x", LONG, Duration.ZERO)));
        assertEquals("node '" + cluster.nodeName() + "' is closed", e.getMessage());
    }

    /** Runs {@code task} under ShedLock's executor: true if it ran, false if it was skipped. */
    private boolean execute(LockConfiguration config, LockingTaskExecutor.TaskWithResult<?> task) {
        try {
            return executor.executeWithLock(task, config).wasExecuted();
        } catch (Throwable e) {
            throw new AssertionError("the task or its lock failed", e);
        }
    }

    private static LockConfiguration config(String name, Duration lockAtMostFor, Duration lockAtLeastFor) {
        return new LockConfiguration(ClockProvider.now(), name, lockAtMostFor, lockAtLeastFor);
    }

    /** Polls until {@code name} can be locked, and checks that it could not before {@code until}. */
    private void assertFreedAround(Instant until, String name) {
        while (true) {
            // The provider reads the clock itself, between these two readings.
            Instant tried = ClockProvider.now();
            Optional<SimpleLock> lock = provider.lock(config(name, LONG, Duration.ZERO));
            Instant answered = ClockProvider.now();
            if (lock.isPresent()) {
                lock.get().unlock();
                assertFalse("'" + name + "' was free by " + answered + ", before " + until, answered.isBefore(until));
                return;
            }
            assertTrue("'" + name + "' still held at " + tried + ", " + SLACK_MS + " ms after " + until,
                    tried.isBefore(until.plusMillis(SLACK_MS)));
            sleep(50);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
