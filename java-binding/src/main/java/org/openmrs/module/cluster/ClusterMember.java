package org.openmrs.module.cluster;

/** A live member of the cluster, as this node sees it. */
public interface ClusterMember {

    /** The member's node name, unique in its cluster. */
    String name();

    /** The {@code host:port} the member listens on. */
    String address();

    /** The application version the member runs ({@code cluster.app.version}). */
    String appVersion();

    /** Whether this member is the node that answered. */
    boolean isLocal();
}
