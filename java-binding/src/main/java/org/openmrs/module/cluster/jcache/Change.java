package org.openmrs.module.cluster.jcache;

import java.io.Serializable;

import javax.cache.event.EventType;

/**
 * One change to an entry, as listeners hear of it: made here, or announced by the node that made
 * it. Serializable with only classes the cluster's allow-list admits by default (so no
 * {@link EventType}, which is javax's), besides the key and values themselves.
 */
final class Change implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final EventType[] TYPES = EventType.values();

    private final int type;
    final Object key;
    /** The new value (CREATED, UPDATED), or the value that went (REMOVED, EXPIRED). */
    final Object value;
    /** The value before an update; null for the other types. */
    final Object oldValue;

    private Change(EventType type, Object key, Object value, Object oldValue) {
        this.type = type.ordinal();
        this.key = key;
        this.value = value;
        this.oldValue = oldValue;
    }

    static Change created(Object key, Object value) {
        return new Change(EventType.CREATED, key, value, null);
    }

    static Change updated(Object key, Object value, Object oldValue) {
        return new Change(EventType.UPDATED, key, value, oldValue);
    }

    static Change removed(Object key, Object value) {
        return new Change(EventType.REMOVED, key, value, null);
    }

    static Change expired(Object key, Object value) {
        return new Change(EventType.EXPIRED, key, value, null);
    }

    EventType type() {
        return TYPES[type];
    }
}
