package org.openmrs.module.cluster.aop;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/**
 * An OpenMRS object changed on some node: published by {@link EntityEventAdvice} on {@link #TOPIC}
 * after the service call (and its transaction) succeeded. The action names are those of the
 * OpenMRS event module. See docs/events.md for evicting caches and re-indexing on the others.
 */
public final class EntityEvent implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final String TOPIC = "openmrs.entity";

    public enum Action { CREATED, UPDATED, VOIDED, UNVOIDED, RETIRED, UNRETIRED, PURGED }

    private final String entityClass;
    private final String uuid;
    private final Action action;
    private final String originNode;
    private final Instant time;

    public EntityEvent(String entityClass, String uuid, Action action, String originNode, Instant time) {
        this.entityClass = Objects.requireNonNull(entityClass, "entityClass");
        this.uuid = Objects.requireNonNull(uuid, "uuid");
        this.action = Objects.requireNonNull(action, "action");
        this.originNode = Objects.requireNonNull(originNode, "originNode");
        this.time = Objects.requireNonNull(time, "time");
    }

    /** Fully qualified class name of the changed object (a Hibernate proxy's own class stripped). */
    public String entityClass() {
        return entityClass;
    }

    public String uuid() {
        return uuid;
    }

    public Action action() {
        return action;
    }

    /** The name of the node where the change was made. */
    public String originNode() {
        return originNode;
    }

    /** When the change was published, by the origin node's clock. */
    public Instant time() {
        return time;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof EntityEvent)) {
            return false;
        }
        EntityEvent e = (EntityEvent) o;
        return entityClass.equals(e.entityClass) && uuid.equals(e.uuid) && action == e.action
                && originNode.equals(e.originNode) && time.equals(e.time);
    }

    @Override
    public int hashCode() {
        return Objects.hash(entityClass, uuid, action, originNode, time);
    }

    @Override
    public String toString() {
        return "EntityEvent{" + action + " " + entityClass + " " + uuid + " on '" + originNode + "' at " + time + "}";
    }
}
