package org.openmrs.module.cluster.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/**
 * The module in a real OpenMRS of each supported line: dropped into the modules folder of
 * webapps that share one database (H2 in server mode), configured only by runtime properties.
 */
@RunWith(Parameterized.class)
public class ModuleOnOpenMrsIT {

    private static final String SECRET = "openmrs-cluster-module-test-secret-0123456789";

    /** The OpenMRS lines to run: {@code -Dopenmrs.cluster.lines=2.7} narrows them. */
    @Parameterized.Parameters(name = "OpenMRS {0}")
    public static List<String> lines() {
        return Arrays.asList(System.getProperty("openmrs.cluster.lines", "2.7,2.9").split(","));
    }

    @Parameterized.Parameter
    public String line;

    @Test
    public void serversWithTheModuleFormOneClusterAndANodeThatCannotJoinFailsTheModuleStart() throws Exception {
        Path root = Files.createTempDirectory("openmrs-cluster-module-" + line);
        List<Integer> http = FreePorts.pick(3);
        List<Integer> cluster = FreePorts.pick(3);
        Path install = writeInstallScript(root);

        // One server, the module and no cluster.* keys: a one-node embedded cluster.
        Properties installed;
        try (OpenMrsServer first = new OpenMrsServer(line + "-a", root, http.get(0))) {
            first.installModule();
            long t0 = System.nanoTime();
            first.start(line, install);
            assertEquals("health of an unconfigured server", 200, first.awaitStarted());
            System.out.printf("installed OpenMRS " + line + " and started the module in %d s%n", (System.nanoTime() - t0) / 1_000_000_000L);
            assertTrue(first.body("/openmrs/ms/cluster/health"), first.body("/openmrs/ms/cluster/health").startsWith("UP "));
            // As on MariaDB: OpenMRS then reads a global property by its id, through Hibernate's
            // second-level cache (on a case-sensitive database it runs a query that bypasses it).
            assertEquals("false", first.globalProperty("search.caseSensitiveDatabaseStringComparison", "false"));
            installed = first.readRuntimeProperties();
        }

        try (OpenMrsServer a = new OpenMrsServer(line + "-a", root, http.get(0));
                OpenMrsServer b = new OpenMrsServer(line + "-b", root, http.get(1));
                OpenMrsServer c = new OpenMrsServer(line + "-c", root, http.get(2))) {
            a.setRuntimeProperties(installed, keys("a", cluster.get(0), ""));
            b.setRuntimeProperties(installed, keys("b", cluster.get(1), "127.0.0.1:" + cluster.get(0)));
            // Its only seed is a port where nothing listens.
            Properties lost = keys("c", cluster.get(2), "127.0.0.1:" + FreePorts.pick(1).get(0));
            lost.setProperty("cluster.join.timeout.ms", "5000");
            c.setRuntimeProperties(installed, lost);
            b.installModule();
            c.installModule();
            long t0 = System.nanoTime();
            // a first: the first JVM to open the H2 file serves it to the others, and two at once
            // once left one hanging in its database start for minutes.
            a.start(line, null);
            assertEquals("health of a", 200, a.awaitStarted());
            b.start(line, null);
            c.start(line, null);
            assertEquals("health of b", 200, b.awaitStarted());
            System.out.printf("a, then b and c together, started in %d s%n", (System.nanoTime() - t0) / 1_000_000_000L);
            assertTrue(a.body("/openmrs/ms/cluster/health"), a.body("/openmrs/ms/cluster/health").endsWith(" 2 members\n"));
            assertTrue(b.body("/openmrs/ms/cluster/health"), b.body("/openmrs/ms/cluster/health").endsWith(" 2 members\n"));

            // Hibernate's second-level cache: b has the property cached when a saves a new value.
            for (int i = 1; i <= 5; i++) {
                assertEquals("v" + i, a.globalProperty("cluster.test.l2", "v" + i));
                assertEquals("what b serves right after a saved v" + i, "v" + i, b.globalProperty("cluster.test.l2", null));
                assertEquals("v" + i, b.globalProperty("cluster.test.l2", null));
            }
            // Global property listeners: b's hear what a saved (core's static copies rely on them).
            for (int i = 1; i <= 3; i++) {
                a.globalProperty("cluster.test.listened", "w" + i);
                assertEquals("a's own listener", "w" + i, a.heardGlobalProperty("cluster.test.listened"));
                long saved = System.nanoTime();
                while (!("w" + i).equals(b.heardGlobalProperty("cluster.test.listened"))) {
                    assertTrue("b's listener did not hear w" + i + " within 10 s; it heard '"
                            + b.heardGlobalProperty("cluster.test.listened") + "'",
                            System.nanoTime() - saved < TimeUnit.SECONDS.toNanos(10));
                    Thread.sleep(20);
                }
                System.out.printf("b's listener heard w%d %d ms after a's save returned%n", i,
                        (System.nanoTime() - saved) / 1_000_000L);
            }

            assertEquals("health of c, whose module could not start", 404, c.awaitStarted());
            assertTrue("c's log names why its node could not join",
                    c.logText().contains("could not join cluster 'openmrs-module-test'"));

            // a and b are the two voters: with b gone, a has lost the majority and panics.
            b.kill();
            long killed = System.nanoTime();
            while (a.status("/openmrs/") != 503) {
                assertTrue("a still serves 60 s after it lost the majority",
                        System.nanoTime() - killed < TimeUnit.SECONDS.toNanos(60));
                Thread.sleep(200);
            }
            System.out.printf("a answered 503 on every URL %d ms after b was killed%n",
                    (System.nanoTime() - killed) / 1_000_000L);
            assertTrue(a.body("/openmrs/"), a.body("/openmrs/").contains("its cluster node panicked"));
            assertEquals(503, a.status("/openmrs/ms/cluster/health"));
            assertTrue("a's log says it panicked", a.logText().contains("panicked; every request is now answered with 503"));
        }
    }

    private static Properties keys(String node, int port, String seeds) {
        Properties p = new Properties();
        p.setProperty("cluster.name", "openmrs-module-test");
        p.setProperty("cluster.node.name", node);
        p.setProperty("cluster.bind", "127.0.0.1:" + port);
        p.setProperty("cluster.seeds", seeds);
        p.setProperty("cluster.secret", SECRET);
        // A joiner's module may start before the node it joins through has started.
        p.setProperty("cluster.join.timeout.ms", "180000");
        return p;
    }

    /** OpenMRS's auto-install on one H2 database that later servers reach through its own server. */
    private static Path writeInstallScript(Path root) throws IOException {
        Properties p = new Properties();
        p.setProperty("install_method", "auto");
        p.setProperty("connection.url", "jdbc:h2:" + root.resolve("db/openmrs")
                + ";AUTO_SERVER=TRUE;AUTO_RECONNECT=TRUE;DB_CLOSE_DELAY=-1");
        p.setProperty("connection.driver_class", "org.h2.Driver");
        p.setProperty("connection.username", "sa");
        p.setProperty("connection.password", "sa");
        p.setProperty("database_name", "openmrs");
        p.setProperty("has_current_openmrs_database", "true");
        p.setProperty("create_database_user", "false");
        p.setProperty("create_tables", "true");
        p.setProperty("add_demo_data", "false");
        p.setProperty("module_web_admin", "true");
        p.setProperty("auto_update_database", "false");
        p.setProperty("admin_user_password", "Admin123");
        Path script = root.resolve("install.properties");
        try (OutputStream out = Files.newOutputStream(script)) {
            p.store(out, "OpenMRS auto-install for the openmrs-cluster tests");
        }
        return script;
    }
}
