package org.openmrs.module.cluster;

import java.time.Duration;

/**
 * Runs tasks coordinated across the cluster. For a given name, at most one node runs each
 * period's execution, and executions go on while any node that scheduled it is alive: when the
 * owner dies, another takes over within failure detection plus one period, without running a
 * period twice.
 */
public interface ClusterScheduler {

    ScheduledSingleton scheduleSingleton(String name, Duration period, Runnable task);
}
