package org.openmrs.module.cluster.hibernate;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.Rule;
import org.junit.Test;
import org.openmrs.module.cluster.hibernate.Servers.AppServer;

/**
 * Three JVMs, each an application server with Hibernate on one shared H2 database (a TCP
 * server this test starts), update and read a few versioned items, their collections and a
 * cached query. A read is stale when it returns a value older than one whose commit had
 * returned, on any node, before the read began. The cluster's region factory must serve none;
 * hibernate-jcache over a JCache of each JVM's own must serve some, or the test could not fail.
 */
public class StaleReadIT {

    private static final int NODES = 3;
    private static final int ITEMS = 4;
    private static final int UPDATES_PER_NODE = 400;
    private static final int READERS_PER_NODE = 2;
    private static final long RUN_TIMEOUT_MS = 300_000;

    @Rule
    public Servers servers = new Servers(ITEMS);

    @Test
    public void theClusterRegionFactoryServesNoStaleEntityCollectionOrQuery() throws Exception {
        Outcome outcome = run(Databases.CLUSTER);
        assertEquals(NODES * UPDATES_PER_NODE, outcome.updates);
        assertTrue("the readers were served from the cache too rarely to test it: " + outcome,
                outcome.cacheHits > 1000);
        assertEquals("stale reads: " + outcome, 0, outcome.staleTotal());
    }

    /**
     * The second node's cache clock (the region factory's timestamps) runs 5 s ahead of the
     * others'. A design that compared one node's timestamps with another's would take its stale
     * loads and cached queries for current.
     */
    @Test
    public void aNodeWhoseClockRunsAheadServesNoStaleRead() throws Exception {
        Outcome outcome = run(Databases.CLUSTER, "-D" + LocalClock.OFFSET_PROPERTY + "=5000");
        assertEquals(NODES * UPDATES_PER_NODE, outcome.updates);
        assertEquals("stale reads: " + outcome, 0, outcome.staleTotal());
    }

    @Test
    public void jcacheOverNodeLocalCachesServesStaleReads() throws Exception {
        Outcome outcome = run(Databases.JCACHE);
        assertEquals(NODES * UPDATES_PER_NODE, outcome.updates);
        assertTrue("a node-local cache served no stale read: the test cannot tell right from wrong: " + outcome,
                outcome.staleTotal() > 0);
    }

    /** Runs the workload on every node; {@code secondNodeArgs} go to the second one's start. */
    private Outcome run(String cache, String... secondNodeArgs) throws Exception {
        servers.startDatabase();
        List<AppServer> nodes = new ArrayList<>();
        List<File> histories = new ArrayList<>();
        for (int i = 1; i <= NODES; i++) {
            File history = new File(Servers.logs(), cache + "-history-n" + i + ".txt");
            histories.add(history);
            List<String> args = new ArrayList<>(Arrays.asList("updates=" + UPDATES_PER_NODE,
                    "readers=" + READERS_PER_NODE, "history=" + history));
            if (i == 2) {
                args.addAll(Arrays.asList(secondNodeArgs));
            }
            nodes.add(servers.start(cache, args.toArray(new String[0])));
        }
        nodes.forEach(node -> node.send("go"));
        List<String> statistics = new ArrayList<>();
        for (AppServer node : nodes) {
            statistics.add(node.label + ": " + node.await("DONE ", RUN_TIMEOUT_MS));
        }
        nodes.forEach(node -> node.send("exit"));
        Outcome outcome = Outcome.check(histories);
        for (String line : statistics) {
            outcome.cacheHits += Long.parseLong(line.replaceAll(".*l2Hits=(\\d+).*", "$1"));
        }
        System.out.println(cache + ": " + outcome + "\n  " + String.join("\n  ", statistics));
        return outcome;
    }

    /** The histories' verdict: updates made, and reads that returned a value older than a returned commit. */
    static final class Outcome {
        int updates;
        int reads;
        int staleEntities;
        int staleCollections;
        int staleQueries;
        long cacheHits;
        final List<String> examples = new ArrayList<>();

        static Outcome check(List<File> histories) throws IOException {
            Outcome outcome = new Outcome();
            // Per item: when each commit returned, and the value it wrote.
            Map<Integer, TreeMap<Long, Integer>> commits = new HashMap<>();
            List<String[]> reads = new ArrayList<>();
            for (File file : histories) {
                for (String line : Files.readAllLines(file.toPath(), StandardCharsets.UTF_8)) {
                    String[] f = line.split(" ");
                    if (f[0].equals("W")) {
                        commits.computeIfAbsent(Integer.parseInt(f[1]), id -> new TreeMap<>())
                                .put(Long.parseLong(f[4]), Integer.parseInt(f[2]));
                        outcome.updates++;
                    } else {
                        reads.add(f);
                    }
                }
            }
            for (String[] read : reads) {
                outcome.reads++;
                TreeMap<Long, Integer> itemCommits = commits.getOrDefault(Integer.parseInt(read[1]), new TreeMap<>());
                int latest = 0;
                for (int value : itemCommits.headMap(Long.parseLong(read[2]), false).values()) {
                    latest = Math.max(latest, value);
                }
                int counter = Integer.parseInt(read[3]);
                int mark = Integer.parseInt(read[4]);
                int query = Integer.parseInt(read[5]);
                if (counter < latest) {
                    outcome.staleEntities++;
                }
                if (mark < latest) {
                    outcome.staleCollections++;
                }
                if (query < latest) {
                    outcome.staleQueries++;
                }
                if ((counter < latest || mark < latest || query < latest) && outcome.examples.size() < 5) {
                    outcome.examples.add("item " + read[1] + " read " + counter + "/" + mark + "/" + query
                            + " after the commit of " + latest + " had returned");
                }
            }
            return outcome;
        }

        int staleTotal() {
            return staleEntities + staleCollections + staleQueries;
        }

        @Override
        public String toString() {
            return updates + " updates, " + reads + " reads (" + cacheHits + " second-level cache hits); stale: "
                    + staleEntities + " entities, " + staleCollections + " collections, " + staleQueries
                    + " queries " + examples;
        }
    }
}
