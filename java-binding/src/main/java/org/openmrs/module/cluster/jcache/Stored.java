package org.openmrs.module.cluster.jcache;

import java.io.Serializable;

/**
 * What a JCache entry keeps in its {@link org.openmrs.module.cluster.ClusterCache}: the value and
 * the moment it expires, which the cache's {@link javax.cache.expiry.ExpiryPolicy} sets per entry
 * (the cluster cache's own time to live is one for the whole cache). Immutable; it travels between
 * nodes with the value, so that every node expires the entry at the same time.
 */
final class Stored implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Epoch milliseconds; {@link Long#MAX_VALUE} for never. */
    final long expiresAt;
    final Object value;

    Stored(Object value, long expiresAt) {
        this.value = value;
        this.expiresAt = expiresAt;
    }

    boolean isExpiredAt(long now) {
        return expiresAt <= now;
    }

    Stored expiringAt(long when) {
        return when == expiresAt ? this : new Stored(value, when);
    }
}
