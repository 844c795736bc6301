package org.openmrs.module.cluster.hibernate;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.stat.Statistics;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterConfig;
import org.openmrs.module.cluster.ClusterMember;
import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * One application server of the stale-read test, in a JVM of its own. Arguments are
 * {@code key=value}: {@code cache} ({@link Databases}), {@code url}, {@code items},
 * {@code updates}, {@code readers}, {@code history}, the node's {@code cluster.*} keys and more
 * {@code hibernate.*} settings. It prints {@code NODE <address>} (or {@code NODE -} without a
 * cluster), then {@code READY} once its session factory is built, then answers commands, one a
 * line: {@code go} runs one writer and the readers, writes the history file and answers
 * {@code DONE <statistics>}; {@code read <item>}, {@code update <item>}, {@code isolate
 * <host:port>} (cuts this node off from that one), {@code watch <item> <ms> <file>} (reads the
 * item for that long, one {@code read} answer a line into the file); {@code exit} closes and ends.
 *
 * <p>History lines, times from {@link System#nanoTime()} (one clock for every JVM of the machine):
 * {@code W <item> <value> <begin> <commit returned>} and
 * {@code R <item> <begin> <counter> <mark> <query>}.
 */
public final class L2Node {

    private final SessionFactory factory;
    private final int items;
    private final List<String> history = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger retries = new AtomicInteger();

    private L2Node(SessionFactory factory, int items) {
        this.factory = factory;
        this.items = items;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> settings = new HashMap<>();
        Properties clusterKeys = new Properties();
        Map<String, String> hibernateKeys = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            String key = arg.substring(0, eq);
            String value = arg.substring(eq + 1);
            if (key.startsWith("cluster.")) {
                clusterKeys.setProperty(key, value);
            } else if (key.startsWith("hibernate.")) {
                hibernateKeys.put(key, value);
            } else {
                settings.put(key, value);
            }
        }
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        Cluster cluster = null;
        if (Databases.CLUSTER.equals(settings.get("cache"))) {
            cluster = Cluster.start(ClusterConfig.fromProperties(clusterKeys));
            out.println("NODE " + localAddress(cluster));
        } else {
            out.println("NODE -");
        }
        SessionFactory factory = Databases.open(settings.get("url"), settings.get("cache"), hibernateKeys);
        out.println("READY");
        L2Node node = new L2Node(factory, Integer.parseInt(settings.get("items")));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.equals("exit")) {
            String[] words = line.split(" ");
            try {
                out.println(node.answer(words, settings, cluster));
            } catch (RuntimeException e) {
                out.println("ERROR " + e.toString().replace('\n', ' '));
            }
        }
        factory.close();
        if (cluster != null) {
            cluster.close();
        }
    }

    /** One command's answer, once it is done. */
    private String answer(String[] words, Map<String, String> settings, Cluster cluster) throws Exception {
        switch (words[0]) {
            case "go":
                run(Integer.parseInt(settings.get("updates")), Integer.parseInt(settings.get("readers")));
                Files.write(Paths.get(settings.get("history")), history, StandardCharsets.UTF_8);
                Statistics stats = factory.getStatistics();
                return "DONE l2Hits=" + stats.getSecondLevelCacheHitCount() + " l2Misses="
                        + stats.getSecondLevelCacheMissCount() + " l2Puts=" + stats.getSecondLevelCachePutCount()
                        + " queryHits=" + stats.getQueryCacheHitCount() + " queryMisses="
                        + stats.getQueryCacheMissCount() + " retries=" + retries.get();
            case "read":
                return "READ " + readCounter(Integer.parseInt(words[1]));
            case "update":
                return "UPDATED " + update(Integer.parseInt(words[1]));
            case "isolate":
                Native.faultIsolate(NativeNode.of(cluster).handle(), words[1]);
                return "ISOLATED " + words[1];
            case "watch":
                int id = Integer.parseInt(words[1]);
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(words[2]));
                List<String> reads = new ArrayList<>();
                while (System.nanoTime() < until) {
                    reads.add(readCounter(id));
                }
                Files.write(Paths.get(words[3]), reads, StandardCharsets.UTF_8);
                return "WATCHED " + reads.size();
            default:
                return "ERROR unknown command '" + words[0] + "'";
        }
    }

    /**
     * Reads the item's counter alone: {@code <counter> <hit> <begin> <end>}, {@code hit} 1 when
     * the second-level cache served it (this node's statistics; one reader at a time).
     */
    private String readCounter(int id) {
        long hits = factory.getStatistics().getSecondLevelCacheHitCount();
        long begin = System.nanoTime();
        int counter;
        try (Session session = factory.openSession()) {
            Transaction tx = session.beginTransaction();
            counter = session.find(Item.class, id).counter();
            tx.commit();
        }
        long end = System.nanoTime();
        boolean hit = factory.getStatistics().getSecondLevelCacheHitCount() > hits;
        return counter + " " + (hit ? 1 : 0) + " " + begin + " " + end;
    }

    private void run(int updates, int readers) throws InterruptedException {
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < readers; i++) {
            threads.add(new Thread(() -> {
                while (writing.get()) {
                    read();
                }
            }, "reader-" + i));
        }
        threads.forEach(Thread::start);
        try {
            for (int i = 0; i < updates; i++) {
                update(randomItem());
            }
        } finally {
            writing.set(false);
            for (Thread thread : threads) {
                thread.join();
            }
        }
    }

    /**
     * Adds one to the item's counter and sets its collection to the new value, retried on
     * conflicts: {@code <value> <begin> <commit returned>}.
     */
    private String update(int id) {
        for (int attempt = 0; attempt < 1000; attempt++) {
            long begin = System.nanoTime();
            try (Session session = factory.openSession()) {
                Transaction tx = session.beginTransaction();
                try {
                    Item item = session.find(Item.class, id);
                    int value = item.counter() + 1;
                    item.set(value);
                    tx.commit();
                    String done = value + " " + begin + " " + System.nanoTime();
                    history.add("W " + id + " " + done);
                    return done;
                } catch (RuntimeException conflict) {
                    if (tx.isActive()) {
                        tx.rollback();
                    }
                    retries.incrementAndGet();
                }
            }
        }
        throw new IllegalStateException("item " + id + " could not be updated in 1000 attempts");
    }

    private void read() {
        int id = randomItem();
        long begin = System.nanoTime();
        try (Session session = factory.openSession()) {
            Transaction tx = session.beginTransaction();
            Item item = session.find(Item.class, id);
            int counter = item.counter();
            int mark = item.mark();
            Integer query = session.createQuery("select i.counter from Item i where i.id = :id", Integer.class)
                    .setParameter("id", id).setCacheable(true).uniqueResult();
            tx.commit();
            history.add("R " + id + " " + begin + " " + counter + " " + mark + " " + query);
        }
    }

    private int randomItem() {
        return 1 + ThreadLocalRandom.current().nextInt(items);
    }

    private static String localAddress(Cluster cluster) {
        for (ClusterMember member : cluster.members()) {
            if (member.isLocal()) {
                return member.address();
            }
        }
        throw new IllegalStateException("node '" + cluster.nodeName() + "' does not list itself");
    }
}
