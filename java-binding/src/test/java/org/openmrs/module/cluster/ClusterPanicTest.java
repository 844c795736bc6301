package org.openmrs.module.cluster;

import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.Rule;
import org.junit.Test;

/** onPanic on a healthy embedded node: listeners are kept and not called. */
public class ClusterPanicTest {

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    @Test(timeout = 30_000)
    public void aHealthyNodeDoesNotPanic() throws InterruptedException {
        Cluster cluster = nodes.start();
        List<String> reasons = new CopyOnWriteArrayList<>();
        cluster.onPanic(reasons::add);
        cluster.onPanic(reasons::add);
        Thread.sleep(2_500);
        assertTrue("a healthy node panicked: " + reasons, reasons.isEmpty());
        cluster.lock("still works").lock();
        cluster.lock("still works").unlock();
    }

    @Test
    public void aNullListenerIsRefused() {
        Cluster cluster = nodes.start();
        assertThrows(NullPointerException.class, () -> cluster.onPanic(null));
    }

    @Test(timeout = 30_000)
    public void closingTheNodeEndsTheWatchWithoutAPanic() throws InterruptedException {
        Cluster cluster = nodes.start();
        List<String> reasons = new CopyOnWriteArrayList<>();
        cluster.onPanic(reasons::add);
        cluster.close();
        Thread.sleep(1_500);
        assertTrue("closing the node called the listener: " + reasons, reasons.isEmpty());
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            assertTrue("still running: " + thread.getName(),
                    !thread.getName().equals("openmrs-cluster-panic-" + cluster.nodeName()));
        }
    }
}
