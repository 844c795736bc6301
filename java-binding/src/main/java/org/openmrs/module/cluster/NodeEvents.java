package org.openmrs.module.cluster;

import java.io.Serializable;
import java.util.Objects;
import java.util.function.Consumer;

import org.openmrs.module.cluster.internal.Native;

/**
 * {@link ClusterEvents} on a node: messages travel encoded by {@link DefaultCodec} (a few bytes for
 * strings, numbers and UUIDs, Java serialization for the rest), and each subscription has a
 * bounded queue in the library drained by a daemon thread of its own (see {@link EventSubscription}).
 */
final class NodeEvents implements ClusterEvents {

    /** System property: undelivered messages one subscription may hold before it drops its oldest. */
    static final String QUEUE_PROPERTY = "openmrs.cluster.events.queue";
    static final int DEFAULT_QUEUE = 10_000;
    /** Encoding needs no class loader. */
    private static final DefaultCodec MESSAGES = new DefaultCodec(null);

    private final long handle;
    private final String nodeName;
    private final AllowedClasses allowed;

    NodeEvents(long handle, String nodeName, AllowedClasses allowed) {
        this.handle = handle;
        this.nodeName = nodeName;
        this.allowed = allowed;
    }

    @Override
    public <T extends Serializable> void publish(String topic, T message) {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(message, "message");
        byte[] payload = MESSAGES.encode(message);
        try {
            Native.eventsPublish(handle, topic, payload);
        } catch (IllegalStateException e) {
            throw closed(e);
        }
    }

    @Override
    public <T> Subscription subscribe(String topic, Consumer<T> listener) {
        return subscribe(topic, listener, Integer.getInteger(QUEUE_PROPERTY, DEFAULT_QUEUE));
    }

    /** As {@link #subscribe(String, Consumer)}, with a queue of {@code capacity} messages. */
    <T> EventSubscription<T> subscribe(String topic, Consumer<T> listener, int capacity) {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(listener, "listener");
        if (capacity < 1) {
            throw new IllegalArgumentException(QUEUE_PROPERTY + ": must be at least 1, got " + capacity);
        }
        long id;
        try {
            id = Native.eventsSubscribe(handle, topic, capacity);
        } catch (IllegalStateException e) {
            throw closed(e);
        }
        return EventSubscription.start(handle, id, topic, listener, allowed);
    }

    private ClusterException closed(IllegalStateException cause) {
        return new ClusterException("node '" + nodeName + "' is closed", cause);
    }
}
