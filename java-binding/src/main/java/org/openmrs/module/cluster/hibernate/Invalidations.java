package org.openmrs.module.cluster.hibernate;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterEvents;
import org.openmrs.module.cluster.Subscription;
import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * Tells the other nodes' second-level caches that keys changed, and waits until each has dropped
 * them. One per {@link Cluster} node, shared by the region factories on it.
 *
 * <p>The nodes that run a region factory are its <em>peers</em>: a starting one announces itself
 * on the common topic ({@value #TOPIC}), every peer adds it and answers on the newcomer's own
 * topic; it learns the peers from their answers. An invalidation goes to each peer's own topic;
 * the peer drops the keys, notes the time of receipt on its own clock, and answers on the
 * writer's topic. All that a node receives from one writer comes in on its one topic, in the
 * order the writer sent it, so a newcomer has applied every invalidation a peer sent it before
 * it sees that peer's answer to its announcement. A writer reads the peers again after sending,
 * so a newcomer it learnt of meanwhile gets the invalidation too.
 *
 * <p>A peer that does not answer holds the writer until it can no longer serve: once it has been
 * unreachable (SUSPECT, DOWN or gone, as this node's membership sees it) for
 * {@code unreachableWait}, longer than the panic timeout, it has panicked and serves nothing. A
 * peer that stays ALIVE without answering for twice that is given up with an error in the log, so
 * that a commit is delayed, never blocked.
 */
final class Invalidations {

    static final String TOPIC = "openmrs.cluster.hibernate";

    private static final Logger LOG = Logger.getLogger(Invalidations.class.getName());
    private static final byte JOIN = 1;
    private static final byte LEAVE = 2;
    private static final byte INVALIDATE = 3;
    private static final byte ACK = 4;
    private static final long STATUS_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long WATCH_MS = 200;
    private static final Map<Cluster, Invalidations> OPEN = new IdentityHashMap<Cluster, Invalidations>();

    /** What a region does when its keys are invalidated. */
    interface Target {
        /** Drops {@code key} (every key when null), received at {@code now} ({@link LocalClock}). */
        void invalidated(byte[] key, long now);

        /** Drops everything: this node can no longer know what is current. */
        void stopServing();
    }

    private final Cluster cluster;
    private final NativeNode node;
    private final String self;
    private final ClusterEvents events;
    private final long unreachableWaitNanos;
    private final Set<String> peers = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> unreachableSince = new ConcurrentHashMap<String, Long>();
    private final Map<String, List<Target>> targets = new ConcurrentHashMap<String, List<Target>>();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<Long, Pending>();
    private final AtomicLong requestIds = new AtomicLong(new SecureRandom().nextLong());
    private final long joinId = requestIds.incrementAndGet();
    private final List<Subscription> subscriptions = new ArrayList<Subscription>();
    /** Why this node serves nothing from its regions (its node panicked or failed), or null. */
    private volatile String stopped;
    private volatile boolean watching = true;
    /** Region factories using this; guarded by OPEN. */
    private int users;

    private Invalidations(Cluster cluster, long unreachableWaitMs) {
        this.cluster = cluster;
        this.node = NativeNode.of(cluster);
        this.self = cluster.nodeName();
        this.events = cluster.events();
        this.unreachableWaitNanos = TimeUnit.MILLISECONDS.toNanos(unreachableWaitMs);
    }

    /** The node's invalidations, joined to the peers on first use (waiting up to {@code joinWaitMs}). */
    static Invalidations acquire(Cluster cluster, long joinWaitMs, long unreachableWaitMs) {
        synchronized (OPEN) {
            Invalidations shared = OPEN.get(cluster);
            if (shared == null) {
                shared = new Invalidations(cluster, unreachableWaitMs);
                try {
                    shared.join(joinWaitMs);
                } catch (RuntimeException e) {
                    shared.watching = false;
                    shared.subscriptions.forEach(Subscription::close);
                    throw e;
                }
                OPEN.put(cluster, shared);
            }
            shared.users++;
            return shared;
        }
    }

    /** Ends one factory's use; the last one says goodbye to the peers. */
    void release() {
        synchronized (OPEN) {
            if (--users > 0) {
                return;
            }
            OPEN.remove(cluster);
        }
        watching = false;
        try {
            events.publish(TOPIC, frame(LEAVE, 0));
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not say goodbye to the second-level cache peers", e);
        }
        subscriptions.forEach(Subscription::close);
    }

    void register(String region, Target target) {
        targets.computeIfAbsent(region, r -> new CopyOnWriteArrayList<Target>()).add(target);
    }

    void unregister(String region, Target target) {
        List<Target> list = targets.get(region);
        if (list != null) {
            list.remove(target);
        }
    }

    /**
     * Whether this node's regions may serve: not while its lease is out (it has lost contact with
     * the majority, or was frozen, and may have missed invalidations a writer has stopped waiting
     * for), and never again once it panicked or failed.
     */
    boolean serving() {
        if (stopped != null) {
            return false;
        }
        try {
            return node.call(Native::nodeLeaseValid);
        } catch (RuntimeException closed) {
            return false;
        }
    }

    /** A key of a region (every key of it when {@code key} is null) that changed. */
    static final class Change {
        final String region;
        final byte[] key;

        Change(String region, byte[] key) {
            this.region = region;
            this.key = key;
        }
    }

    /**
     * Drops {@code key} (every key of the region when null) here and on every peer, and returns
     * once each peer has dropped it or can no longer serve. Never throws: a failure is logged and
     * this node stops serving from its regions.
     */
    void invalidate(String region, byte[] key) {
        applyHere(region, key);
        await(send(Collections.singletonList(new Change(region, key))));
    }

    /**
     * Sends {@code changes} to every peer in one message each; {@link #await(Sent)} waits for
     * their answers, one from each peer, so that a transaction's changes cost one round.
     */
    Sent send(List<Change> changes) {
        Sent sent = new Sent(requestIds.incrementAndGet());
        pending.put(sent.id, sent);
        try {
            byte[] message = invalidation(sent.id, changes);
            Set<String> done = new HashSet<String>();
            sendToPeers(message, done, sent);
            // A peer that announced itself while we sent is in the set now; see the class comment.
            sendToPeers(message, done, sent);
        } catch (RuntimeException e) {
            stop("an invalidation could not be sent (" + e + ")");
        }
        return sent;
    }

    /** Waits for the answers to {@code sent}; see the class comment. Never throws. */
    void await(Sent sent) {
        try {
            awaitAnswers(sent);
        } catch (RuntimeException e) {
            stop("the answers to an invalidation could not be awaited (" + e + ")");
        } finally {
            pending.remove(sent.id);
        }
    }

    private void sendToPeers(byte[] message, Set<String> done, Pending wait) {
        long now = System.nanoTime();
        for (String peer : peers) {
            if (done.add(peer) && !givenUp(peer, now)) {
                wait.expect(peer);
                events.publish(directTopic(peer), message);
            }
        }
    }

    /**
     * Notes, every {@value #WATCH_MS} ms, since when each peer has been unreachable, so that the
     * first commit after a peer's crash waits only for what is left of {@code unreachableWait}.
     */
    private void watchPeers() {
        while (watching) {
            try {
                Map<String, String> states = cluster.status().memberStates();
                long now = System.nanoTime();
                for (String peer : peers) {
                    if ("ALIVE".equals(states.get(peer))) {
                        unreachableSince.remove(peer);
                    } else {
                        unreachableSince.putIfAbsent(peer, now);
                    }
                }
                Thread.sleep(WATCH_MS);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException closed) {
                // The node closed; release() ends this thread.
                return;
            }
        }
    }

    private void join(long joinWaitMs) {
        subscriptions.add(events.subscribe(directTopic(self), (byte[] message) -> receive(message)));
        subscriptions.add(events.subscribe(TOPIC, (byte[] message) -> receive(message)));
        cluster.onPanic(reason -> stop("node '" + self + "' panicked: " + reason));
        Pending wait = new Pending();
        for (Map.Entry<String, String> member : cluster.status().memberStates().entrySet()) {
            if (!member.getKey().equals(self) && "ALIVE".equals(member.getValue())) {
                wait.expect(member.getKey());
            }
        }
        pending.put(joinId, wait);
        try {
            events.publish(TOPIC, frame(JOIN, joinId));
            Thread watcher = new Thread(this::watchPeers, "openmrs-cluster-hibernate-" + self);
            watcher.setDaemon(true);
            // A module's class loader stays collectable after the module stops.
            watcher.setContextClassLoader(null);
            watcher.start();
            // Members without a region factory (a witness) never answer: wait a bounded time.
            if (wait.awaitFor(TimeUnit.MILLISECONDS.toNanos(joinWaitMs))) {
                Thread.currentThread().interrupt();
            }
        } finally {
            pending.remove(joinId);
        }
    }

    private void receive(byte[] message) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(message));
            byte kind = in.readByte();
            long id = in.readLong();
            String origin = in.readUTF();
            if (origin.equals(self)) {
                return;
            }
            switch (kind) {
                case JOIN:
                    unreachableSince.remove(origin);
                    peers.add(origin);
                    events.publish(directTopic(origin), frame(ACK, id));
                    break;
                case LEAVE:
                    // Its session factory closed: it serves nothing, so nothing waits for it.
                    peers.remove(origin);
                    pending.values().forEach(wait -> wait.acked(origin));
                    break;
                case INVALIDATE:
                    for (int count = in.readInt(); count > 0; count--) {
                        String region = in.readUTF();
                        int length = in.readInt();
                        byte[] key = null;
                        if (length >= 0) {
                            key = new byte[length];
                            in.readFully(key);
                        }
                        applyHere(region, key);
                    }
                    peers.add(origin);
                    events.publish(directTopic(origin), frame(ACK, id));
                    break;
                case ACK:
                    if (id == joinId) {
                        peers.add(origin);
                    }
                    Pending wait = pending.get(id);
                    if (wait != null) {
                        wait.acked(origin);
                    }
                    break;
                default:
                    LOG.warning("a second-level cache message of unknown kind " + kind + " from '" + origin
                            + "' was ignored");
            }
        } catch (IOException | RuntimeException e) {
            stop("a second-level cache message could not be handled (" + e + ")");
        }
    }

    /** Drops {@code key} (every key of the region when null) on this node. */
    void applyHere(String region, byte[] key) {
        long now = LocalClock.now();
        List<Target> list = targets.get(region);
        if (list != null) {
            for (Target target : list) {
                target.invalidated(key, now);
            }
        }
    }

    /** Waits for every expected answer, or for its peer to be unable to serve; see the class comment. */
    private void awaitAnswers(Pending wait) {
        long start = System.nanoTime();
        long nextCheck = start + STATUS_CHECK_NANOS;
        boolean interrupted = false;
        while (true) {
            Set<String> missing = wait.missing();
            if (missing.isEmpty()) {
                break;
            }
            long now = System.nanoTime();
            if (now >= nextCheck) {
                giveUpUnreachable(wait, missing, now, now - start);
                nextCheck = now + STATUS_CHECK_NANOS;
                continue;
            }
            // An interrupt does not end the wait: the commit has happened, the peers must hear of it.
            interrupted |= wait.awaitFor(nextCheck - now);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void giveUpUnreachable(Pending wait, Set<String> missing, long now, long waited) {
        Map<String, String> states = cluster.status().memberStates();
        for (String peer : missing) {
            String state = states.get(peer);
            if ("ALIVE".equals(state)) {
                unreachableSince.remove(peer);
                if (waited >= 2 * unreachableWaitNanos) {
                    LOG.severe("second-level cache: node '" + peer + "' is alive but did not confirm an invalidation"
                            + " within " + TimeUnit.NANOSECONDS.toMillis(waited) + " ms; going on without it, so it"
                            + " may serve a stale entry");
                    wait.acked(peer);
                }
            } else {
                unreachableSince.putIfAbsent(peer, now);
                if (givenUp(peer, now)) {
                    LOG.warning("second-level cache: node '" + peer + "' has been unreachable for longer than it may"
                            + " serve; going on without its confirmation");
                    if (state == null) {
                        peers.remove(peer);
                    }
                    wait.acked(peer);
                }
            }
        }
    }

    private boolean givenUp(String peer, long now) {
        Long since = unreachableSince.get(peer);
        return since != null && now - since >= unreachableWaitNanos;
    }

    private void stop(String reason) {
        if (stopped == null) {
            stopped = reason;
            LOG.severe("second-level cache on node '" + self + "' serves nothing from now on: " + reason);
        }
        for (List<Target> list : targets.values()) {
            list.forEach(Target::stopServing);
        }
    }

    private String directTopic(String node) {
        return TOPIC + "." + node;
    }

    private byte[] frame(byte kind, long id) {
        return write(kind, id, out -> { });
    }

    private byte[] invalidation(long id, List<Change> changes) {
        return write(INVALIDATE, id, out -> {
            out.writeInt(changes.size());
            for (Change change : changes) {
                out.writeUTF(change.region);
                out.writeInt(change.key == null ? -1 : change.key.length);
                if (change.key != null) {
                    out.write(change.key);
                }
            }
        });
    }

    /** What a message carries after its kind, request id and origin. */
    private interface Body {
        void writeTo(DataOutputStream out) throws IOException;
    }

    private byte[] write(byte kind, long id, Body body) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(buffer)) {
            out.writeByte(kind);
            out.writeLong(id);
            out.writeUTF(self);
            body.writeTo(out);
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
        return buffer.toByteArray();
    }

    /** An invalidation sent, whose answers are awaited. */
    static final class Sent extends Pending {
        final long id;

        private Sent(long id) {
            this.id = id;
        }
    }

    /** The answers one request waits for. */
    private static class Pending {
        private final Set<String> expected = new HashSet<String>();
        private final Set<String> answered = new HashSet<String>();

        synchronized void expect(String peer) {
            expected.add(peer);
        }

        synchronized void acked(String peer) {
            answered.add(peer);
            notifyAll();
        }

        synchronized Set<String> missing() {
            Set<String> missing = new HashSet<String>(expected);
            missing.removeAll(answered);
            return missing;
        }

        /** Waits up to {@code nanos} for the last answer; true if interrupted (the flag is cleared). */
        synchronized boolean awaitFor(long nanos) {
            long deadline = System.nanoTime() + nanos;
            while (!answered.containsAll(expected)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    return true;
                }
            }
            return false;
        }
    }
}
