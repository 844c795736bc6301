package org.openmrs.module.cluster;

import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.LongFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeLoader;
import org.openmrs.module.cluster.internal.NativeMember;

/**
 * A node of a cluster, running in this JVM. {@link #start(ClusterConfig)} returns once the node is
 * a member; {@link #close()} makes it leave at once, so that the others see it go without waiting
 * for a timeout. Nodes still open when the JVM shuts down are closed then. Every call on a closed
 * node throws {@link ClusterException}, except {@link #nodeName()} and {@link #close()}.
 * Thread-safe.
 *
 * <p>Caches, locks, events, scheduled tasks, queues and panic listeners arrive with later
 * issues; in this build their accessors throw {@link UnsupportedOperationException}.
 */
public final class Cluster implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Cluster.class.getName());
    /** The native default (cluster.raft.voters); ClusterConfig does not expose it yet. */
    private static final int RAFT_VOTERS = 3;

    /** The open nodes, the most recently started last. */
    private static final Deque<Cluster> OPEN = new ArrayDeque<Cluster>();
    /** Closes the open nodes at JVM shutdown; registered only while a node is open. Guarded by OPEN. */
    private static Thread shutdownHook;

    private final long handle;
    private final String nodeName;
    private final String address;
    private volatile boolean closed;

    private Cluster(long handle, String nodeName, String address) {
        this.handle = handle;
        this.nodeName = nodeName;
        this.address = address;
    }

    /**
     * Starts a node that forms a cluster (no seeds) or joins the one its seeds belong to, and
     * returns when the node is a member.
     *
     * @throws ClusterException when the node cannot become a member within the join timeout, or
     *                          is refused (another application version, a wrong secret), or the
     *                          native library cannot be loaded
     * @throws IllegalArgumentException when a configuration value cannot work (such as a bind
     *                          address that does not resolve), the message starting with its key
     */
    public static Cluster start(ClusterConfig config) {
        Objects.requireNonNull(config, "config");
        NativeLoader.load();
        long handle = Native.nodeStart(config.clusterName(), config.nodeName().orElse(null), config.bind(),
                String.join(",", config.seeds()), config.secret().orElse(null),
                config.dataDir().map(Object::toString).orElse(null), config.appVersion(),
                config.joinTimeout().toMillis(), RAFT_VOTERS);
        try {
            Cluster cluster = new Cluster(handle, Native.nodeName(handle), Native.nodeAddress(handle));
            register(cluster);
            return cluster;
        } catch (RuntimeException e) {
            Native.nodeClose(handle);
            throw e;
        }
    }

    /**
     * Starts a one-node cluster of its own: loopback only, on an ephemeral port, with no seeds
     * and no secret, under a cluster name no other node shares, so that embedded nodes never join
     * each other.
     */
    public static Cluster embedded() {
        return start(ClusterConfig.builder()
                .clusterName("openmrs-embedded-" + UUID.randomUUID())
                .bind("127.0.0.1:0")
                .build());
    }

    /**
     * The node started last and not yet closed, among those started through these classes (one
     * copy per class loader: in OpenMRS, per module).
     *
     * @throws IllegalStateException if no such node is open
     */
    public static Cluster current() {
        synchronized (OPEN) {
            Cluster last = OPEN.peekLast();
            if (last == null) {
                throw new IllegalStateException(
                        "no cluster node is open: start one with Cluster.start(config) or Cluster.embedded()");
            }
            return last;
        }
    }

    /** This node's name, unique in its cluster; still answered after {@link #close()}. */
    public String nodeName() {
        return nodeName;
    }

    /** The live members, this node included, sorted by name. */
    public List<ClusterMember> members() {
        return NativeMember.listOf(query(Native::nodeMembers));
    }

    /** The leader's name and term, this node's role, and the state of each member known. */
    public ClusterStatus status() {
        return ClusterStatus.fromNative(query(Native::nodeStatus));
    }

    /** A replicated cache with {@link CacheOptions#defaults()}. */
    public <K, V> ClusterCache<K, V> cache(String name) {
        return cache(name, CacheOptions.defaults());
    }

    public <K, V> ClusterCache<K, V> cache(String name, CacheOptions options) {
        throw notInThisBuild("cache", "replicated cache");
    }

    public ClusterLock lock(String name) {
        throw notInThisBuild("lock", "cluster-wide locks");
    }

    public ClusterEvents events() {
        ensureOpen();
        return new NodeEvents(handle, nodeName);
    }

    public ClusterScheduler scheduler() {
        throw notInThisBuild("scheduler", "scheduled tasks");
    }

    public <T extends Serializable> ClusterQueue<T> queue(String name) {
        throw notInThisBuild("queue", "queues");
    }

    public void onPanic(ClusterPanicListener listener) {
        throw notInThisBuild("onPanic", "panic");
    }

    /**
     * Leaves the cluster at once, so that the others see this node go without waiting for a
     * timeout, and stops the node. Does nothing if the node is already closed.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        unregister(this);
        Native.nodeClose(handle);
    }

    @Override
    public String toString() {
        return "Cluster{node '" + nodeName + "' at " + address + (closed ? ", closed}" : "}");
    }

    private String[] query(LongFunction<String[]> nativeCall) {
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

    private void ensureOpen() {
        if (closed) {
            throw new ClusterException(closedMessage());
        }
    }

    private String closedMessage() {
        return "node '" + nodeName + "' is closed";
    }

    private UnsupportedOperationException notInThisBuild(String method, String feature) {
        ensureOpen();
        return new UnsupportedOperationException(
                "Cluster." + method + " arrives with the " + feature + " issue; not in this build");
    }

    private static void register(Cluster cluster) {
        synchronized (OPEN) {
            if (shutdownHook == null) {
                Thread hook = new Thread(Cluster::closeOpenNodes, "openmrs-cluster-shutdown");
                Runtime.getRuntime().addShutdownHook(hook);
                shutdownHook = hook;
            }
            OPEN.addLast(cluster);
        }
    }

    private static void unregister(Cluster cluster) {
        synchronized (OPEN) {
            OPEN.removeFirstOccurrence(cluster);
            if (OPEN.isEmpty() && shutdownHook != null) {
                // Unhooked, a module's class loader can be collected once the module stops.
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException shutdownInProgress) {
                    // The hook is running or about to: nothing to undo.
                }
                shutdownHook = null;
            }
        }
    }

    private static void closeOpenNodes() {
        List<Cluster> open;
        synchronized (OPEN) {
            open = new ArrayList<Cluster>(OPEN);
        }
        Collections.reverse(open);
        for (Cluster cluster : open) {
            try {
                cluster.close();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "closing node '" + cluster.nodeName + "' at JVM shutdown failed", e);
            }
        }
    }
}
