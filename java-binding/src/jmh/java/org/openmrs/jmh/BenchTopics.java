package org.openmrs.jmh;

import java.io.Serializable;
import java.util.function.Consumer;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterConfig;
import org.openmrs.module.cluster.ClusterMember;

/**
 * Publish and subscribe on one node of the system under test, ours or Hazelcast's ITopic, so that
 * {@link EventsBenchmark} runs the same three-JVM protocol on both.
 */
interface BenchTopics extends AutoCloseable {

    /** The cluster secret of every benchmark node of ours. */
    String SECRET = "the secret of the benchmark clusters";

    <T extends Serializable> void publish(String topic, T message);

    <T> void subscribe(String topic, Consumer<T> listener);

    /** This node's address, which ours children join through. */
    String address();

    /** Members of the cluster this node sees, itself included. */
    int members();

    @Override
    void close();

    /**
     * A node of {@code system} ({@code ours} or {@code hazelcast}) in cluster {@code clusterName};
     * {@code seed} is the address of our first node (Hazelcast's members find each other on
     * 127.0.0.1 by themselves).
     */
    static BenchTopics start(String system, String clusterName, String nodeName, String seed) {
        switch (system) {
            case "ours":
                ClusterConfig.Builder config = ClusterConfig.builder().clusterName(clusterName).nodeName(nodeName)
                        .secret(SECRET);
                return ours(Cluster.start(seed == null ? config.build() : config.seeds(seed).build()));
            case "hazelcast":
                return hazelcast(Hazelcast.newHazelcastInstance(HazelcastLoopback.config(clusterName)));
            default:
                throw new IllegalArgumentException("no system '" + system + "': ours or hazelcast");
        }
    }

    static BenchTopics ours(Cluster cluster) {
        return new BenchTopics() {
            @Override
            public <T extends Serializable> void publish(String topic, T message) {
                cluster.events().publish(topic, message);
            }

            @Override
            public <T> void subscribe(String topic, Consumer<T> listener) {
                cluster.events().subscribe(topic, listener);
            }

            @Override
            public String address() {
                return cluster.members().stream().filter(ClusterMember::isLocal).findFirst()
                        .orElseThrow(IllegalStateException::new).address();
            }

            @Override
            public int members() {
                return cluster.members().size();
            }

            @Override
            public void close() {
                cluster.close();
            }
        };
    }

    static BenchTopics hazelcast(HazelcastInstance member) {
        return new BenchTopics() {
            @Override
            public <T extends Serializable> void publish(String topic, T message) {
                member.getTopic(topic).publish(message);
            }

            @Override
            public <T> void subscribe(String topic, Consumer<T> listener) {
                member.<T>getTopic(topic).addMessageListener(message -> listener.accept(message.getMessageObject()));
            }

            @Override
            public String address() {
                return member.getCluster().getLocalMember().getAddress().toString();
            }

            @Override
            public int members() {
                return member.getCluster().getMembers().size();
            }

            @Override
            public void close() {
                member.getLifecycleService().terminate();
            }
        };
    }
}
