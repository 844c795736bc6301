package org.openmrs.module.cluster.hibernate;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.hibernate.stat.Statistics;
import org.infinispan.hibernate.cache.v53.InfinispanRegionFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openmrs.module.cluster.Cluster;

/**
 * Hibernate 5.6's second-level cache, side by side in one run ({@code gradle jmhHibernate}), on
 * {@link Item} (READ_WRITE, {@code @Version}, an element collection), {@value #ITEMS} of them in
 * an H2 TCP server in this JVM. The parameter {@code cache} ({@link Databases}) picks the cache:
 * <ul>
 * <li>{@code cluster}: {@link ClusterRegionFactory} on this JVM's node and two child JVMs
 * ({@link L2Node}), each with a session factory on the same database, so that every commit waits
 * for their answers;</li>
 * <li>{@code infinispan}: Infinispan 13.0.22's region (invalidation mode) on the same three JVMs,
 * JGroups over loopback TCP ({@code jgroups-loopback.xml});</li>
 * <li>{@code jcache}: hibernate-jcache over Caffeine's JCache, this JVM alone (a node-local
 * cache, nothing to tell the others);</li>
 * <li>{@code none}: no second-level cache, this JVM alone: every load reads the database.</li>
 * </ul>
 * {@code hit}: a new session's {@code get} of an item, the next in turn, which every cache holds
 * (the iteration fails if one was not a hit); no transaction, so no JDBC connection is taken.
 * {@code update}: one transaction that reads the next item, sets its counter and its collection,
 * and commits (the writer of {@code StaleReadIT}).
 */
// What Infinispan's marshalling (jboss-marshalling) needs on Java 17 to read the JDK's collections
// in another node's messages; every JVM of every run gets it, ours too (the child JVMs this fork's).
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class L2Benchmark {

    static final int ITEMS = 64;
    private static final int NODES = 3;
    private static final long JOIN_TIMEOUT_MS = 60_000;

    /** The database, this JVM's session factory and, for the clustered caches, the two other JVMs. */
    @State(Scope.Benchmark)
    public static class Nodes {

        @Param({Databases.CLUSTER, Databases.INFINISPAN, Databases.JCACHE, Databases.NONE})
        String cache;

        private Servers servers;
        private Cluster node;
        SessionFactory factory;

        @Setup(Level.Trial)
        public void start() throws Exception {
            // The child JVMs run on this fork's classpath; their logs go beside the other benchmarks'.
            System.setProperty("openmrs.cluster.hibernate.classpath", System.getProperty("java.class.path"));
            System.setProperty("openmrs.cluster.hibernate.logs", "build/jmh-hibernate-logs");
            servers = new Servers(ITEMS);
            servers.startDatabase();
            // The child JVMs get this fork's --add-opens, and compile fully as a server does
            // (Servers stops them at C1 for a test's quick start): a commit waits for their answers.
            List<String> childOptions = new ArrayList<>();
            ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                    .filter(arg -> arg.startsWith("--add-opens")).forEach(childOptions::add);
            childOptions.add("-XX:TieredStopAtLevel=4");
            if (Databases.CLUSTER.equals(cache)) {
                for (int i = 1; i < NODES; i++) {
                    servers.start(cache, childOptions.toArray(new String[0]));
                }
                node = servers.join("bench");
                awaitMembers(() -> node.members().size());
            } else if (Databases.INFINISPAN.equals(cache)) {
                List<String> hosts = new ArrayList<>();
                List<Integer> ports = freePorts();
                ports.forEach(port -> hosts.add("127.0.0.1[" + port + "]"));
                String initialHosts = String.join(",", hosts);
                for (int i = 1; i < NODES; i++) {
                    List<String> options = new ArrayList<>(childOptions);
                    options.addAll(Arrays.asList("-Djgroups.bind.port=" + ports.get(i),
                            "-Djgroups.tcpping.initial_hosts=" + initialHosts,
                            "-Dhibernate.cache.infinispan.jgroups_cfg=jgroups-loopback.xml",
                            "-Djava.net.preferIPv4Stack=true"));
                    servers.start(cache, options.toArray(new String[0]));
                }
                System.setProperty("jgroups.bind.port", Integer.toString(ports.get(0)));
                System.setProperty("jgroups.tcpping.initial_hosts", initialHosts);
                System.setProperty("hibernate.cache.infinispan.jgroups_cfg", "jgroups-loopback.xml");
            }
            // The schema is the database's already; statistics stay on (the hit check reads them),
            // without a log line for every session.
            Map<String, String> settings = new HashMap<>();
            settings.put("hibernate.hbm2ddl.auto", "none");
            settings.put("hibernate.session.events.log", "false");
            factory = Databases.open(servers.url(), cache, settings);
            if (Databases.INFINISPAN.equals(cache)) {
                InfinispanRegionFactory regions = (InfinispanRegionFactory) factory
                        .unwrap(SessionFactoryImplementor.class).getCache().getRegionFactory();
                awaitMembers(() -> regions.getCacheManager().getMembers().size());
            }
            for (int id = 1; id <= ITEMS; id++) {
                try (Session session = factory.openSession()) {
                    Transaction tx = session.beginTransaction();
                    if (session.find(Item.class, id) == null) {
                        throw new IllegalStateException("item " + id + " is not in the database");
                    }
                    tx.commit();
                }
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            factory.close();
            if (node != null) {
                node.close();
            }
            servers.after();
        }

        Statistics statistics() {
            return factory.getStatistics();
        }

        private static void awaitMembers(java.util.function.IntSupplier members) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_TIMEOUT_MS);
            while (members.getAsInt() < NODES) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no cluster of " + NODES + " within " + JOIN_TIMEOUT_MS + " ms");
                }
                Thread.sleep(50);
            }
        }

        private static List<Integer> freePorts() throws IOException {
            List<ServerSocket> probes = new ArrayList<>();
            List<Integer> ports = new ArrayList<>();
            try {
                for (int i = 0; i < NODES; i++) {
                    ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                    probes.add(probe);
                    ports.add(probe.getLocalPort());
                }
            } finally {
                for (ServerSocket probe : probes) {
                    probe.close();
                }
            }
            return ports;
        }
    }

    /** The next item for this thread. */
    @State(Scope.Thread)
    public static class Cursor {
        private int next;

        int item() {
            return 1 + (next++ % ITEMS);
        }
    }

    /** Fails an iteration of {@code hit} in which a load missed the second-level cache. */
    @State(Scope.Thread)
    public static class HitCheck {
        private long misses;

        @Setup(Level.Iteration)
        public void mark(Nodes nodes) {
            misses = nodes.statistics().getSecondLevelCacheMissCount();
        }

        @TearDown(Level.Iteration)
        public void check(Nodes nodes) {
            long missed = nodes.statistics().getSecondLevelCacheMissCount() - misses;
            if (missed != 0) {
                throw new IllegalStateException(nodes.cache + ": " + missed + " loads missed the second-level cache");
            }
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public Item hit(Nodes nodes, Cursor cursor, HitCheck check) {
        try (Session session = nodes.factory.openSession()) {
            return session.get(Item.class, cursor.item());
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int update(Nodes nodes, Cursor cursor) {
        try (Session session = nodes.factory.openSession()) {
            Transaction tx = session.beginTransaction();
            Item item = session.find(Item.class, cursor.item());
            int value = item.counter() + 1;
            item.set(value);
            tx.commit();
            return value;
        }
    }
}
