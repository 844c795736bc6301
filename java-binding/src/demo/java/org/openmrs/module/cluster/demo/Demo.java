package org.openmrs.module.cluster.demo;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterMember;
import org.openmrs.module.cluster.it.ChildNode;

/**
 * Shows membership at work, in plain words. Without arguments: three nodes start in three JVMs
 * and form one cluster, node 3 is killed and the other two notice, then the rest close. With
 * {@code --embedded}: a one-node embedded cluster starts in this JVM and shows its status.
 */
public final class Demo {

    private static final long START_TIMEOUT_MS = 30_000;
    private static final long NOTICE_TIMEOUT_MS = 10_000;

    private Demo() {
    }

    public static void main(String[] args) throws IOException {
        if (Arrays.asList(args).contains("--embedded")) {
            embedded();
        } else if (args.length == 0) {
            threeNodes();
        } else {
            System.err.println("usage: Demo [--embedded]");
            System.exit(2);
        }
    }

    private static void embedded() {
        System.out.println("Starting an embedded one-node cluster in this JVM...");
        try (Cluster cluster = Cluster.embedded()) {
            System.out.println("Node '" + cluster.nodeName() + "' is up.");
            for (ClusterMember member : cluster.members()) {
                System.out.println("  member " + member.name() + " at " + member.address()
                        + ", app version " + member.appVersion() + (member.isLocal() ? " (this node)" : ""));
            }
            System.out.println("  status: " + cluster.status());
            System.out.println("Closing it.");
        }
        System.out.println("Closed. Cluster.current() would now throw: no node is open.");
    }

    private static void threeNodes() throws IOException {
        File logs = new File(System.getProperty("openmrs.cluster.demo.logs", System.getProperty("java.io.tmpdir")));
        String classpath = System.getProperty("java.class.path");
        String clusterName = "openmrs-demo-" + System.currentTimeMillis();
        List<ChildNode> nodes = new ArrayList<ChildNode>();
        try {
            String seed = null;
            for (int i = 1; i <= 3; i++) {
                Properties config = new Properties();
                config.setProperty("cluster.name", clusterName);
                config.setProperty("cluster.node.name", "node" + i);
                if (seed != null) {
                    config.setProperty("cluster.seeds", seed);
                }
                System.out.println("Starting node" + i + " in a JVM of its own"
                        + (seed == null ? ", forming a new cluster..." : ", joining through " + seed + "..."));
                long started = System.nanoTime();
                ChildNode node = ChildNode.launch("node" + i, classpath, config, new File(logs, "node" + i + ".log"));
                nodes.add(node);
                if (!node.awaitStart(START_TIMEOUT_MS)) {
                    throw new IllegalStateException("node" + i + " could not start: " + node.error()
                            + "; its log: " + node.log());
                }
                System.out.println("  node" + i + " is a member, listening on " + node.address()
                        + " (JVM start and join took " + millisSince(started) + " ms)");
                seed = nodes.get(0).address();
            }
            ChildNode.awaitMembers(nodes, names(nodes), System.nanoTime(), NOTICE_TIMEOUT_MS);
            System.out.println("Each node lists the members it sees:");
            for (ChildNode node : nodes) {
                System.out.println("  " + node.name() + " sees " + node.members());
            }

            ChildNode third = nodes.remove(2);
            System.out.println("Killing node3's JVM (destroyForcibly: no goodbye, as in a crash)...");
            long killed = System.nanoTime();
            third.kill();
            long[] noticed = ChildNode.awaitMembers(nodes, names(nodes), killed, NOTICE_TIMEOUT_MS);
            System.out.println("  node1 noticed node3 is gone after " + noticed[0] + " ms, node2 after "
                    + noticed[1] + " ms; both now see " + nodes.get(0).members());

            ChildNode second = nodes.remove(1);
            System.out.println("Closing node2 (a graceful leave)...");
            long left = System.nanoTime();
            second.closeNode();
            long[] sawLeave = ChildNode.awaitMembers(nodes, names(nodes), left, NOTICE_TIMEOUT_MS);
            System.out.println("  node1 saw node2 leave after " + sawLeave[0] + " ms and now sees "
                    + nodes.get(0).members());
            second.close();

            System.out.println("Closing node1, the last one.");
            nodes.get(0).closeNode();
            System.out.println("Done. The nodes' logs are in " + logs.getAbsolutePath());
        } finally {
            for (ChildNode node : nodes) {
                node.close();
            }
        }
    }

    private static TreeSet<String> names(List<ChildNode> nodes) {
        TreeSet<String> names = new TreeSet<String>();
        for (ChildNode node : nodes) {
            names.add(node.name());
        }
        return names;
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}
