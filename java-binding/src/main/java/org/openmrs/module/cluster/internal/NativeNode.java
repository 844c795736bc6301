package org.openmrs.module.cluster.internal;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongFunction;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterException;

/**
 * A started node's native handle, and what every feature needs around it: the check that the
 * node is still open, and the request ids of its lock calls. Not part of the public API.
 * Thread-safe.
 */
public final class NativeNode {

    /** How {@link #of(Cluster)} reaches a Cluster's node; set once, by Cluster's static initializer. */
    private static volatile Function<Cluster, NativeNode> nodeOfCluster;

    private final long handle;
    private final String name;
    private final AtomicLong requestIds = new AtomicLong();
    private volatile boolean closed;

    /** Wraps the open node {@code handle}, named {@code name}. */
    public NativeNode(long handle, String name) {
        this.handle = handle;
        this.name = name;
    }

    /**
     * Lets {@link #of(Cluster)} reach the node of a Cluster, which its public API does not show.
     *
     * @throws IllegalStateException when called a second time
     */
    public static synchronized void exposeNodesOf(Function<Cluster, NativeNode> accessor) {
        if (nodeOfCluster != null) {
            throw new IllegalStateException("the nodes of Cluster are already exposed");
        }
        nodeOfCluster = accessor;
    }

    /** The node behind {@code cluster}, for this library's packages other than the API's own. */
    public static NativeNode of(Cluster cluster) {
        return nodeOfCluster.apply(Objects.requireNonNull(cluster, "cluster"));
    }

    /** The node's name. */
    public String name() {
        return name;
    }

    /** The native handle, to be closed with {@link Native#nodeClose(long)} after {@link #markClosed()}. */
    public long handle() {
        return handle;
    }

    /**
     * Calls native code with the handle. A failure because the node was closed meanwhile becomes
     * the same {@link ClusterException} as a call made after the close.
     *
     * @throws ClusterException if the node is closed
     */
    public <T> T call(LongFunction<T> nativeCall) {
        ensureOpen();
        try {
            return nativeCall.apply(handle);
        } catch (IllegalStateException e) {
            if (closed) {
                throw new ClusterException(closedMessage(), e);
            }
            throw e;
        }
    }

    /** @throws ClusterException if the node is closed */
    public void ensureOpen() {
        if (closed) {
            throw new ClusterException(closedMessage());
        }
    }

    /** Marks the node closed, so that calls fail from now on; false if it already was. */
    public synchronized boolean markClosed() {
        if (closed) {
            return false;
        }
        closed = true;
        return true;
    }

    public boolean isClosed() {
        return closed;
    }

    /** A new request id, unique on this node. */
    public long nextRequestId() {
        return requestIds.incrementAndGet();
    }

    private String closedMessage() {
        return "node '" + name + "' is closed";
    }
}
