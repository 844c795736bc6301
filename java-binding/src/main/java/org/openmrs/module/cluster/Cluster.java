package org.openmrs.module.cluster;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeLoader;
import org.openmrs.module.cluster.internal.NativeMember;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * A node of a cluster, running in this JVM. {@link #start(ClusterConfig)} returns once the node is
 * a member; {@link #close()} makes it leave at once, so that the others see it go without waiting
 * for a timeout. Nodes still open when the JVM shuts down are closed then. Every call on a closed
 * node throws {@link ClusterException}, except {@link #nodeName()} and {@link #close()}.
 * Thread-safe.
 *
 * <p>A node that loses contact with the majority of the voters for longer than the panic timeout
 * panics: its {@link ClusterPanicListener}s are called once, and from then on its lock, queue and
 * scheduler calls throw {@link ClusterException}; {@link #members()} and {@link #status()} still
 * answer, and its caches serve reads from this node's copy but refuse writes.
 */
public final class Cluster implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Cluster.class.getName());

    /** The open nodes, the most recently started last. */
    private static final Deque<Cluster> OPEN = new ArrayDeque<Cluster>();
    /** Closes the open nodes at JVM shutdown; registered only while a node is open. Guarded by OPEN. */
    private static Thread shutdownHook;

    static {
        NativeNode.exposeNodesOf(cluster -> cluster.node);
    }

    private final NativeNode node;
    private final String address;
    private final ConcurrentMap<String, ClusterLock> locks = new ConcurrentHashMap<String, ClusterLock>();
    private final ConcurrentMap<String, NodeQueue<?>> queues = new ConcurrentHashMap<String, NodeQueue<?>>();
    /** What Java serialization may read from other nodes' bytes, for every feature of this node. */
    private final AllowedClasses allowed;
    private final NodeCaches caches;
    private final NodeScheduler scheduler;
    private final PanicWatch panicWatch;
    private final Duration panicTimeout;

    private Cluster(NativeNode node, String address, ClusterConfig config) {
        this.node = node;
        this.address = address;
        this.allowed = AllowedClasses.with(config.serializationAllow());
        // A cache opened soon after the join waits for the members' entries as long as the join may.
        this.caches = new NodeCaches(node, config.joinTimeout().toMillis(), allowed, new LoadLocks(this::lock));
        this.scheduler = new NodeScheduler(node);
        this.panicWatch = new PanicWatch(node);
        this.panicTimeout = config.panicTimeout();
    }

    /**
     * Starts a node that forms a cluster (no seeds) or joins the one its seeds belong to, and
     * returns when the node is a member.
     *
     * @throws ClusterException when the node cannot become a member within the join timeout, or
     *                          is refused (another application version, a wrong secret), or the
     *                          native library cannot be loaded
     * @throws IllegalArgumentException when a configuration value cannot work (such as a bind
     *                          address that does not resolve, or no {@code cluster.secret}: every
     *                          node that others can join needs one), the message starting with its key
     */
    public static Cluster start(ClusterConfig config) {
        Objects.requireNonNull(config, "config");
        if (!config.secret().isPresent()) {
            throw new IllegalArgumentException("cluster.secret: is required: the keys of all traffic between nodes"
                    + " come from it, and a node without one could be joined by anyone who can reach it;"
                    + " generate one with 'java -jar openmrs-cluster-<version>.jar secret' (only Cluster.embedded() runs"
                    + " without a secret)");
        }
        return open(config);
    }

    /** Starts the node of {@code config}; one without a secret gets random keys no other node has. */
    private static Cluster open(ClusterConfig config) {
        NativeLoader.load();
        long handle = Native.nodeStart(config.clusterName(), config.nodeName().orElse(null), config.bind(),
                String.join(",", config.seeds()), config.secret().orElse(null),
                config.dataDir().map(Object::toString).orElse(null), config.appVersion(),
                config.joinTimeout().toMillis(), config.raftVoters(), config.panicTimeout().toMillis());
        try {
            Cluster cluster = new Cluster(new NativeNode(handle, Native.nodeName(handle)), Native.nodeAddress(handle),
                    config);
            register(cluster);
            return cluster;
        } catch (RuntimeException e) {
            Native.nodeClose(handle);
            throw e;
        }
    }

    /**
     * Starts a one-node cluster of its own: loopback only, on an ephemeral port, with no seeds
     * and no secret: its keys are random, so no other process can talk to it. Its one node is
     * the only voter.
     */
    public static Cluster embedded() {
        return embedded(new String[0]);
    }

    /**
     * As {@link #embedded()}, with Java serialization also reading these classes and packages
     * ({@code com.example.*}), as {@code cluster.serialization.allow} says: an embedded node's
     * caches keep their values as bytes too.
     */
    public static Cluster embedded(String... serializationAllow) {
        return open(ClusterConfig.builder()
                .clusterName("openmrs-embedded-" + UUID.randomUUID())
                .bind("127.0.0.1:0")
                .raftVoters(1)
                .serializationAllow(serializationAllow)
                .build());
    }

    /**
     * Starts the node the {@code cluster.*} keys of {@code properties} describe (other keys are
     * ignored, so a whole runtime properties file may be passed): a member ({@link
     * #start(ClusterConfig)}) when any key but {@code cluster.serialization.allow} has a value,
     * else {@link #embedded(String...)} with that allow-list, logging that it shares nothing. The
     * one rule of everything that starts a node from properties: the OpenMRS module, the JCache
     * provider and the Hibernate region factory.
     *
     * @throws IllegalArgumentException naming the key of a wrong value, or {@code cluster.secret}
     *                                  when keys are set but the secret is not
     * @throws ClusterException         as {@link #start(ClusterConfig)}
     */
    public static Cluster startFromProperties(Properties properties) {
        Objects.requireNonNull(properties, "properties");
        ClusterConfig config = ClusterConfig.fromProperties(properties);
        if (ClusterConfig.describesMember(properties)) {
            return start(config);
        }
        LOG.warning("no cluster.* keys are set: starting an embedded node of its own, which shares nothing"
                + " with other servers");
        return embedded(config.serializationAllow().toArray(new String[0]));
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
        return node.name();
    }

    /** The live members, this node included, sorted by name. */
    public List<ClusterMember> members() {
        return NativeMember.listOf(node.call(Native::nodeMembers));
    }

    /** The leader's name and term, this node's role, and the state of each member known. */
    public ClusterStatus status() {
        return ClusterStatus.fromNative(node.call(Native::nodeStatus));
    }

    /** The cache of this name with {@link CacheOptions#defaults()}: replicated, unbounded, no expiry. */
    public <K, V> ClusterCache<K, V> cache(String name) {
        return cache(name, CacheOptions.defaults());
    }

    /**
     * The cache of this name on this node. Every call with one name returns the same instance,
     * opened by the first call; on a node that just joined, that call waits (up to the join
     * timeout) until the node has received the replicated entries of the members. Without a
     * codec in {@code options}, keys and values must be {@code Serializable}; their classes are
     * read with the calling thread's context class loader, or else with the class loader of the
     * code that first asked for the cache.
     *
     * @throws IllegalArgumentException if the cache is already open on this node with other options
     * @throws ClusterException         if the node is closed, or the entries did not arrive in time
     */
    @SuppressWarnings("unchecked")
    public <K, V> ClusterCache<K, V> cache(String name, CacheOptions options) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(options, "options");
        node.ensureOpen();
        return (ClusterCache<K, V>) caches.open(name, options, creatorLoader());
    }

    /**
     * The cluster-wide lock of this name. Every call with one name returns the same instance, so
     * that a thread's holds count wherever it got the lock from.
     *
     * @throws IllegalArgumentException if the name is empty, longer than 256 bytes of UTF-8 or has
     *                                  control characters (docs/configuration.md, "Limits")
     */
    public ClusterLock lock(String name) {
        Objects.requireNonNull(name, "name");
        node.ensureOpen();
        return locks.computeIfAbsent(name, lockName -> {
            Native.checkName("lock", lockName);
            return new ReentrantClusterLock(node, lockName);
        });
    }

    public ClusterEvents events() {
        node.ensureOpen();
        return new NodeEvents(node.handle(), node.name(), allowed);
    }

    /** Runs tasks on one node of the cluster at a time; see {@link NodeScheduler}. */
    public ClusterScheduler scheduler() {
        node.ensureOpen();
        return scheduler;
    }

    /**
     * The cluster-wide queue of this name. Every call with one name returns the same instance.
     * Its items are Java-serialized; they are read back with the calling thread's context class
     * loader, or else with the class loader of the code that first asked for the queue.
     *
     * @throws IllegalArgumentException if the name is empty, longer than 256 bytes of UTF-8 or has
     *                                  control characters (docs/configuration.md, "Limits")
     */
    @SuppressWarnings("unchecked")
    public <T extends Serializable> ClusterQueue<T> queue(String name) {
        Objects.requireNonNull(name, "name");
        node.ensureOpen();
        ClassLoader creator = creatorLoader();
        return (ClusterQueue<T>) queues.computeIfAbsent(name, queueName -> {
            Native.checkName("queue", queueName);
            return new NodeQueue<T>(node, queueName, creator, allowed);
        });
    }

    /**
     * How long this node may be out of contact with the majority of the voters before it panics
     * ({@code cluster.panic.timeout.ms}): what a component that waits out a silent peer, such as
     * the Hibernate region factory, must wait longer than.
     */
    public Duration panicTimeout() {
        return panicTimeout;
    }

    /**
     * Calls {@code listener} once, on a thread of this library, when this node panics: it lost
     * contact with the majority of the voters for longer than {@code cluster.panic.timeout.ms}.
     * A listener registered after the panic is called at once. A listener that throws is logged.
     */
    public void onPanic(ClusterPanicListener listener) {
        panicWatch.register(listener);
    }

    /**
     * Leaves the cluster at once, so that the others see this node go without waiting for a
     * timeout, and stops the node; the locks it holds and the queue items it claimed pass on at
     * once, and its scheduled singletons stop here (waiting for a run in progress) and move to
     * another node; its caches drop what they hold. Does nothing if the node is already closed.
     */
    @Override
    public void close() {
        if (!node.markClosed()) {
            return;
        }
        scheduler.stopAll();
        unregister(this);
        Native.nodeClose(node.handle());
        caches.closed();
    }

    @Override
    public String toString() {
        return "Cluster{node '" + node.name() + "' at " + address + (node.isClosed() ? ", closed}" : "}");
    }

    /** The context class loader of the calling thread, or else this library's. */
    private static ClassLoader creatorLoader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : Cluster.class.getClassLoader();
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
                LOG.log(Level.WARNING, "closing node '" + cluster.nodeName() + "' at JVM shutdown failed", e);
            }
        }
    }
}
