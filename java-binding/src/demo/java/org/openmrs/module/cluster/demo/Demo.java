package org.openmrs.module.cluster.demo;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterCache;
import org.openmrs.module.cluster.ClusterMember;
import org.openmrs.module.cluster.internal.Tool;
import org.openmrs.module.cluster.it.ChildNode;

/**
 * Shows the cluster at work, in plain words. Without arguments: three nodes start in three JVMs
 * and form one cluster; a singleton task runs on one of them each second; a value node1 caches
 * is read on node2 and node3, and a fourth node joins with the cache warm; node1 offers items to
 * a queue that node2 and node3 drain; node1 takes a lock that the others wait for and is
 * killed: the lock passes on and the singleton moves; then a second node is killed and the last
 * one panics. With {@code --embedded}: a one-node embedded cluster starts in this JVM and shows
 * its status and a cache.
 */
public final class Demo {

    private static final long ANSWER_MS = 10_000;
    /** What 'java -jar openmrs-cluster-<version>.jar secret' prints, new for each run: every node gets it. */
    private static final String SECRET = Tool.newSecret();

    private static final long START_TIMEOUT_MS = 30_000;
    private static final long NOTICE_TIMEOUT_MS = 10_000;
    /** Short, so that the last node's panic shows within the demo. */
    private static final long PANIC_TIMEOUT_MS = 3_000;
    private static final int QUEUE_ITEMS = 12;
    private static final int CACHE_KEYS = 20;

