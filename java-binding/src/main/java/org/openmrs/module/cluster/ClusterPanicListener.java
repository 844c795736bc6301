package org.openmrs.module.cluster;

/**
 * Told when this node enters panic: it lost contact with the majority of the cluster's voters
 * for longer than the panic timeout. Called once, on a thread of the library; from then on
 * every lock, queue and scheduler call on that node throws {@link ClusterException}.
 */
@FunctionalInterface
public interface ClusterPanicListener {

    /** @param reason why this node panicked, in words a person can act on */
    void onPanic(String reason);
}
