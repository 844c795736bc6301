package org.openmrs.module.cluster;

/** How a {@link ClusterCache} spreads a write to the other members. */
public enum CacheMode {
    /** Each write is shipped to every member, which then holds the same value. */
    REPLICATED,
    /** Values stay on the node that wrote them; the others are told to drop the key. */
    INVALIDATION
}
