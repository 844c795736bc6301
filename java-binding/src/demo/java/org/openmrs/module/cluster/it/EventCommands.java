package org.openmrs.module.cluster.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.aop.EntityEvent;
import org.openmrs.module.cluster.aop.EntityEventAdvice;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The event commands of a {@link NodeProcess}, one line each:
 * <ul>
 * <li>{@code subscribe <topic>}: records the {@code "<publisher>:<i>"} strings that arrive; {@code SUBSCRIBED}</li>
 * <li>{@code publish <topic> <from> <to>}: publishes {@code "<node>:<i>"} for i in [from, to); {@code PUBLISHED}</li>
 * <li>{@code received <topic>}: {@code RECEIVED <total> <violations> <publisher>=<count>,...}, where a violation
 * is a message out of its publisher's order or seen twice</li>
 * <li>{@code entities}: subscribes to EntityEvent.TOPIC (once) and answers {@code ENTITIES action:uuid,...}</li>
 * <li>{@code patient <save|void|purge|save-rollback> <key>}: calls a service proxied by Spring with
 * EntityEventAdvice on the patient known as {@code key} (made on first use); {@code PATIENT <uuid>}</li>
 * </ul>
 * Returns null for any other command.
 */
final class EventCommands {

    static final String KNOWN = "subscribe, publish, received, entities, patient";

    /** Per topic, per publisher: next expected index and violations. */
    private static final Map<String, Tally> TALLIES = new ConcurrentHashMap<String, Tally>();
    private static final List<String> ENTITIES = new ArrayList<String>();
    private static final Map<String, TestPatientService.Patient> PATIENTS = new ConcurrentHashMap<String, TestPatientService.Patient>();
    private static TestPatientService service;
    private static boolean entitiesSubscribed;

    private EventCommands() {
    }

    static String answer(Cluster cluster, String command) {
        String[] w = command.split(" ");
        switch (w[0]) {
            case "subscribe":
                Tally tally = new Tally();
                TALLIES.put(w[1], tally);
                cluster.events().<String>subscribe(w[1], tally::add);
                return "SUBSCRIBED";
            case "publish":
                for (int i = Integer.parseInt(w[2]); i < Integer.parseInt(w[3]); i++) {
                    cluster.events().publish(w[1], cluster.nodeName() + ":" + i);
                }
                return "PUBLISHED";
            case "received":
                Tally t = TALLIES.get(w[1]);
                return t == null ? "ERROR not subscribed to " + w[1] : "RECEIVED " + t.describe();
            case "entities":
                return entities(cluster);
            case "patient":
                return "PATIENT " + patient(cluster, w[1], w[2]);
            default:
                return null;
        }
    }

    private static synchronized String entities(Cluster cluster) {
        if (!entitiesSubscribed) {
            entitiesSubscribed = true;
            cluster.events().<EntityEvent>subscribe(EntityEvent.TOPIC, e -> {
                synchronized (EventCommands.class) {
                    ENTITIES.add(e.action() + ":" + e.uuid());
                }
            });
        }
        return "ENTITIES " + String.join(",", ENTITIES);
    }

    private static synchronized String patient(Cluster cluster, String call, String key) {
        if (service == null) {
            ProxyFactory factory = new ProxyFactory(new TestPatientService.Impl());
            factory.addInterface(TestPatientService.class);
            factory.addAdvice(new EntityEventAdvice());
            service = (TestPatientService) factory.getProxy();
        }
        TestPatientService.Patient p = PATIENTS.computeIfAbsent(key, k -> new TestPatientService.Patient());
        switch (call) {
            case "save":
                service.savePatient(p);
                break;
            case "void":
                service.voidPatient(p, "test");
                break;
            case "purge":
                service.purgePatient(p);
                break;
            case "save-rollback":
                new TransactionTemplate(new TestPatientService.NoOpTransactions()).execute(status -> {
                    service.savePatient(p);
                    status.setRollbackOnly();
                    return null;
                });
                break;
            default:
                throw new IllegalArgumentException("unknown patient call " + call);
        }
        return p.getUuid();
    }

    /** What one subscription received, checked as it arrives. */
    private static final class Tally {
        private final Map<String, Integer> next = new LinkedHashMap<String, Integer>();
        private long total;
        private long violations;

        synchronized void add(String message) {
            int colon = message.lastIndexOf(':');
            String publisher = message.substring(0, colon);
            int i = Integer.parseInt(message.substring(colon + 1));
            Integer expected = next.get(publisher);
            if (expected == null ? i != 0 : i != expected) {
                violations++;
            }
            next.put(publisher, i + 1);
            total++;
        }

        synchronized String describe() {
            List<String> counts = new ArrayList<String>();
            for (Map.Entry<String, Integer> e : next.entrySet()) {
                counts.add(e.getKey() + "=" + e.getValue());
            }
            return total + " " + violations + " " + String.join(",", counts);
        }
    }
}
