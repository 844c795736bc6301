package org.openmrs.module.cluster.it;

import java.util.UUID;

import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;
import org.springframework.transaction.support.DefaultTransactionStatus;

/** A stand-in for an OpenMRS service, for EntityEventAdvice in the child JVMs. */
public interface TestPatientService {

    Patient savePatient(Patient p);

    Patient voidPatient(Patient p, String reason);

    void purgePatient(Patient p);

    /** A read: no event. */
    Patient getPatient(Patient p);

    /** An OpenMRS object in miniature: an id once saved, a uuid from the start. */
    final class Patient {
        private Integer id;
        private final String uuid = UUID.randomUUID().toString();

        public Integer getId() {
            return id;
        }

        public String getUuid() {
            return uuid;
        }
    }

    final class Impl implements TestPatientService {
        private int ids;

        @Override
        public synchronized Patient savePatient(Patient p) {
            if (p.id == null) {
                p.id = ++ids;
            }
            return p;
        }

        @Override
        public Patient voidPatient(Patient p, String reason) {
            return p;
        }

        @Override
        public void purgePatient(Patient p) {
        }

        @Override
        public Patient getPatient(Patient p) {
            return p;
        }
    }

    /** Transactions that hold nothing: enough to drive Spring's synchronizations. */
    final class NoOpTransactions extends AbstractPlatformTransactionManager {
        private static final long serialVersionUID = 1L;

        @Override
        protected Object doGetTransaction() {
            return new Object();
        }

        @Override
        protected void doBegin(Object transaction, TransactionDefinition definition) {
        }

        @Override
        protected void doCommit(DefaultTransactionStatus status) {
        }

        @Override
        protected void doRollback(DefaultTransactionStatus status) {
        }
    }
}
