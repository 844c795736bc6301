package org.openmrs.module.cluster.aop;

import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The only class that names spring-tx: load it only where spring-tx is on the class path
 * ({@link EntityEventAdvice} checks first, so that the advice works without it; inside OpenMRS it
 * always is).
 */
public final class AfterCommit implements TransactionSynchronization {

    private final Runnable action;

    private AfterCommit(Runnable action) {
        this.action = action;
    }

    /** Runs {@code action} after the current transaction commits; false if no transaction is active. */
    public static boolean register(Runnable action) {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            return false;
        }
        TransactionSynchronizationManager.registerSynchronization(new AfterCommit(action));
        return true;
    }

    @Override
    public void afterCommit() {
        action.run();
    }
}
