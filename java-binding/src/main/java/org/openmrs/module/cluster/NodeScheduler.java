package org.openmrs.module.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import org.openmrs.module.cluster.internal.NativeNode;

/**
 * The {@link ClusterScheduler} of {@link Cluster#scheduler()}. One schedule per name on a node:
 * scheduling a name that is scheduled here and not closed throws {@link IllegalStateException},
 * as a second {@code scheduleSingleton} would otherwise silently replace or double the task;
 * once the schedule is closed, the name may be scheduled again. Thread-safe.
 */
final class NodeScheduler implements ClusterScheduler {

    /** The shortest period: a shorter one would spend the cluster's time on ownership checks. */
    static final long MIN_PERIOD_MS = 100;

    private final NativeNode node;
    private final ConcurrentMap<String, SingletonSchedule> schedules = new ConcurrentHashMap<String, SingletonSchedule>();

    NodeScheduler(NativeNode node) {
        this.node = node;
    }

    /**
     * Takes part in the schedule {@code name}: of the nodes taking part, the owner runs
     * {@code task} once at each period boundary (epoch milliseconds divisible by the period), and
     * when the owner dies, leaves or panics, another takes over within failure detection plus one
     * period, without running a period twice.
     *
     * @throws IllegalArgumentException if the name is empty or the period shorter than 100 ms
     * @throws IllegalStateException    if this node already has a schedule of this name, not closed
     * @throws ClusterException         if this node is closed or panicked
     */
    @Override
    public ScheduledSingleton scheduleSingleton(String name, Duration period, Runnable task) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(task, "task");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("a scheduled singleton needs a non-empty name");
        }
        if (period.toMillis() < MIN_PERIOD_MS) {
            throw new IllegalArgumentException("the period of schedule '" + name + "' is " + period.toMillis()
                    + " ms; it must be at least " + MIN_PERIOD_MS + " ms");
        }
        node.ensureOpen();
        synchronized (schedules) {
            if (schedules.containsKey(name)) {
                throw new IllegalStateException("schedule '" + name + "' is already scheduled on node '" + node.name()
                        + "'; close its ScheduledSingleton before scheduling the name again");
            }
            SingletonSchedule schedule = SingletonSchedule.start(node, name, period.toMillis(), task,
                    () -> schedules.remove(name));
            schedules.put(name, schedule);
            return schedule;
        }
    }

    /** Stops every schedule's thread, as the node closes (its leave ends its part in them). */
    void stopAll() {
        List<SingletonSchedule> open;
        synchronized (schedules) {
            open = new ArrayList<SingletonSchedule>(schedules.values());
        }
        for (SingletonSchedule schedule : open) {
            schedule.stop();
        }
    }

    @Override
    public String toString() {
        return "ClusterScheduler{node '" + node.name() + "', schedules " + schedules.keySet() + "}";
    }
}
