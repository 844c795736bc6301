package org.openmrs.module.cluster;

import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * The panic listeners of one {@link Cluster}, and the daemon thread that calls them. The thread
 * starts with the first registration and waits for the node's panic in native slices of
 * {@value #AWAIT_MS} ms, so that it ends soon after the node closes. On the panic it calls every
 * listener registered so far once; a listener registered later is called at once, on the same
 * thread. A listener that throws is logged; the others are still called. Thread-safe.
 */
final class PanicWatch {

    private static final Logger LOG = Logger.getLogger(PanicWatch.class.getName());
    private static final long AWAIT_MS = 1000;

    private final NativeNode node;
    /** Listeners not yet called; after the panic, those registered late. */
    private final BlockingQueue<ClusterPanicListener> pending = new LinkedBlockingQueue<ClusterPanicListener>();
    /** Started with the first registration; guarded by this. */
    private Thread watcher;
    private volatile String reason;

    PanicWatch(NativeNode node) {
        this.node = node;
    }

    /** Adds a listener, called once when this node panics (at once, if it has). */
    void register(ClusterPanicListener listener) {
        Objects.requireNonNull(listener, "listener");
        node.ensureOpen();
        pending.add(listener);
        synchronized (this) {
            if (watcher == null) {
                watcher = new Thread(this::watch, "openmrs-cluster-panic-" + node.name());
                watcher.setDaemon(true);
                watcher.start();
            }
        }
    }

    /** Why this node panicked, or null if it has not (as far as the watching thread knows). */
    String reason() {
        return reason;
    }

    private void watch() {
        try {
            String why = null;
            while (why == null) {
                if (node.isClosed()) {
                    return;
                }
                why = node.call(handle -> Native.panicAwait(handle, AWAIT_MS));
            }
            reason = why;
            LOG.severe("node '" + node.name() + "' panicked: " + why);
            while (!node.isClosed()) {
                ClusterPanicListener listener = pending.poll(AWAIT_MS, TimeUnit.MILLISECONDS);
                if (listener != null) {
                    call(listener, why);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (!node.isClosed()) {
                LOG.log(Level.SEVERE, "node '" + node.name() + "' can no longer watch for its panic", e);
            }
        }
    }

    private void call(ClusterPanicListener listener, String why) {
        try {
            listener.onPanic(why);
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "panic listener " + listener + " of node '" + node.name() + "' failed", e);
        }
    }
}
