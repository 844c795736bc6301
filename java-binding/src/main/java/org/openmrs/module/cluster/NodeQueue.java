package org.openmrs.module.cluster;

import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * The {@link ClusterQueue} of {@link Cluster#queue(String)}: items are Java-serialized and kept
 * in the consensus state machine. {@link #poll(Duration)} waits in native slices of at most
 * {@value #SLICE_MS} ms, each woken by a commit rather than a timer, so that an interrupt ends
 * a long wait: the poll then returns empty with the interrupt still set. Items are read with the
 * class loader of the calling thread's context, or else with that of the code that created the
 * queue, and only if the node's allow-list allows every class they name; an item that cannot be
 * read becomes a dead letter, and the poll goes on to the next. Thread-safe.
 *
 * @param <T> the item type
 */
final class NodeQueue<T extends Serializable> implements ClusterQueue<T> {

    /** The longest one native wait lasts. */
    private static final long SLICE_MS = 1000;
    private static final int CLAIM_ID_BYTES = 8;
    private static final Logger LOG = Logger.getLogger(NodeQueue.class.getName());

    private final NativeNode node;
    private final String name;
    private final ClassLoader creatorLoader;
    private final AllowedClasses allowed;
    /** Dead letters are logged once per kind of failure: a stream of bad items must not flood the log. */
    private final LogOnce setAside = new LogOnce(LOG);

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
     * interrupted (the interrupt stays set). An item this node cannot read (its class is outside
     * the allow-list or unknown here, or its bytes are garbled) becomes a dead letter, logged once
     * per kind of failure, and the poll goes on to the next item.
     *
     * @throws ClusterException if this node is closed or panicked, or if an item it cannot read
     *                          could not be set aside (it then stays claimed by this node until its
     *                          session ends)
     */
    @Override
    public Optional<Claim<T>> poll(Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        long remainingMs = wait.toMillis();
        while (!Thread.currentThread().isInterrupted()) {
            long sliceMs = Math.max(0, Math.min(SLICE_MS, remainingMs));
            byte[] claimed = node.call(handle -> Native.queuePoll(handle, name, sliceMs));
            if (claimed != null) {
                NodeClaim<T> claim = readOrSetAside(claimed);
                if (claim != null) {
                    return Optional.<Claim<T>>of(claim);
                }
            }
            remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            // After a dead letter, the next item may be there already: one more claim, waiting no longer.
            if (claimed == null && remainingMs <= 0) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Items offered and not yet acknowledged, as this node's replica knows them; dead letters are not counted. */
    @Override
    public long size() {
        return node.call(handle -> Native.queueSize(handle, name));
    }

    /** The dead letters as this node's replica knows them, the first offered first. */
    @Override
    public List<DeadLetter> deadLetters() {
        byte[][] letters = node.call(handle -> Native.queueDeadLetters(handle, name));
        List<DeadLetter> list = new ArrayList<DeadLetter>(letters.length);
        for (byte[] letter : letters) {
            list.add(DeadLetter.fromNative(letter));
        }
        return Collections.unmodifiableList(list);
    }

    /**
     * @throws IllegalArgumentException if {@code id} is not positive
     * @throws ClusterException         if this node is closed or panicked, or no leader answers
     */
    @Override
    public boolean removeDeadLetter(long id) {
        if (id <= 0) {
            throw new IllegalArgumentException("dead letter ids are positive, got " + id);
        }
        return node.call(handle -> Native.queueClearDeadLetters(handle, name, id)) == 1;
    }

    /** @throws ClusterException if this node is closed or panicked, or no leader answers */
    @Override
    public long clearDeadLetters() {
        return node.call(handle -> Native.queueClearDeadLetters(handle, name, 0));
    }

    @Override
    public String toString() {
        return "ClusterQueue{'" + name + "' on node '" + node.name() + "'}";
    }

    /** The claim of the item in {@code claimed}; null if it could not be read and was set aside. */
    private NodeClaim<T> readOrSetAside(byte[] claimed) {
        long claimId = ByteBuffer.wrap(claimed, 0, CLAIM_ID_BYTES).getLong();
        Object item;
        try {
            item = ItemSerializer.fromBytes(claimed, CLAIM_ID_BYTES, claimed.length - CLAIM_ID_BYTES, creatorLoader,
                    allowed, "queue '" + name + "'");
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            setAside(claimId, e);
            return null;
        }
        @SuppressWarnings("unchecked")
        T typed = (T) item;
        return new NodeClaim<T>(this, claimId, typed);
    }

    private void setAside(long claimId, Exception unreadable) {
        // A refusal names a class already cleaned; other messages may quote what a peer sent.
        String reason = unreadable instanceof RefusedClassException ? unreadable.getMessage()
                : PeerText.clean(unreadable.toString());
        boolean held;
        try {
            held = node.call(handle -> Native.queueSetAside(handle, name, claimId, reason, System.currentTimeMillis()));
        } catch (RuntimeException e) {
            ClusterException failed = new ClusterException("item " + claimId + " of queue '" + name
                    + "' cannot be read on node '" + node.name() + "' (" + reason + ") and could not be set aside"
                    + " as a dead letter: " + e.getMessage(), e);
            failed.addSuppressed(unreadable);
            throw failed;
        }
        if (held) {
            setAside.warn(unreadable.getClass().getName(), () -> "item " + claimId + " of queue '" + name
                    + "' cannot be read on node '" + node.name() + "' (" + reason + "); it was set aside as a dead"
                    + " letter (ClusterQueue.deadLetters()), and later ones of this kind are logged at FINE only");
        }
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
