package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;

/** Scheduled singletons on an embedded node, the only one to take part, so it owns them. */
public class ClusterSchedulerTest {

    private static final Duration PERIOD = Duration.ofMillis(200);

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    private Cluster cluster;
    private final List<Long> runs = new CopyOnWriteArrayList<>();

    @Before
    public void startNode() {
        cluster = nodes.start();
    }

    @Test(timeout = 30_000)
    public void runsOnceEachPeriodAtItsBoundaryAndIsRunningHere() throws InterruptedException {
        try (ScheduledSingleton schedule = cluster.scheduler().scheduleSingleton("tick", PERIOD, this::record)) {
            assertEquals("tick", schedule.name());
            awaitRuns(5);
            assertTrue(schedule.isRunningHere());
            assertTrue(schedule.toString(), schedule.toString().contains("'tick'"));
        }
        long[] periods = runs.stream().mapToLong(at -> at / PERIOD.toMillis()).toArray();
        for (int i = 1; i < periods.length; i++) {
            assertTrue("period " + periods[i] + " ran after " + periods[i - 1] + ": runs at " + runs,
                    periods[i] > periods[i - 1]);
        }
        assertTrue("runs at " + runs + " skipped periods", periods[periods.length - 1] - periods[0] <= periods.length + 1);
    }

    @Test(timeout = 30_000)
    public void closeStopsTheRunsAndFreesTheName() throws InterruptedException {
        ScheduledSingleton schedule = cluster.scheduler().scheduleSingleton("tick", PERIOD, this::record);
        awaitRuns(2);
        schedule.close();
        assertFalse(schedule.isRunningHere());
        int afterClose = runs.size();
        Thread.sleep(3 * PERIOD.toMillis());
        assertEquals("runs after close", afterClose, runs.size());
        schedule.close();

        try (ScheduledSingleton again = cluster.scheduler().scheduleSingleton("tick", PERIOD, this::record)) {
            assertNotSame(schedule, again);
            awaitRuns(afterClose + 1);
        }
    }

    @Test(timeout = 30_000)
    public void closingTheClusterStopsItsSchedules() throws InterruptedException {
        cluster.scheduler().scheduleSingleton("tick", PERIOD, this::record);
        awaitRuns(1);
        cluster.close();
        int afterClose = runs.size();
        Thread.sleep(3 * PERIOD.toMillis());
        assertEquals("runs after the node closed", afterClose, runs.size());
    }

    @Test(timeout = 30_000)
    public void aTaskThatThrowsRunsAgainNextPeriod() throws InterruptedException {
        AtomicInteger failures = new AtomicInteger();
        try (ScheduledSingleton schedule = cluster.scheduler().scheduleSingleton("failing", PERIOD, () -> {
            record();
            failures.incrementAndGet();
            throw new IllegalStateException("expected by the test");
        })) {
            awaitRuns(3);
        }
        assertTrue(failures.get() >= 3);
    }

    @Test(timeout = 30_000)
    public void aNameIsScheduledOncePerNode() {
        try (ScheduledSingleton schedule = cluster.scheduler().scheduleSingleton("tick", PERIOD, this::record)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> cluster.scheduler().scheduleSingleton("tick", PERIOD, this::record));
            assertTrue(e.getMessage(), e.getMessage().contains("'tick' is already scheduled"));
        }
    }

    @Test
    public void refusesBadArguments() {
        ClusterScheduler scheduler = cluster.scheduler();
        assertThrows(IllegalArgumentException.class, () -> scheduler.scheduleSingleton("", PERIOD, this::record));
        IllegalArgumentException shortPeriod = assertThrows(IllegalArgumentException.class,
                () -> scheduler.scheduleSingleton("t", Duration.ofMillis(99), this::record));
        assertTrue(shortPeriod.getMessage(), shortPeriod.getMessage().contains("at least 100 ms"));
        assertThrows(NullPointerException.class, () -> scheduler.scheduleSingleton(null, PERIOD, this::record));
        assertThrows(NullPointerException.class, () -> scheduler.scheduleSingleton("t", null, this::record));
        assertThrows(NullPointerException.class, () -> scheduler.scheduleSingleton("t", PERIOD, null));
    }

    private void record() {
        runs.add(System.currentTimeMillis());
    }

    private void awaitRuns(int count) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (runs.size() < count) {
            assertTrue("only " + runs.size() + " runs within 10 s", System.currentTimeMillis() < deadline);
            Thread.sleep(20);
        }
    }
}
