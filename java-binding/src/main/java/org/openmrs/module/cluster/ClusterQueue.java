package org.openmrs.module.cluster;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A cluster-wide FIFO queue whose items are claimed before they are acknowledged. Each item is
 * held by one claim at a time, in the order of offers. An item offered is never lost while a
 * majority of the voters lives. An item that the node which claimed it cannot read becomes a
 * {@link DeadLetter} instead of blocking the queue.
 *
 * @param <T> the item type
 */
public interface ClusterQueue<T extends Serializable> {

    void offer(T item);

    /** Claims the next item, waiting up to {@code wait}; empty when nothing came within it. */
    Optional<Claim<T>> poll(Duration wait);

    /** The number of items not yet acknowledged; dead letters are not counted. */
    long size();

    /**
     * The items set aside because the node that claimed them could not read them (see
     * {@link DeadLetter}), the first offered first, as this node's replica knows them. A queue
     * keeps at most 1000: past that, the dead letter offered first is dropped, with a warning in
     * the log of the node that set the new one aside.
     */
    List<DeadLetter> deadLetters();

    /**
     * Removes the dead letter {@code id}; false if the queue has none of that id.
     *
     * @throws IllegalArgumentException if {@code id} is not positive
     */
    boolean removeDeadLetter(long id);

    /** Removes every dead letter of the queue; returns how many there were. */
    long clearDeadLetters();
}
