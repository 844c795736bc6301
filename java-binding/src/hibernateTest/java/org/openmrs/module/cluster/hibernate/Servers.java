package org.openmrs.module.cluster.hibernate;

import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.junit.rules.ExternalResource;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterConfig;

/**
 * A test's database (an H2 server on a loopback port, holding {@code items} items) and its
 * application servers, each an {@link L2Node} in a JVM of its own, in one cluster. Everything
 * is stopped when the test ends.
 */
final class Servers extends ExternalResource {

    static final String SECRET = "the secret of the hibernate test cluster";
    static final long START_TIMEOUT_MS = 90_000;

    private final int items;
    private final String clusterName = "hibernate-it-" + UUID.randomUUID();
    private final List<AppServer> children = new ArrayList<>();
    private org.h2.tools.Server database;
    private String url;
    private String seed;

    Servers(int items) {
        this.items = items;
    }

    @Override
    protected void after() {
        children.forEach(child -> child.process.destroyForcibly());
        if (database != null) {
            database.stop();
        }
    }

    /** Starts the database server and creates the items, each with counter 0. */
    void startDatabase() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = probe.getLocalPort();
        }
        database = org.h2.tools.Server.createTcpServer("-tcpPort", Integer.toString(port), "-ifNotExists").start();
        // H2 2.2 otherwise hands a session the last result of a query it ran before another
        // transaction's commit, after that commit returned (docs/hibernate.md, "The test database").
        url = "jdbc:h2:tcp://127.0.0.1:" + port + "/mem:l2-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000;OPTIMIZE_REUSE_RESULTS=FALSE";
        try (SessionFactory schema = Databases.open(url, Databases.NONE); Session session = schema.openSession()) {
            session.beginTransaction();
            for (int id = 1; id <= items; id++) {
                session.persist(new Item(id));
            }
            session.getTransaction().commit();
        }
    }

    /**
     * Starts the next server with second-level cache {@code cache} ({@link Databases}) and these
     * more {@code key=value} arguments (those that begin with {@code -} are the JVM's options), and
     * waits until it is ready; the first one's node is the others' seed.
     */
    AppServer start(String cache, String... more) throws IOException, InterruptedException {
        String label = "n" + (children.size() + 1);
        List<String> args = new ArrayList<>(Arrays.asList("cache=" + cache, "url=" + url, "items=" + items,
                "cluster.name=" + clusterName, "cluster.node.name=" + label, "cluster.bind=127.0.0.1:0",
                "cluster.secret=" + SECRET));
        if (seed != null) {
            args.add("cluster.seeds=" + seed);
        }
        args.addAll(Arrays.asList(more));
        AppServer child = AppServer.launch(label, cache, args);
        children.add(child);
        child.address = child.await("NODE ", START_TIMEOUT_MS).substring("NODE ".length());
        if (seed == null) {
            seed = child.address;
        }
        child.await("READY", START_TIMEOUT_MS);
        return child;
    }

    /** The database's JDBC URL, once {@link #startDatabase()} returned. */
    String url() {
        return url;
    }

    /** Starts a node in this JVM that joins the servers' cluster; the first server must be running. */
    Cluster join(String nodeName) {
        return Cluster.start(ClusterConfig.builder().clusterName(clusterName).nodeName(nodeName)
                .bind("127.0.0.1:0").seeds(seed).secret(SECRET).build());
    }

    /** Where the servers' logs and histories go. */
    static File logs() throws IOException {
        File logs = new File(System.getProperty("openmrs.cluster.hibernate.logs", "build/hibernate-logs"));
        if (!logs.isDirectory() && !logs.mkdirs()) {
            throw new IOException("cannot create " + logs);
        }
        return logs;
    }

    /** An application server: a JVM running {@link L2Node}; its standard error goes to a log file. */
    static final class AppServer {
        final String label;
        final Process process;
        String address;
        private final Writer commands;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        private AppServer(String label, Process process) {
            this.label = label;
            this.process = process;
            this.commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException ended) {
                    // The JVM ended.
                }
            }, "server-" + label);
            reader.setDaemon(true);
            reader.start();
        }

        static AppServer launch(String label, String cache, List<String> args) throws IOException {
            String classpath = System.getProperty("openmrs.cluster.hibernate.classpath");
            assertTrue("run this test through Gradle (gradle hibernateTest)", classpath != null);
            List<String> command = new ArrayList<>(Arrays.asList(
                    new File(System.getProperty("java.home"), "bin/java").getPath(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath));
            args.stream().filter(arg -> arg.startsWith("-")).forEach(command::add);
            command.add(L2Node.class.getName());
            args.stream().filter(arg -> !arg.startsWith("-")).forEach(command::add);
            Process process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.to(new File(logs(), cache + "-" + label + ".log")))
                    .start();
            return new AppServer(label, process);
        }

        void send(String command) {
            try {
                commands.write(command + "\n");
                commands.flush();
            } catch (IOException e) {
                throw new IllegalStateException(label + ": cannot send '" + command + "'", e);
            }
        }

        /** Sends {@code command} and returns its answer without {@code prefix}. */
        String ask(String command, String prefix, long timeoutMs) throws InterruptedException {
            send(command);
            return await(prefix, timeoutMs).substring(prefix.length()).trim();
        }

        /** The next line that starts with {@code prefix}; an {@code ERROR} line or silence throws. */
        String await(String prefix, long timeoutMs) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (true) {
                String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (line == null) {
                    throw new IllegalStateException(label + ": no '" + prefix + "' within " + timeoutMs + " ms"
                            + (process.isAlive() ? "" : " (its JVM ended)") + "; see its log");
                }
                if (line.startsWith("ERROR ")) {
                    throw new IllegalStateException(label + ": " + line);
                }
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
        }
    }
}
