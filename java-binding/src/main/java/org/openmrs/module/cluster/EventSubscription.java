package org.openmrs.module.cluster;

import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.openmrs.module.cluster.internal.Native;

/**
 * One subscription: a daemon thread polls the library for the subscription's messages and hands
 * them to the listener, one at a time, in order. A listener that throws is logged and goes on
 * getting the next messages; a slow one fills only its own queue. A message that cannot be read
 * here is skipped: one whose class is outside the node's allow-list is logged once per class, any
 * other each time. The thread ends when the subscription or the node is closed.
 */
final class EventSubscription<T> implements Subscription, Runnable {

    private static final Logger LOG = Logger.getLogger(EventSubscription.class.getName());
    private static final long POLL_MS = 500;

    private final long handle;
    private final long id;
    private final String topic;
    private final Consumer<T> listener;
    /**
     * Reads messages with the subscribing module's loader (this thread's context loader), then
     * the listener's.
     */
    private final DefaultCodec codec;
    private final Thread thread;
    private volatile boolean closed;

    private EventSubscription(long handle, long id, String topic, Consumer<T> listener, AllowedClasses allowed) {
        this.handle = handle;
        this.id = id;
        this.topic = topic;
        this.listener = listener;
        ClassLoader contextLoader = Thread.currentThread().getContextClassLoader();
        ClassLoader listenerLoader = listener.getClass().getClassLoader();
        this.codec = new DefaultCodec(listenerLoader, allowed, "topic '" + topic + "'");
        this.thread = new Thread(this, "openmrs-cluster-events-" + topic + "-" + id);
        thread.setDaemon(true);
        thread.setContextClassLoader(contextLoader != null ? contextLoader : listenerLoader);
    }

    static <T> EventSubscription<T> start(long handle, long id, String topic, Consumer<T> listener,
            AllowedClasses allowed) {
        EventSubscription<T> subscription = new EventSubscription<T>(handle, id, topic, listener, allowed);
        subscription.thread.start();
        return subscription;
    }

    /** Stops deliveries: no message is handed to the listener after this returns, except one under way. */
    @Override
    public void close() {
        closed = true;
        try {
            Native.eventsUnsubscribe(handle, id);
        } catch (RuntimeException e) {
            // The node is closed: its subscriptions ended with it.
        }
    }

    /** Messages this subscription dropped because its queue was full (its listener was too slow). */
    long droppedCount() {
        return Native.eventsDropped(handle, id);
    }

    Thread thread() {
        return thread;
    }

    @Override
    public void run() {
        try {
            while (!closed) {
                byte[][] batch = Native.eventsPoll(handle, id, POLL_MS);
                if (batch == null) {
                    return;
                }
                for (byte[] payload : batch) {
                    if (closed) {
                        return;
                    }
                    deliver(payload);
                }
            }
        } catch (RuntimeException e) {
            if (!closed) {
                LOG.log(Level.WARNING, "events of topic '" + topic + "' are no longer delivered to " + listener, e);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private void deliver(byte[] payload) {
        Object message;
        try {
            message = codec.decode(payload, 0, payload.length);
        } catch (RefusedClassException refused) {
            return; // Logged once per class by the allow-list: a flood of them must not flood the log.
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "an event of topic '" + topic + "' cannot be read here and is skipped"
                    + " (is its class visible to the subscribing module?): " + e, e);
            return;
        }
        try {
            listener.accept((T) message);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            LOG.log(Level.WARNING, "a listener of topic '" + topic + "' threw; it gets the next events all the same", e);
        }
    }
}
