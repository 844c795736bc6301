package org.openmrs.module.cluster.hibernate;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.openmrs.module.cluster.hibernate.Servers.AppServer;

/**
 * A node cut off from the other two (it still reaches the database), or frozen, while another
 * node updates an item it holds in its cache: from when that commit returned, that node never
 * serves the old value (its lease ran out, then it panicked); the commit waited until then
 * instead of failing.
 */
public class CutOffIT {

    private static final long ANSWER_MS = 30_000;

    @Rule
    public TemporaryFolder folder = new TemporaryFolder();
    @Rule
    public Servers servers = new Servers(1);

    @Test
    public void aCutOffNodeServesNoStateOlderThanAReturnedCommit() throws Exception {
        AppServer[] nodes = startThreeCaching();
        AppServer writer = nodes[0];
        AppServer other = nodes[1];
        AppServer cut = nodes[2];
        for (AppServer node : new AppServer[] {writer, other}) {
            cut.ask("isolate " + node.address, "ISOLATED", ANSWER_MS);
            node.ask("isolate " + cut.address, "ISOLATED", ANSWER_MS);
        }
        long isolated = System.nanoTime();
        File reads = new File(folder.getRoot(), "cut-reads.txt");
        cut.send("watch 1 9000 " + reads);
        long returned = update(writer);
        cut.await("WATCHED", ANSWER_MS);
        check("the cut-off node", reads, isolated, returned);
        assertEquals("the connected node read a stale value", "1",
                other.ask("read 1", "READ", ANSWER_MS).split(" ")[0]);
    }

    /**
     * A node frozen (SIGSTOP, as by a long pause) while another commits, and resumed after the
     * commit returned: its first reads must not come from its cache, whose lease ran out while
     * it was frozen, although its panic is noticed only a moment after it resumes.
     */
    @Test
    public void aFrozenNodeServesNothingFromItsCacheWhenItResumes() throws Exception {
        AppServer[] nodes = startThreeCaching();
        AppServer writer = nodes[0];
        AppServer frozen = nodes[2];
        File reads = new File(folder.getRoot(), "frozen-reads.txt");
        frozen.send("watch 1 12000 " + reads);
        Thread.sleep(300);
        long stopped = System.nanoTime();
        signal(frozen, "STOP");
        long returned = update(writer);
        Thread.sleep(300);
        signal(frozen, "CONT");
        frozen.await("WATCHED", ANSWER_MS);
        check("the frozen node", reads, stopped, returned);
    }

    /** Starts three nodes that fail fast, each with item 1 in its cache. */
    private AppServer[] startThreeCaching() throws Exception {
        servers.startDatabase();
        String[] fast = {"cluster.panic.timeout.ms=2500", "hibernate.cache.cluster.unreachable_wait_ms=4500"};
        AppServer[] nodes = new AppServer[3];
        for (int i = 0; i < nodes.length; i++) {
            nodes[i] = servers.start(Databases.CLUSTER, fast);
        }
        for (AppServer node : nodes) {
            node.ask("read 1", "READ", ANSWER_MS);
            assertTrue(node.label + " did not serve item 1 from its cache",
                    node.ask("read 1", "READ", ANSWER_MS).startsWith("0 1 "));
        }
        return nodes;
    }

    /** Updates item 1 to 1 and returns when the commit returned ({@link System#nanoTime()}). */
    private static long update(AppServer writer) throws InterruptedException {
        String[] update = writer.ask("update 1", "UPDATED", ANSWER_MS).split(" ");
        assertEquals("1", update[0]);
        System.out.println("the commit took " + (Long.parseLong(update[2]) - Long.parseLong(update[1])) / 1_000_000
                + " ms");
        return Long.parseLong(update[2]);
    }

    /** No read that began after the commit returned saw the old value. */
    private static void check(String who, File reads, long faultAt, long returned) throws Exception {
        int served = 0;
        long lastServed = 0;
        int staleAfterCommit = 0;
        int afterCommit = 0;
        List<String> lines = Files.readAllLines(reads.toPath(), StandardCharsets.UTF_8);
        for (String line : lines) {
            String[] read = line.split(" ");
            long begin = Long.parseLong(read[2]);
            if (read[1].equals("1")) {
                served++;
                lastServed = Math.max(lastServed, begin);
            }
            if (begin > returned) {
                afterCommit++;
                if (Integer.parseInt(read[0]) < 1) {
                    staleAfterCommit++;
                }
            }
        }
        System.out.println(who + " read " + lines.size() + " times, " + served + " from its cache, the last of those "
                + (lastServed - faultAt) / 1_000_000 + " ms after the fault; the commit returned "
                + (returned - faultAt) / 1_000_000 + " ms after the fault; " + afterCommit + " reads after it, "
                + staleAfterCommit + " of those stale");
        assertTrue(who + " read nothing after the commit returned", afterCommit > 0);
        assertEquals(0, staleAfterCommit);
    }

    private static void signal(AppServer node, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(node.process.pid())).inheritIO().start();
        assertTrue("kill -" + signal + " failed", kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0);
    }
}
