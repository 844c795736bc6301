package org.openmrs.module.cluster.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A singleton task scheduled by three JVMs at a 1 s period: one run per period, never two at
 * once, and a takeover within the bound when the owner's JVM is killed.
 */
public class SchedulerIT {

    private static final long PERIOD_MS = 1_000;
    /** The documented bound is failure detection plus one period (about 3.3 s); room for a loaded machine. */
    private static final long TAKEOVER_BOUND_MS = 6_000;

    @Rule
    public final ChildNodes children = new ChildNodes();

    @Rule
    public final TemporaryFolder files = new TemporaryFolder();

    @Test(timeout = 60_000)
    public void oneRunPerPeriodNeverOverlappingAndATakeoverAfterTheOwnerIsKilled() throws Exception {
        List<ChildNode> nodes = children.startOneAfterAnother(3);
        Path runs = files.getRoot().toPath().resolve("runs");
        for (ChildNode node : nodes) {
            node.ask("schedule job " + PERIOD_MS + " " + runs, "SCHEDULED job");
        }
        awaitRuns(runs, 3, 10_000);
        ChildNode owner = owner(nodes);
        long killedAt = System.currentTimeMillis();
        owner.kill();
        nodes.remove(owner);

        Run takeover = awaitRunAfter(runs, killedAt, 15_000);
        long takeoverMs = takeover.start - killedAt;
        System.out.println("after destroyForcibly of the owner " + owner.name() + ", " + takeover.node
                + " ran the next period " + takeoverMs + " ms later (asserted bound " + TAKEOVER_BOUND_MS
                + " ms, period " + PERIOD_MS + " ms)");
        assertTrue("takeover took " + takeoverMs + " ms", takeoverMs < TAKEOVER_BOUND_MS);
        awaitRuns(runs, readRuns(runs).size() + 2, 10_000);
        for (ChildNode node : nodes) {
            node.kill();
        }

        List<Run> all = readRuns(runs);
        all.sort(Comparator.comparingLong(run -> run.start));
        Set<Long> periods = new HashSet<>();
        for (int i = 0; i < all.size(); i++) {
            Run run = all.get(i);
            assertTrue("period " + run.period + " ran twice: " + all, periods.add(run.period));
            if (i > 0) {
                Run before = all.get(i - 1);
                assertTrue("runs overlap: " + before + " and " + run, run.start >= before.end);
            }
        }
        assertTrue("the other nodes should have run after the takeover: " + all,
                all.stream().filter(run -> run.start > killedAt).count() >= 3);
        System.out.println(all.size() + " runs, periods " + all.get(0).period + ".." + all.get(all.size() - 1).period
                + ", none twice, none overlapping");
    }

    private static ChildNode owner(List<ChildNode> nodes) {
        ChildNode owner = null;
        for (ChildNode node : nodes) {
            if (node.ask("owner job", "OWNER job").endsWith(" true")) {
                assertEquals("two owners at once", null, owner);
                owner = node;
            }
        }
        assertNotNull("no node owns the schedule", owner);
        return owner;
    }

    private static Run awaitRunAfter(Path runs, long epochMs, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            for (Run run : readRuns(runs)) {
                if (run.start > epochMs) {
                    return run;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no run started within " + timeoutMs + " ms of the kill: " + readRuns(runs));
    }

    private static void awaitRuns(Path runs, int count, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (readRuns(runs).size() < count) {
            assertTrue("fewer than " + count + " runs within " + timeoutMs + " ms: " + readRuns(runs),
                    System.currentTimeMillis() < deadline);
            Thread.sleep(50);
        }
    }

    private static List<Run> readRuns(Path runs) throws IOException {
        List<Run> all = new ArrayList<>();
        if (Files.exists(runs)) {
            for (String line : Files.readAllLines(runs, StandardCharsets.UTF_8)) {
                String[] words = line.split(" ");
                if (words.length == 4) {
                    all.add(new Run(words[0], Long.parseLong(words[1]), Long.parseLong(words[2]),
                            Long.parseLong(words[3])));
                }
            }
        }
        return all;
    }

    /** One line of the runs file. */
    private static final class Run {
        final String node;
        final long period;
        final long start;
        final long end;

        Run(String node, long period, long start, long end) {
            this.node = node;
            this.period = period;
            this.start = start;
            this.end = end;
        }

        @Override
        public String toString() {
            return node + "@" + period + "[" + start + "," + end + "]";
        }
    }
}
