package org.openmrs.jmh;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.cp.lock.FencedLock;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterConfig;
import org.openmrs.module.cluster.ClusterLock;
import org.openmrs.module.cluster.ClusterMember;
import org.openmrs.module.cluster.it.ChildNode;

/**
 * Uncontended lock+unlock on 3-node loopback clusters, ours and Hazelcast's CP subsystem, side by
 * side, and our re-lock by the thread that holds the lock. Our cluster is this JVM's node, which
 * is the first and so most likely the leader, and two child JVMs; Hazelcast's is three members in
 * this JVM, the lock's CP group led by any of them. Each setup takes and releases its lock once, so
 * that sessions exist before the clock runs. Run with {@code gradle jmh -PjmhArgs=LockBenchmark}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LockBenchmark {

    private static final int NODES = 3;
    private static final long START_TIMEOUT_MS = 30_000;

    /** This JVM's node and two child JVMs, one cluster of three voters, and a lock on it. */
    @State(Scope.Benchmark)
    public static class OurCluster {

        private final List<ChildNode> children = new ArrayList<>();
        private Cluster cluster;
        ClusterLock lock;

        @Setup(Level.Trial)
        public void start() throws IOException, InterruptedException {
            String clusterName = "bench-" + UUID.randomUUID();
            cluster = Cluster.start(ClusterConfig.builder().clusterName(clusterName).nodeName("bench1")
                    .secret(BenchTopics.SECRET).build());
            String seed = cluster.members().stream().filter(ClusterMember::isLocal).findFirst()
                    .orElseThrow(IllegalStateException::new).address();
            for (int i = 2; i <= NODES; i++) {
                Properties config = new Properties();
                config.setProperty("cluster.name", clusterName);
                config.setProperty("cluster.node.name", "bench" + i);
                config.setProperty("cluster.seeds", seed);
                config.setProperty("cluster.secret", BenchTopics.SECRET);
                ChildNode child = ChildNode.launch("bench" + i, System.getProperty("java.class.path"), config,
                        new File("build/jmh-logs", "bench" + i + ".log"));
                children.add(child);
                if (!child.awaitStart(START_TIMEOUT_MS)) {
                    throw new IllegalStateException("bench" + i + " did not start: " + child.error());
                }
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
            while (cluster.members().size() < NODES) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no cluster of " + NODES + ": " + cluster.members());
                }
                Thread.sleep(50);
            }
            lock = cluster.lock("bench");
            lock.lock();
            lock.unlock();
        }

        @TearDown(Level.Trial)
        public void stop() {
            children.forEach(ChildNode::close);
            cluster.close();
        }
    }

    /** The lock held by the benchmark's thread during each iteration, for re-locks. */
    @State(Scope.Thread)
    public static class Held {

        ClusterLock lock;

        @Setup(Level.Iteration)
        public void take(OurCluster ours) {
            lock = ours.lock;
            lock.lock();
        }

        @TearDown(Level.Iteration)
        public void release() {
            lock.unlock();
        }
    }

    /** Three Hazelcast members in this JVM on loopback, with a CP subsystem of three, and a FencedLock. */
    @State(Scope.Benchmark)
    public static class HazelcastCp {

        private final List<HazelcastInstance> members = new ArrayList<>();
        FencedLock lock;

        @Setup(Level.Trial)
        public void start() {
            String clusterName = "bench-" + UUID.randomUUID();
            for (int i = 0; i < NODES; i++) {
                members.add(Hazelcast.newHazelcastInstance(config(clusterName)));
            }
            lock = members.get(0).getCPSubsystem().getLock("bench");
            lock.lock();
            lock.unlock();
        }

        @TearDown(Level.Trial)
        public void stop() {
            members.forEach(member -> member.getLifecycleService().terminate());
        }

        private static Config config(String clusterName) {
            Config config = HazelcastLoopback.config(clusterName);
            config.getCPSubsystemConfig().setCPMemberCount(NODES);
            return config;
        }
    }

    @Benchmark
    public void ourLockUnlock(OurCluster ours) {
        ours.lock.lock();
        ours.lock.unlock();
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public void ourReLockUnlock(Held held) {
        held.lock.lock();
        held.lock.unlock();
    }

    @Benchmark
    public void hazelcastFencedLockUnlock(HazelcastCp hazelcast) {
        hazelcast.lock.lock();
        hazelcast.lock.unlock();
    }
}
