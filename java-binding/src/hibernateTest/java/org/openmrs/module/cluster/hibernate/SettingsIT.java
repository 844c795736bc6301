package org.openmrs.module.cluster.hibernate;

import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.Collections;
import java.util.UUID;

import org.hibernate.SessionFactory;
import org.junit.Test;
import org.openmrs.module.cluster.Cluster;

/** The region factory's settings, checked when a session factory starts on this JVM's node. */
public class SettingsIT {

    @Test(timeout = 60_000)
    public void anUnreachableWaitThatAPeerCouldOutliveWithoutPanickingIsRefusedNamingTheKey() {
        Cluster node = Cluster.embedded();
        try {
            Exception refused = assertThrows(Exception.class, () -> start("6999").close());
            StringBuilder messages = new StringBuilder();
            for (Throwable t = refused; t != null; t = t.getCause()) {
                messages.append(t.getMessage()).append('\n');
            }
            assertTrue(messages.toString(), messages.toString().contains(ClusterRegionFactory.UNREACHABLE_WAIT_MS
                    + ": must be at least cluster.panic.timeout.ms (5000) plus 2000 ms"));
        } finally {
            node.close();
        }
    }

    @Test(timeout = 60_000)
    public void theLeastUnreachableWaitIsTaken() {
        Cluster node = Cluster.embedded();
        try (SessionFactory factory = start("7000")) {
            assertTrue(factory.isOpen());
        } finally {
            node.close();
        }
    }

    private static SessionFactory start(String unreachableWaitMs) {
        return Databases.open("jdbc:h2:mem:settings-" + UUID.randomUUID(), Databases.CLUSTER,
                Collections.singletonMap(ClusterRegionFactory.UNREACHABLE_WAIT_MS, unreachableWaitMs));
    }
}
