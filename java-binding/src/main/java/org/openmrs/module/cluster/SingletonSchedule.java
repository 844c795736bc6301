package org.openmrs.module.cluster;

import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * The {@link ScheduledSingleton} of {@link ClusterScheduler#scheduleSingleton}. One daemon thread
 * wakes at each period boundary (period number = epoch milliseconds / period) and, if this node
 * owns the schedule and the cluster grants that period's run, runs the task; the cluster grants
 * each period once, to the owner only. So runs never overlap on one node, a run that lasts
 * longer than a period makes the periods it covers be skipped (not made up later), and a task
 * that throws is logged while the schedule goes on. Thread-safe.
 */
final class SingletonSchedule implements ScheduledSingleton {

    private static final Logger LOG = Logger.getLogger(SingletonSchedule.class.getName());
    /** How long a close waits for a running task to end before it lets the others take over. */
    private static final long CLOSE_WAIT_MS = 10_000;

    private final NativeNode node;
    private final String name;
    private final long periodMs;
    private final Runnable task;
    private final Thread thread;
    private final Runnable onClose;
    private volatile boolean closed;
    /** The last failure logged at WARNING, so that one lasting failure is not logged each period. */
    private String lastFailure;

    private SingletonSchedule(NativeNode node, String name, long periodMs, Runnable task, Runnable onClose) {
        this.node = node;
        this.name = name;
        this.periodMs = periodMs;
        this.task = task;
        this.onClose = onClose;
        this.thread = new Thread(this::tick, "openmrs-cluster-schedule-" + name);
        this.thread.setDaemon(true);
    }

    /** Joins the schedule in the cluster and starts its thread; {@code onClose} runs once it is closed. */
    static SingletonSchedule start(NativeNode node, String name, long periodMs, Runnable task, Runnable onClose) {
        node.call(handle -> {
            Native.scheduleJoin(handle, name);
            return null;
        });
        SingletonSchedule schedule = new SingletonSchedule(node, name, periodMs, task, onClose);
        schedule.thread.start();
        return schedule;
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * Whether this node owns the schedule now (and its lease is valid); false once closed.
     *
     * @throws ClusterException if this node panicked
     */
    @Override
    public boolean isRunningHere() {
        return !closed && node.call(handle -> Native.scheduleOwned(handle, name));
    }

    /**
     * This node stops taking part; the others go on. Waits for a run in progress to end (up to
     * {@value #CLOSE_WAIT_MS} ms, interrupting it), so that the next owner's run does not overlap
     * it. Does nothing if already closed. On a panicked node it only stops the thread: the
     * panic already ended this node's part.
     */
    @Override
    public void close() {
        if (!stop()) {
            return;
        }
        if (node.isClosed()) {
            return;
        }
        try {
            node.call(handle -> {
                Native.scheduleWithdraw(handle, name);
                return null;
            });
        } catch (ClusterException e) {
            // A panicked node's session has ended, and its part in every schedule with it.
            LOG.log(Level.FINE, "schedule '" + name + "' closed on node '" + node.name() + "' without a withdraw", e);
        }
    }

    /**
     * Stops the thread without telling the cluster, as when the whole node closes (leaving
     * the cluster ends its part in every schedule); false if already stopped.
     */
    boolean stop() {
        synchronized (this) {
            if (closed) {
                return false;
            }
            closed = true;
        }
        onClose.run();
        thread.interrupt();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(CLOSE_WAIT_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                LOG.warning("the task of schedule '" + name + "' on node '" + node.name() + "' still runs "
                        + CLOSE_WAIT_MS + " ms after its close; another node's run may overlap it");
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "ScheduledSingleton{'" + name + "' every " + periodMs + " ms on node '" + node.name() + "'"
                + (closed ? ", closed}" : "}");
    }

    private void tick() {
        long period = System.currentTimeMillis() / periodMs;
        while (!closed && !node.isClosed()) {
            // The next boundary; after a run longer than a period, the periods it covered are skipped.
            period = Math.max(period + 1, System.currentTimeMillis() / periodMs + 1);
            if (!sleepUntil(period * periodMs)) {
                return;
            }
            if (!closed && !node.isClosed()) {
                runIfGranted(period);
            }
        }
    }

    private void runIfGranted(long period) {
        boolean granted;
        try {
            granted = node.call(handle -> Native.scheduleOwned(handle, name)
                    && Native.scheduleRun(handle, name, period, periodMs));
        } catch (RuntimeException e) {
            if (!closed && !node.isClosed()) {
                logFailure("cannot ask the cluster for period " + period, e);
            }
            return;
        }
        if (!granted) {
            return;
        }
        try {
            task.run();
            lastFailure = null;
        } catch (RuntimeException | Error e) {
            logFailure("its task failed in period " + period + "; the schedule goes on", e);
        }
    }

    private void logFailure(String what, Throwable e) {
        String failure = what.replaceAll("period \\d+", "period") + e;
        Level level = failure.equals(lastFailure) ? Level.FINE : Level.WARNING;
        lastFailure = failure;
        LOG.log(level, "schedule '" + name + "' on node '" + node.name() + "': " + what, e);
    }

    /** Sleeps until {@code epochMs}; false if the schedule was closed meanwhile. */
    private boolean sleepUntil(long epochMs) {
        long remaining;
        while ((remaining = epochMs - System.currentTimeMillis()) > 0) {
            try {
                TimeUnit.MILLISECONDS.sleep(remaining);
            } catch (InterruptedException e) {
                if (closed) {
                    return false;
                }
            }
        }
        return !closed;
    }
}