    private Demo() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
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
            ClusterCache<String, String> cache = cluster.cache("greetings");
            cache.put("hello", "world");
            System.out.println("  cache 'greetings': put hello=world, get hello: " + cache.get("hello"));
            System.out.println("Closing it.");
        }
        System.out.println("Closed. Cluster.current() would now throw: no node is open.");
    }

    private static void threeNodes() throws IOException, InterruptedException {
        File logs = new File(System.getProperty("openmrs.cluster.demo.logs", System.getProperty("java.io.tmpdir")));
        List<ChildNode> nodes = new ArrayList<ChildNode>();
        SingletonRuns runs = null;
        String clusterName = "openmrs-demo-" + System.currentTimeMillis();
        try {
            for (int i = 1; i <= 3; i++) {
                nodes.add(startNode(clusterName, i, nodes.isEmpty() ? null : nodes.get(0).address(), logs));
            }
            showMembers(nodes);
            runs = new SingletonRuns(new File(logs, "singleton-runs-" + System.currentTimeMillis()));
            scheduleSingleton(nodes, runs);
            showQueue(nodes);
            showCache(nodes, clusterName, logs);
            showEvents(nodes);
            ChildNode holder = showLockAndKillItsHolder(nodes, runs);
            panicTheLastNode(nodes, holder);
            System.out.println("Done. The nodes' logs are in " + logs.getAbsolutePath());
        } finally {
            if (runs != null) {
                runs.stop();
            }
            for (ChildNode node : nodes) {
                node.close();
            }
        }
    }

    /** Starts node{@code i} in a JVM of its own, forming the cluster (no seed) or joining through {@code seed}. */
    private static ChildNode startNode(String clusterName, int i, String seed, File logs) throws IOException {
        Properties config = new Properties();
        config.setProperty("cluster.name", clusterName);
        config.setProperty("cluster.node.name", "node" + i);
        config.setProperty("cluster.secret", SECRET);
        config.setProperty("cluster.panic.timeout.ms", Long.toString(PANIC_TIMEOUT_MS));
        if (seed != null) {
            config.setProperty("cluster.seeds", seed);
        }
        System.out.println("Starting node" + i + " in a JVM of its own"
                + (seed == null ? ", forming a new cluster..." : ", joining through " + seed + "..."));
        long started = System.nanoTime();
        ChildNode node = ChildNode.launch("node" + i, System.getProperty("java.class.path"), config,
                new File(logs, "node" + i + ".log"));
        if (!node.awaitStart(START_TIMEOUT_MS)) {
            node.close();
            throw new IllegalStateException("node" + i + " could not start: " + node.error() + "; its log: " + node.log());
        }
        System.out.println("  node" + i + " is a member, listening on " + node.address()
                + " (JVM start and join took " + millisSince(started) + " ms)");
        return node;
    }

    private static void showMembers(List<ChildNode> nodes) {
        ChildNode.awaitMembers(nodes, names(nodes), System.nanoTime(), NOTICE_TIMEOUT_MS);
        System.out.println("\n== Members: each node lists the members it sees");
        for (ChildNode node : nodes) {
            System.out.println("  " + node.name() + " sees " + node.members());
        }
    }

    private static void scheduleSingleton(List<ChildNode> nodes, SingletonRuns runs) {
        System.out.println("\n== A singleton task: every node schedules 'report' every second; one node runs"
                + " each period");
        for (ChildNode node : nodes) {
            node.ask("schedule report 1000 " + runs.file(), "SCHEDULED report");
        }
        runs.start();
    }

    private static void showQueue(List<ChildNode> nodes) throws IOException {
        System.out.println("\n== A queue: node1 offers " + QUEUE_ITEMS + " items; node2 and node3 claim and"
                + " acknowledge them");
        nodes.get(0).ask("offer inbound " + QUEUE_ITEMS, "OFFERED inbound");
        File drained = File.createTempFile("demo-drained", ".txt");
        try {
            for (ChildNode node : nodes.subList(1, 3)) {
                node.send("drain inbound " + drained);
            }
            for (ChildNode node : nodes.subList(1, 3)) {
                String answer = node.await("DRAINED inbound", 30_000);
                System.out.println("  " + node.name() + " acknowledged " + answer.substring(answer.lastIndexOf(' ') + 1)
                        + " items: " + itemsOf(drained, node.name()));
            }
            System.out.println("  items left in the queue, as node1 sees it: "
                    + nodes.get(0).ask("size inbound", "SIZE inbound").substring("SIZE inbound ".length()));
        } finally {
            Files.deleteIfExists(drained.toPath());
        }
    }

    /** Where events across nodes will be shown; they arrive with the events issue. */
    /**
     * node1 saves, saves again and voids a patient through a service advised by
     * EntityEventAdvice; the entity listeners of node2 and node3 hear each call.
     */
    private static void showEvents(List<ChildNode> nodes) throws InterruptedException {
        System.out.println("\n== Events: a service call on node1 reaches the listeners of node2 and node3");
        List<ChildNode> listeners = nodes.subList(1, nodes.size());
        for (ChildNode listener : listeners) {
            listener.ask("entities", "ENTITIES");
        }
        ChildNode writer = nodes.get(0);
        String uuid = writer.ask("patient save p", "PATIENT", ANSWER_MS);
        writer.ask("patient save p", "PATIENT", ANSWER_MS);
        writer.ask("patient void p", "PATIENT", ANSWER_MS);
        System.out.println("  node1 called savePatient (a new patient), savePatient again, then voidPatient on " + uuid);
        Thread.sleep(300);
        for (ChildNode listener : listeners) {
            String heard = listener.ask("entities", "ENTITIES", ANSWER_MS);
            System.out.println("  " + listener.name() + "'s listener heard: " + heard.replace(uuid, "<uuid>"));
        }
    }

    /**
     * node1 puts a value into a replicated cache and node2 and node3 read it; node1 writes more
     * entries, and a fourth node joins and finds them all at its first read. The fourth node then
     * leaves, so that the sections after this one concern three nodes.
     */
    private static void showCache(List<ChildNode> nodes, String clusterName, File logs)
            throws IOException, InterruptedException {
        System.out.println("\n== A replicated cache: node1 caches a value; node2 and node3 read it");
        ChildNode writer = nodes.get(0);
        long putNanos = System.nanoTime();
        writer.ask("cput concepts REPLICATED weight kg", "CPUT concepts weight ");
        for (ChildNode reader : nodes.subList(1, 3)) {
            String read;
            while ((read = reader.ask("cget concepts REPLICATED weight", "CGET concepts weight ")).endsWith(" null")) {
                if (millisSince(putNanos) > NOTICE_TIMEOUT_MS) {
                    throw new IllegalStateException(reader.name() + " did not get the cached value within "
                            + NOTICE_TIMEOUT_MS + " ms");
                }
                Thread.sleep(5);
            }
            System.out.println("  " + reader.name() + " reads weight=" + read.substring(read.lastIndexOf(' ') + 1)
                    + " (" + millisSince(putNanos) + " ms after node1's put)");
        }
        String written = writer.ask("cwrite concepts REPLICATED " + CACHE_KEYS + " 200", "CWROTE concepts");
        System.out.println("  node1 wrote 200 values onto " + CACHE_KEYS + " keys in "
                + written.substring(written.lastIndexOf(' ') + 1) + " ms");
        ChildNode fourth = startNode(clusterName, 4, writer.address(), logs);
        try {
            String warm = fourth.ask("cdump concepts REPLICATED " + CACHE_KEYS, "CDUMP concepts", ANSWER_MS);
            String onWriter = writer.ask("cdump concepts REPLICATED " + CACHE_KEYS, "CDUMP concepts", ANSWER_MS);
            System.out.println("  node4's first read of the cache finds " + warm.split(" ")[0] + " entries, "
                    + (warm.equals(onWriter) ? "the same values as node1's" : "NOT node1's values: " + warm)
                    + "; node4 leaves");
        } finally {
            fourth.close();
        }
    }

    /**
     * node1 takes the lock, node2 and node3 wait for it; node1 is killed: the lock passes on, and
     * the singleton moves if node1 ran it. Returns the node that got the lock.
     */
    private static ChildNode showLockAndKillItsHolder(List<ChildNode> nodes, SingletonRuns runs)
            throws InterruptedException {
        System.out.println("\n== A lock: node1 takes 'orders', node2 and node3 wait for it");
        ChildNode first = nodes.get(0);
        System.out.println("  " + first.ask("lock orders", "LOCKED orders").replace("LOCKED orders", "node1 holds it,"
                + " fence"));
        for (ChildNode node : nodes.subList(1, 3)) {
            node.send("lock orders");
        }
        Thread.sleep(500);
        System.out.println("  singleton 'report' runs on " + runs.lastNode() + "\n");
        System.out.println("Killing node1's JVM (destroyForcibly: no goodbye, as in a crash)...");
        long killedNanos = System.nanoTime();
        long killedAt = System.currentTimeMillis();
        first.kill();
        nodes.remove(first);
        ChildNode holder = null;
        while (holder == null) {
            for (ChildNode node : nodes) {
                String locked = node.poll("LOCKED orders", 20);
                if (locked != null) {
                    holder = node;
                    System.out.println("  the lock passed to " + node.name() + " " + millisSince(killedNanos)
                            + " ms after the kill (" + locked.replace("LOCKED orders", "fence") + ")");
                }
            }
            if (millisSince(killedNanos) > 20_000) {
                throw new IllegalStateException("the lock did not pass on within 20 s");
            }
        }
        String[] next = runs.awaitRunAfter(killedAt, 20_000);
        System.out.println("  singleton 'report' moved: its next run was on " + next[0] + ", "
                + (Long.parseLong(next[2]) - killedAt) + " ms after the kill");
        Thread.sleep(1_500);
        return holder;
    }

    private static void panicTheLastNode(List<ChildNode> nodes, ChildNode holder) throws InterruptedException {
        ChildNode last = holder;
        ChildNode other = nodes.get(0) == holder ? nodes.get(1) : nodes.get(0);
        System.out.println("\n== Panic: killing " + other.name() + " leaves " + last.name() + " without a majority"
                + " (panic timeout " + PANIC_TIMEOUT_MS + " ms)");
        long killedNanos = System.nanoTime();
        long killedAt = System.currentTimeMillis();
        other.kill();
        nodes.remove(other);
        String panicked;
        while (!(panicked = last.ask("panicked", "PANICKED")).startsWith("PANICKED true ")) {
            if (millisSince(killedNanos) > 20_000) {
                throw new IllegalStateException(last.name() + " did not panic within 20 s");
            }
            Thread.sleep(50);
        }
        String[] words = panicked.split(" ", 4);
        System.out.println("  " + last.name() + "'s panic listener was called " + (Long.parseLong(words[2]) - killedAt)
                + " ms after the kill: " + words[3]);
        System.out.println("  a lock call there now: " + last.ask("trylock orders2 1000", "TRYLOCK orders2")
                .replace("TRYLOCK orders2 failed ", ""));
        System.out.println("  members() still answers: " + last.members());
    }

    private static String itemsOf(File drained, String node) throws IOException {
        List<String> items = new ArrayList<String>();
        for (String line : Files.readAllLines(drained.toPath(), StandardCharsets.UTF_8)) {
            String[] words = line.split(" ");
            if (words[0].equals(node)) {
                items.add(words[1]);
            }
        }
        return items.toString();
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
