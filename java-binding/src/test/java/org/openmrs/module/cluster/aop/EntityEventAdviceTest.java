package org.openmrs.module.cluster.aop;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.it.TestPatientService;
import org.openmrs.module.cluster.it.TestPatientService.Patient;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.transaction.support.TransactionTemplate;

/** EntityEventAdvice around a service proxied by Spring, on one embedded node. */
public class EntityEventAdviceTest {

    private Cluster cluster;
    private TestPatientService service;
    private final List<EntityEvent> seen = new CopyOnWriteArrayList<>();

    @Before
    public void start() {
        cluster = Cluster.embedded();
        cluster.events().<EntityEvent>subscribe(EntityEvent.TOPIC, seen::add);
        ProxyFactory factory = new ProxyFactory(new TestPatientService.Impl());
        factory.addInterface(TestPatientService.class);
        factory.addAdvice(new EntityEventAdvice());
        service = (TestPatientService) factory.getProxy();
    }

    @After
    public void close() {
        cluster.close();
    }

    @Test(timeout = 30_000)
    public void eachServiceCallPublishesItsAction() {
        Patient p = new Patient();
        service.savePatient(p);
        service.savePatient(p);
        service.getPatient(p);
        service.voidPatient(p, "duplicate");
        service.purgePatient(p);
        await(() -> seen.size() >= 4);
        assertEquals(List.of(EntityEvent.Action.CREATED, EntityEvent.Action.UPDATED, EntityEvent.Action.VOIDED,
                EntityEvent.Action.PURGED), seen.stream().map(EntityEvent::action).collect(Collectors.toList()));
        for (EntityEvent e : seen) {
            assertEquals(p.getUuid(), e.uuid());
            assertEquals(Patient.class.getName(), e.entityClass());
            assertEquals(cluster.nodeName(), e.originNode());
        }
    }

    @Test(timeout = 30_000)
    public void inATransactionItPublishesAfterCommitAndNothingOnRollback() {
        TransactionTemplate tx = new TransactionTemplate(new TestPatientService.NoOpTransactions());
        Patient rolledBack = new Patient();
        tx.execute(status -> {
            service.savePatient(rolledBack);
            status.setRollbackOnly();
            return null;
        });
        Patient committed = new Patient();
        tx.execute(status -> {
            service.savePatient(committed);
            return null;
        });
        await(() -> seen.size() >= 1);
        sleepQuietly(200);
        assertEquals(1, seen.size());
        assertEquals(committed.getUuid(), seen.get(0).uuid());
        assertEquals(EntityEvent.Action.CREATED, seen.get(0).action());
    }

    @Test
    public void methodNamesMapToActions() {
        assertEquals(EntityEvent.Action.VOIDED, EntityEventAdvice.actionOf("voidPatient"));
        assertEquals(EntityEvent.Action.UNVOIDED, EntityEventAdvice.actionOf("unvoidPatient"));
        assertEquals(EntityEvent.Action.RETIRED, EntityEventAdvice.actionOf("retireLocation"));
        assertEquals(EntityEvent.Action.UNRETIRED, EntityEventAdvice.actionOf("unretireLocation"));
        assertEquals(EntityEvent.Action.PURGED, EntityEventAdvice.actionOf("purgeObs"));
        assertNull(EntityEventAdvice.actionOf("getPatient"));
    }

    private static void await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 20 s");
            }
            sleepQuietly(5);
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
