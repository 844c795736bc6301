package org.openmrs.module.cluster;

import java.io.Serializable;
import java.time.Duration;
import java.util.Optional;

/**
 * A cluster-wide FIFO queue whose items are claimed before they are acknowledged. Each item is
 * held by one claim at a time, in the order of offers. An item offered is never lost while a
 * majority of the voters lives.
 *
 * @param <T> the item type
 */
public interface ClusterQueue<T extends Serializable> {

    void offer(T item);

    /** Claims the next item, waiting up to {@code wait}; empty when nothing came within it. */
    Optional<Claim<T>> poll(Duration wait);

    /** The number of items not yet acknowledged. */
    long size();
}
