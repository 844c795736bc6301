package org.openmrs.module.cluster.hibernate;

import java.util.ArrayList;
import java.util.List;

import org.hibernate.cache.spi.CacheTransactionSynchronization;
import org.hibernate.engine.spi.SharedSessionContractImplementor;

/**
 * A session's transaction as the cache sees it: when it began ({@link LocalClock}, before any of
 * its database reads), and the invalidations its completion sent. Hibernate completes a
 * transaction's cache actions one after another (entities, collections, then each table of the
 * query cache) and then calls {@link #transactionCompleted}, all inside the commit call: so the
 * invalidations go out as each action completes, and their answers are awaited once, at the end.
 * Outside a completion (a rollback, an eviction) each invalidation is awaited at once.
 */
final class ClusterTransaction implements CacheTransactionSynchronization {

    private final Invalidations invalidations;
    private final List<Invalidations.Sent> sent = new ArrayList<Invalidations.Sent>();
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
     * Sends the invalidation, and waits for its answers now, or at the end of the completion of
     * {@code session}'s transaction when it is under way.
     */
    static void invalidate(SharedSessionContractImplementor session, Invalidations invalidations, String region,
            byte[] key) {
        ClusterTransaction transaction = of(session);
        Invalidations.Sent invalidation = invalidations.send(region, key);
        if (transaction != null && transaction.completing) {
            transaction.sent.add(invalidation);
        } else {
            invalidations.await(invalidation);
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
        forgetSent();
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
        try {
            for (Invalidations.Sent invalidation : sent) {
                invalidations.await(invalidation);
            }
        } finally {
            sent.clear();
        }
    }

    /** A completion that never ended leaves its invalidations sent but no longer awaited. */
    private void forgetSent() {
        for (Invalidations.Sent invalidation : sent) {
            invalidations.forget(invalidation);
        }
        sent.clear();
    }
}
