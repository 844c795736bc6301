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
     * Throws {@link IllegalArgumentException} naming the limit if {@code name} is not a valid name of
     * its {@code kind} ({@code lock}, {@code queue}, {@code cache}, {@code topic} or {@code schedule}).
     */
    public static native void checkName(String kind, String name);

    /**
     * Starts a node and blocks until it is a member: of the membership and of the consensus group,
     * with its lock session open. {@code nodeName}, {@code secret} and {@code dataDir} may be null;
     * {@code seeds} is a comma-separated {@code host:port} list, possibly empty; {@code raftVoters}
     * (at least 1) is how many nodes vote in consensus. Returns the node's handle, never 0.
     */
    public static native long nodeStart(String clusterName, String nodeName, String bind, String seeds,
                                        String secret, String dataDir, String appVersion, long joinTimeoutMs,
                                        int raftVoters, long panicTimeoutMs);

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

    // Locks. The owner is (this node's session, threadId). The native side is not reentrant: the
    // Java lock calls it for a thread's first hold and last unlock only. A fence is positive; 0
    // means "not acquired". Each of these throws ClusterException when the node has lost contact
    // with the majority, when no leader answers within 5 s, or when the node is closed.

    /** One attempt, no queueing: the fence if granted, 0 if someone holds the lock. */
    public static native long lockTry(long handle, String name, long threadId);

    /**
     * The first call with a {@code requestId} joins the lock's FIFO queue; every call waits up to
     * {@code waitMs} for the grant and returns its fence, or 0 if {@code waitMs} passed first. The
     * request then stays queued: call again with the same {@code requestId} to go on waiting, or
     * {@link #lockCancel}. Wakes on the commit that grants it.
     */
    public static native long lockAcquire(long handle, String name, long threadId, long requestId, long waitMs);

    /**
     * Withdraws the request; if it was granted meanwhile, releases that grant. When it returns,
     * the request holds nothing.
     */
    public static native void lockCancel(long handle, String name, long threadId, long requestId);

    /**
     * Releases the hold; the next waiter is granted.
     *
     * @throws IllegalMonitorStateException if the cluster no longer records this thread as the
     *                                      holder with this fence (the lock was lost)
     */
    public static native void lockRelease(long handle, String name, long threadId, long fence);

    /**
     * Local, no network: true iff this node's replica records this owner with this fence and this
     * node's lease on its session is valid (it has been in contact with a majority recently).
     */
    public static native boolean lockHeld(long handle, String name, long threadId, long fence);

    /** Linearizable: whether anyone in the cluster holds the lock. */
    public static native boolean lockIsLocked(long handle, String name);

    /**
     * ShedLock semantics: true, and held by this node's session until {@code lockUntilEpochMs},
     * if the name is free or its hold has expired at {@code nowEpochMs}; false otherwise.
     */
    public static native boolean shedLock(long handle, String name, long nowEpochMs, long lockUntilEpochMs);

    /** Ends this node's ShedLock hold at {@code unlockAtEpochMs}: now, or later to honour lockAtLeastFor. */
    public static native void shedUnlock(long handle, String name, long unlockAtEpochMs);

    // Queues, schedules, panic. After a panic every lock, queue and schedule call throws
    // ClusterException naming the reason.

    /** Appends the item; returns once it is committed (never lost while a majority of voters lives). */
    public static native void queueOffer(long handle, String queue, byte[] item);

    /**
     * Claims the oldest unclaimed item for this node, waiting up to {@code waitMs} for an offer
     * (woken by the commit, not a timer): its claim id as 8 big-endian bytes followed by the
     * item; null when none came.
     */
    public static native byte[] queuePoll(long handle, String queue, long waitMs);

    /**
     * Acknowledges ({@code ack}: the item is gone) or releases (back in its place in line) a
     * claim; false if this node no longer holds it (its session ended and the item went back).
     */
    public static native boolean queueSettle(long handle, String queue, long claimId, boolean ack);

    /** Items offered and not yet acknowledged, in this node's replica; dead letters are not counted. */
    public static native long queueSize(long handle, String queue);

    /**
     * Moves a claim this node cannot read to the queue's dead letters with {@code reason} (cut to
     * 512 UTF-8 bytes), set aside at {@code atEpochMs}; false if this node no longer holds the
     * claim. Past 1000 dead letters in the queue, the one offered first is dropped (logged).
     */
    public static native boolean queueSetAside(long handle, String queue, long claimId, String reason, long atEpochMs);

    /**
     * The queue's dead letters in this node's replica, the first offered first, each as one
     * array: its id and the epoch ms it was set aside (8 big-endian bytes each), the name of the
     * node that set it aside and the reason (each a 4-byte big-endian length, then UTF-8), then
     * the item's bytes.
     */
    public static native byte[][] queueDeadLetters(long handle, String queue);

    /** Removes the dead letter {@code id}, or every one with 0; returns how many were removed. */
    public static native long queueClearDeadLetters(long handle, String queue, long id);

    /** This node takes part in the singleton schedule {@code name} (the first live participant owns it). */
    public static native void scheduleJoin(long handle, String name);

    /** This node stops taking part in the singleton schedule {@code name}. */
    public static native void scheduleWithdraw(long handle, String name);

    /** Local: this node owns the schedule now and its lease is valid. */
    public static native boolean scheduleOwned(long handle, String name);

    /**
     * Asks to run period number {@code period} (epoch milliseconds / {@code periodMs}): true at most
     * once per period in the whole cluster, and only for the owner; run the task only then. Throws
     * ClusterException when the period begins more than a minute past the leader's clock (this
     * node's clock runs ahead).
     */
    public static native boolean scheduleRun(long handle, String name, long period, long periodMs);

    /** Blocks up to {@code timeoutMs} until this node panics: the reason, or null. */
    public static native String panicAwait(long handle, long timeoutMs);

    /**
     * Local, no network: true while this node's lease is valid (it was in contact with a majority
     * within the lease, 1.8 s) and it has not panicked; what it caches alone may then be current.
     */
    public static native boolean nodeLeaseValid(long handle);

    // Fault injection, for tests only.

    /** Drops every datagram to and from that peer and fails every request to it, as a partition would. */
    public static native void faultIsolate(long handle, String peerHostPort);

    /** Undoes all injected faults. */
    public static native void faultHeal(long handle);
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

    // ---- Caches (docs/jni-contract.md, section "Caches") ----

    /**
     * Opens the cache {@code name} on this node with these options ({@code mode} 0 = REPLICATED,
     * 1 = INVALIDATION; {@code maxEntries} 0 = unbounded; {@code ttlMs} 0 = no expiry) and returns
     * its id on this node. Waits up to {@code waitMs} for this node to have received the
     * replicated entries of the members it joined (a joiner serves reads only once caught up).
     */
    public static native long cacheOpen(long handle, String name, int mode, long maxEntries, long ttlMs, long waitMs);

    /**
     * The entry's expiry (epoch milliseconds, {@code Long.MAX_VALUE} for none) as 8 big-endian
     * bytes followed by its value; null when absent or expired. Local, no network.
     */
    public static native byte[] cacheGet(long handle, long cache, byte[] key);

    /** Stores locally at once and ships the write to the other members; never waits on them. */
    public static native void cachePut(long handle, long cache, byte[] key, byte[] value);

    public static native void cacheRemove(long handle, long cache, byte[] key);

    public static native void cacheClear(long handle, long cache);

    /** Entries this node holds (expired ones not yet swept may count). */
    public static native long cacheSize(long handle, long cache);

    /** The keys of at most {@code max} unexpired entries this node holds. Local, no network. */
    public static native byte[][] cacheKeys(long handle, long cache, long max);

    /** What {@link #cacheGet} answers for each key (null where absent), in one call. Local, no network. */
    public static native byte[][] cacheGetAll(long handle, long cache, byte[][] keys);

    /**
     * Stores {@code keys[i]} = {@code values[i]} as that many {@link #cachePut}s; none unless all
     * are within the limits.
     */
    public static native void cachePutAll(long handle, long cache, byte[][] keys, byte[][] values);

    /** Entries this node evicted from the cache to keep its bound, since the node started. */
    public static native long cacheEvictions(long handle, long cache);

    /**
     * Waits up to {@code timeoutMs} for keys this node's store dropped or changed other than by a
     * local put/remove/clear (a remote write, an eviction, an expiry) and returns them: each
     * element is the cache id as 8 big-endian bytes followed by the key, or the id alone when the
     * whole cache was cleared. Empty when none came; null once the node is closed.
     */
    public static native byte[][] cacheInvalidations(long handle, long timeoutMs);
}
