package org.openmrs.module.cluster;

/**
 * An item of a {@link ClusterQueue} held by this node until acknowledged or released. A claim
 * whose node dies or leaves goes back to the queue.
 *
 * @param <T> the item type
 */
public interface Claim<T> {

    T item();

    /** The item is done with and leaves the queue. */
    void ack();

    /** The item goes back to the queue for another claim. */
    void release();
}
