package org.openmrs.module.cluster;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.rules.ExternalResource;

/** Starts embedded nodes for a test and closes them after it, the last started first. */
public final class EmbeddedNodes extends ExternalResource {

    private final List<Cluster> started = new ArrayList<>();

    /** Starts an embedded node, closed after the test. */
    public Cluster start() {
        Cluster cluster = Cluster.embedded();
        started.add(cluster);
        return cluster;
    }

    @Override
    protected void after() {
        Collections.reverse(started);
        started.forEach(Cluster::close);
    }
}
