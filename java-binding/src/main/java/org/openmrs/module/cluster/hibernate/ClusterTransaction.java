package org.openmrs.module.cluster.hibernate;

import java.util.ArrayList;
import java.util.List;

import org.hibernate.cache.spi.CacheTransactionSynchronization;
import org.hibernate.engine.spi.SharedSessionContractImplementor;

/**
 * A session's transaction as the cache sees it: when it began ({@link LocalClock}, before any of
 * its database reads), and the changes its completion made. Hibernate completes a transaction's
 * cache actions one after another (entities, collections, then each table of the query cache) and
 * then calls {@link #transactionCompleted}, all inside the commit call: each change is dropped on
 * this node at once, and they all go to each peer in one message at the end, whose answers are
 * awaited before the commit call returns. Outside a completion (an eviction) a change is sent and
 * awaited at once.
 */
final class ClusterTransaction implements CacheTransactionSynchronization {

    private final Invalidations invalidations;
    private final List<Invalidations.Change> changes = new ArrayList<Invalidations.Change>();
    private volatile long began = LocalClock.now();
    private boolean completing;

    ClusterTransaction(Invalidations invalidations) {
        this.invalidations = invalidations;
    }

    /** The session's transaction, or null if the session is not one of this factory's. */
    static ClusterTransaction of(SharedSessionContractImplementor session) {
        CacheTransactionSynchronization sync = session == null ? null : session.getCacheTransactionSynchronization();
        return sync instanceof ClusterTransaction ? (ClusterTransaction) sync : null;
    }

    /** When the transaction began; for a session outside one, when it was opened or its last one began. */
    long began() {
        return began;
    }

    /**
     * Drops {@code key} here, and on every peer before this returns, or before the completion of
     * {@code session}'s transaction ends when it is under way.
     */
    static void invalidate(SharedSessionContractImplementor session, Invalidations invalidations, String region,
            byte[] key) {
        ClusterTransaction transaction = of(session);
        if (transaction != null && transaction.completing) {
            invalidations.applyHere(region, key);
            transaction.changes.add(new Invalidations.Change(region, key));
        } else {
            invalidations.invalidate(region, key);
        }
    }

    @Override
    public long getCachingTimestamp() {
        return began;
    }

    /** What Hibernate 5 asked before {@link #getCachingTimestamp()}; abstract there still. */
    @Override
    @Deprecated
    public long getCurrentTransactionStartTimestamp() {
        return began;
    }

    @Override
    public void transactionJoined() {
        // A completion that never ended still owes its changes to the peers.
        sendChanges();
        completing = false;
        began = LocalClock.now();
    }

    @Override
    public void transactionCompleting() {
        completing = true;
    }

    @Override
    public void transactionCompleted(boolean successful) {
        completing = false;
        sendChanges();
    }

    private void sendChanges() {
        if (changes.isEmpty()) {
            return;
        }
        try {
            // send() writes its message before it returns, so the list may be cleared after.
            invalidations.await(invalidations.send(changes));
        } finally {
            changes.clear();
        }
    }
}
