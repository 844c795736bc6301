package org.openmrs.module.cluster.omod;

import java.util.Properties;

import org.openmrs.module.cluster.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one cluster node of this module's class loader: started from the runtime properties when
 * the module starts, closed when it stops. A module stopped and started again by an administrator
 * comes back in a new class loader, so this state never outlives one start.
 */
final class ModuleNode {

    private static final Logger LOG = LoggerFactory.getLogger(ModuleNode.class);

    private static volatile Cluster node;
    /** Why the node panicked, or null while it has not. */
    private static volatile String panic;

    private ModuleNode() {
    }

    /**
     * Starts the node the {@code cluster.*} keys describe ({@link
     * Cluster#startFromProperties(Properties)}): without any, a one-node embedded cluster, so that
     * one server with the module and no configuration runs as before.
     *
     * @throws IllegalArgumentException naming the key of a wrong configuration value
     * @throws org.openmrs.module.cluster.ClusterException when the node cannot join
     */
    static synchronized void start(Properties runtimeProperties) {
        if (node != null) {
            return;
        }
        Cluster started = Cluster.startFromProperties(runtimeProperties);
        panic = null;
        started.onPanic(reason -> {
            panic = reason;
            LOG.error("openmrs-cluster node {} panicked; every request is now answered with 503 until this server"
                    + " restarts: {}", started.nodeName(), reason);
        });
        node = started;
    }

    static synchronized void stop() {
        Cluster running = node;
        node = null;
        if (running != null) {
            running.close();
        }
    }

    /** One line for a probe: "UP", the node and how many members it sees, or "DOWN" and why. */
    static String health() {
        Cluster running = node;
        String why = panic;
        if (running == null) {
            return "DOWN the cluster module has not started its node";
        }
        return why == null ? "UP " + running.nodeName() + " " + running.members().size() + " members"
                : "DOWN panicked: " + why;
    }

    /** Why this server's node panicked, or null while it has not. */
    static String panic() {
        return panic;
    }

    static Cluster node() {
        Cluster running = node;
        if (running == null) {
            throw new IllegalStateException("the cluster module has not started its node");
        }
        return running;
    }
}
