package org.openmrs.module.cluster;

/** This node's part in a task that one node of the cluster runs each period. */
public interface ScheduledSingleton extends AutoCloseable {

    String name();

    /** Whether this node currently owns the schedule. */
    boolean isRunningHere();

    /** This node stops taking part; the others go on. */
    @Override
    void close();
}
