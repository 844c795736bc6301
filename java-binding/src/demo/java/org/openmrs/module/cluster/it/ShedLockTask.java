package org.openmrs.module.cluster.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

import net.javacrumbs.shedlock.core.ClockProvider;
import net.javacrumbs.shedlock.core.DefaultLockingTaskExecutor;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.LockingTaskExecutor;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.shedlock.ClusterLockProvider;

/**
 * A task run through ShedLock's own {@link DefaultLockingTaskExecutor} with a
 * {@link ClusterLockProvider}, as OpenMRS's {@code @ScheduledWithLock} runs one. The only class
 * of the child JVM that names ShedLock, so that the others run without it.
 */
final class ShedLockTask {

    private ShedLockTask() {
    }

    /**
     * Executes, under the lock {@code name}, a task that appends {@code <node name> <epoch ms>} to
     * {@code runs} and then sleeps {@code taskMs}; answers {@code SHED <name> ran} or
     * {@code SHED <name> skipped} (the name was held).
     */
    static String execute(Cluster cluster, String name, long lockAtMostForMs, long lockAtLeastForMs, long taskMs,
                          Path runs) throws Throwable {
        LockingTaskExecutor executor = new DefaultLockingTaskExecutor(new ClusterLockProvider(cluster));
        LockConfiguration config = new LockConfiguration(ClockProvider.now(), name,
                Duration.ofMillis(lockAtMostForMs), Duration.ofMillis(lockAtLeastForMs));
        LockingTaskExecutor.TaskResult<Object> result = executor.executeWithLock(() -> {
            String run = cluster.nodeName() + " " + System.currentTimeMillis() + "\n";
            Files.write(runs, run.getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            Thread.sleep(taskMs);
            return null;
        }, config);
        return "SHED " + name + (result.wasExecuted() ? " ran" : " skipped");
    }
}
