package org.openmrs.module.cluster;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

import org.junit.rules.ExternalResource;

/** Starts embedded nodes for a test and closes them after it, the last started first. */
public final class EmbeddedNodes extends ExternalResource {

    private final List<Cluster> started = new ArrayList<>();

    /** Starts an embedded node, closed after the test. */
    public Cluster start() {
        return closedAfter(Cluster.embedded());
    }

    /**
     * Starts a one-node cluster of its own name with {@code config}'s other settings and a secret,
     * closed after the test.
     */
    public Cluster start(ClusterConfig.Builder config) {
        return closedAfter(Cluster.start(config.clusterName("single-" + UUID.randomUUID())
                .secret("a secret of the test node").raftVoters(1).build()));
    }

    /**
     * Starts {@code count} nodes in this JVM that form one cluster of their own on loopback, the
     * first its only voter, and waits until each lists them all; closed after the test.
     */
    public List<Cluster> startJoined(int count) {
        String clusterName = "joined-" + UUID.randomUUID();
        List<Cluster> joined = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ClusterConfig.Builder config = ClusterConfig.builder().clusterName(clusterName).raftVoters(1)
                    .secret("the secret of " + clusterName);
            if (i > 0) {
                config.seeds(joined.get(0).members().get(0).address());
            }
            joined.add(closedAfter(Cluster.start(config.build())));
        }
        EventsTest.await(() -> joined.stream().allMatch(node -> node.members().size() == count));
        return joined;
    }

    /** Closes {@code cluster} after the test. */
    public Cluster closedAfter(Cluster cluster) {
        started.add(cluster);
        return cluster;
    }

    @Override
    protected void after() {
        Collections.reverse(started);
        started.forEach(Cluster::close);
    }
}
