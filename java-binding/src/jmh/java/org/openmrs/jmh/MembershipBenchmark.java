package org.openmrs.jmh;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterMember;
import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * The cost of asking an embedded node for its members, and whether its lease is valid (what the
 * second-level cache asks on every hit, {@code Invalidations.serving()}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MembershipBenchmark {

    private Cluster cluster;
    private NativeNode node;

    @Setup(Level.Trial)
    public void start() {
        cluster = Cluster.embedded();
        node = NativeNode.of(cluster);
    }

    @TearDown(Level.Trial)
    public void close() {
        cluster.close();
    }

    @Benchmark
    public List<ClusterMember> members() {
        return cluster.members();
    }

    @Benchmark
    public boolean leaseValid() {
        return node.call(Native::nodeLeaseValid);
    }
}
