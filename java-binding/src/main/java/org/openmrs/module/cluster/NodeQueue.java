package org.openmrs.module.cluster;

import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * The {@link ClusterQueue} of {@link Cluster#queue(String)}: items are Java-serialized and kept
 * in the consensus state machine. {@link #poll(Duration)} waits in native slices of at most
 * {@value #SLICE_MS} ms, each woken by a commit rather than a timer, so that an interrupt ends
 * a long wait: the poll then returns empty with the interrupt still set. Items are read with the
 * class loader of the calling thread's context, or else with that of the code that created the
 * queue. Thread-safe.
 *
 * @param <T> the item type
 */
final class NodeQueue<T extends Serializable> implements ClusterQueue<T> {

    /** The longest one native wait lasts. */
    private static final long SLICE_MS = 1000;
    private static final int CLAIM_ID_BYTES = 8;

    private final NativeNode node;
    private final String name;
    private final ClassLoader creatorLoader;
    private final AllowedClasses allowed;

    NodeQueue(NativeNode node, String name, ClassLoader creatorLoader, AllowedClasses allowed) {
        this.node = node;
        this.name = name;
        this.creatorLoader = creatorLoader;
        this.allowed = allowed;
    }

    /**
     * Appends the item; returns once the cluster has committed it.
     *
     * @throws NullPointerException     if the item is null
     * @throws IllegalArgumentException if it cannot be serialized
     * @throws ClusterException         if this node is closed or panicked, or no leader answers
     */
    @Override
    public void offer(T item) {
        Objects.requireNonNull(item, "item");
        byte[] bytes = ItemSerializer.toBytes(item, "an item of queue '" + name + "'");
        node.call(handle -> {
            Native.queueOffer(handle, name, bytes);
            return null;
        });
    }

    /**
     * Claims the oldest unclaimed item, waiting up to {@code wait} for one to be offered (none if
     * it is not positive). Empty when nothing came within the wait, or when the thread was
     * interrupted (the interrupt stays set).
     *
     * @throws ClusterException if this node is closed or panicked, or if the item's class cannot
     *                          be loaded here (the claim is then released)
     */
    @Override
    public Optional<Claim<T>> poll(Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        long remainingMs = wait.toMillis();
        while (!Thread.currentThread().isInterrupted()) {
            long sliceMs = Math.max(0, Math.min(SLICE_MS, remainingMs));
            byte[] claimed = node.call(handle -> Native.queuePoll(handle, name, sliceMs));
            if (claimed != null) {
                return Optional.<Claim<T>>of(claim(claimed));
            }
            remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (remainingMs <= 0) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Items offered and not yet acknowledged, as this node's replica knows them. */
    @Override
    public long size() {
        return node.call(handle -> Native.queueSize(handle, name));
    }

    @Override
    public String toString() {
        return "ClusterQueue{'" + name + "' on node '" + node.name() + "'}";
    }

    private NodeClaim<T> claim(byte[] claimed) {
        long claimId = ByteBuffer.wrap(claimed, 0, CLAIM_ID_BYTES).getLong();
        Object item;
        try {
            item = ItemSerializer.fromBytes(claimed, CLAIM_ID_BYTES, claimed.length - CLAIM_ID_BYTES, creatorLoader,
                    allowed, "queue '" + name + "'");
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            ClusterException unreadable = new ClusterException("an item of queue '" + name
                    + "' cannot be read on node '" + node.name() + "' (" + e + "); it was put back in the queue:"
                    + " make its class visible to the thread's context class loader", e);
            try {
                settle(claimId, false);
            } catch (RuntimeException releaseFailure) {
                unreadable.addSuppressed(releaseFailure);
            }
            throw unreadable;
        }
        @SuppressWarnings("unchecked")
        T typed = (T) item;
        return new NodeClaim<T>(this, claimId, typed);
    }

    /** Acknowledges or releases a claim; false if this node no longer holds it. */
    private boolean settle(long claimId, boolean ack) {
        return node.call(handle -> Native.queueSettle(handle, name, claimId, ack));
    }

    /** A claim of this node: settled once, by {@link #ack()} or {@link #release()}. */
    private static final class NodeClaim<T extends Serializable> implements Claim<T> {

        private final NodeQueue<T> queue;
        private final long claimId;
        private final T item;
        private final AtomicBoolean settled = new AtomicBoolean();

        NodeClaim(NodeQueue<T> queue, long claimId, T item) {
            this.queue = queue;
            this.claimId = claimId;
            this.item = item;
        }

        @Override
        public T item() {
            return item;
        }

        /**
         * The item leaves the queue.
         *
         * @throws IllegalStateException if the claim was settled already, or lost (this node's
         *                               session ended and the item went back to the queue)
         */
        @Override
        public void ack() {
            settle(true);
        }

        /**
         * The item goes back to its place in line, for another claim.
         *
         * @throws IllegalStateException if the claim was settled already, or lost
         */
        @Override
        public void release() {
            settle(false);
        }

        private void settle(boolean ack) {
            if (!settled.compareAndSet(false, true)) {
                throw new IllegalStateException("claim " + claimId + " of queue '" + queue.name
                        + "' was already acknowledged or released");
            }
            boolean held;
            try {
                held = queue.settle(claimId, ack);
            } catch (RuntimeException e) {
                settled.set(false); // Nothing was settled: the caller may try again.
                throw e;
            }
            if (!held) {
                throw new IllegalStateException("claim lost: node's session ended; the item went back to the queue"
                        + " (claim " + claimId + " of queue '" + queue.name + "' on node '" + queue.node.name() + "')");
            }
        }

        @Override
        public String toString() {
            return "Claim{" + claimId + " of queue '" + queue.name + "': " + item + "}";
        }
    }
}
