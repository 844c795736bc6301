package org.openmrs.module.cluster.internal;

/**
 * The native methods of the Rust library, one for one as docs/jni-contract.md lists them.
 * Not part of the public API. Loading this class loads the library (see {@link NativeLoader}).
 */
public final class Native {

    static {
        NativeLoader.load();
    }

    private Native() {
    }

    /** The crate version of the loaded library, e.g. {@code 0.1.0}. */
    public static native String libraryVersion();

    /** Does nothing; measures the bare JNI round trip. */
    public static native void noop();

    /**
     * Starts a node and blocks until it is a member. {@code nodeName}, {@code secret} and
     * {@code dataDir} may be null; {@code seeds} is a comma-separated {@code host:port} list,
     * possibly empty; {@code raftVoters} is how many members vote in the consensus group (1 to 9).
     * Returns the node's handle, never 0.
     */
    public static native long nodeStart(String clusterName, String nodeName, String bind, String seeds,
                                        String secret, String dataDir, String appVersion, long joinTimeoutMs,
                                        int raftVoters);

    /** Leaves the cluster gracefully and stops the node's runtime. Idempotent. */
    public static native void nodeClose(long handle);

    /** The node's name. */
    public static native String nodeName(long handle);

    /** The {@code host:port} the node listens on (TCP and UDP share the port). */
    public static native String nodeAddress(long handle);

    /**
     * Live members, this node included, sorted by name, flattened:
     * {@code name, address, appVersion, isLocal("true"/"false")} per member.
     */
    public static native String[] nodeMembers(long handle);

    /**
     * {@code role, leaderName ("" if none), term (decimal)}, then {@code name, state} pairs for every
     * member known, the state one of ALIVE, SUSPECT, DOWN.
     */
    public static native String[] nodeStatus(long handle);

    /** Sets the most verbose Rust level forwarded: ERROR, WARN, INFO, DEBUG or TRACE. */
    public static native void logInit(String level);

    /**
     * Waits up to {@code timeoutMs} for Rust log records; returns them flattened
     * {@code level, target, message} per record, an empty array when none came.
     */
    public static native String[] logPoll(long timeoutMs);

    // ---- Events (docs/jni-contract.md, section "Events") ----

    /**
     * Publishes {@code payload} on {@code topic}: queued for every live member and delivered to
     * this node's own subscribers at once; never waits on the network.
     */
    public static native void eventsPublish(long handle, String topic, byte[] payload);

    /**
     * Subscribes to {@code topic} with a queue of at most {@code capacity} undelivered messages
     * (when full, the oldest is dropped and counted); returns the subscription's id.
     */
    public static native long eventsSubscribe(long handle, String topic, int capacity);

    /**
     * Waits up to {@code timeoutMs} for messages of the subscription and returns the next ones, in
     * order (an empty array when none came); null once the subscription or the node is closed.
     */
    public static native byte[][] eventsPoll(long handle, long subscription, long timeoutMs);

    /** Ends the subscription: its poller gets null. Idempotent; does nothing on a closed node. */
    public static native void eventsUnsubscribe(long handle, long subscription);

    /** Messages the subscription dropped so far because its queue was full. */
    public static native long eventsDropped(long handle, long subscription);
}
