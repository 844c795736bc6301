package org.openmrs.module.cluster.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.openmrs.module.cluster.it.ChildNodes.millisSince;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * ClusterLock and ClusterLockProvider across JVMs on loopback: no lost update under contention,
 * fences in grant order, a lock passing on when its holder is killed or frozen, and ShedLock's
 * executor running a task on one node only.
 */
public class LockIT {

    private static final int THREADS = 4;
    private static final int INCREMENTS = 40;
    private static final long COUNT_TIMEOUT_MS = 60_000;
    /** The documented bound is about 3 s; this leaves room for a loaded 2-core machine. */
    private static final long HANDOVER_BOUND_MS = 6_000;
    private static final long HANDOVER_TIMEOUT_MS = 20_000;
    /** API.md: close() releases the node's locks at once. */
    private static final long CLOSE_HANDOVER_BOUND_MS = 1_000;
    private static final long LOCK_AT_LEAST_FOR_MS = 4_000;
    private static final long SHED_TASK_MS = 500;

    @Rule
    public final ChildNodes children = new ChildNodes();

    @Rule
    public final TemporaryFolder files = new TemporaryFolder();

    /** A stop of a holder's JVM. */
    private interface Stop {
        void stop(ChildNode holder) throws IOException, InterruptedException;
    }

    @Test(timeout = 180_000)
    public void threeJvmsOfFourThreadsLoseNoIncrementAndFencesFollowGrantOrder() throws IOException {
        List<ChildNode> nodes = children.startOneAfterAnother(3);
        Path counter = files.getRoot().toPath().resolve("counter");
        Path history = files.getRoot().toPath().resolve("history");
        long started = System.nanoTime();
        for (ChildNode node : nodes) {
            node.send("count counter " + THREADS + " " + INCREMENTS + " " + counter + " " + history);
        }
        for (ChildNode node : nodes) {
            node.await("COUNTED counter", COUNT_TIMEOUT_MS);
        }
        long ms = millisSince(started);
        int total = nodes.size() * THREADS * INCREMENTS;
        System.out.println(total + " increments by " + nodes.size() + " JVMs x " + THREADS + " threads, each under"
                + " the lock, took " + ms + " ms: " + total * 1000L / Math.max(ms, 1) + " grants/s");

        String last = new String(Files.readAllBytes(counter), StandardCharsets.UTF_8);
        assertEquals("the counter (value, last fence) lost updates", Integer.toString(total), last.split(" ")[0]);
        List<String> lines = Files.readAllLines(history, StandardCharsets.UTF_8);
        assertEquals("history lines", total, lines.size());
        long lastFence = 0;
        for (int i = 0; i < lines.size(); i++) {
            String[] fenceAndValue = lines.get(i).split(" ");
            assertEquals("value on history line " + (i + 1), i + 1, Integer.parseInt(fenceAndValue[1]));
            long fence = Long.parseLong(fenceAndValue[0]);
            assertTrue("fence " + fence + " on history line " + (i + 1) + " is not above " + lastFence,
                    fence > lastFence);
            lastFence = fence;
        }
    }

    @Test(timeout = 120_000)
    public void theLockOfAKilledLeaderPassesToAWaiterWithinTheBound() throws IOException, InterruptedException {
        handOverFromAKilledHolder(true);
    }

    @Test(timeout = 120_000)
    public void theLockOfAKilledFollowerPassesToAWaiterWithinTheBound() throws IOException, InterruptedException {
        handOverFromAKilledHolder(false);
    }

    @Test(timeout = 120_000)
    public void theLockOfAClosedNodePassesOnAtOnce() throws IOException, InterruptedException {
        List<ChildNode> nodes = children.startOneAfterAnother(3);
        ChildNode holder = pick(nodes, false);
        handOver(holder, anotherThan(holder, nodes), "close() of the follower", ChildNode::closeNode,
                CLOSE_HANDOVER_BOUND_MS);
    }

    @Test(timeout = 120_000)
    public void theLockOfAFrozenLeaderPassesOnAndTheLeaderLearnsItLostIt() throws IOException, InterruptedException {
        handOverFromAFrozenHolder(true);
    }

    @Test(timeout = 120_000)
    public void theLockOfAFrozenFollowerPassesOnAndTheFollowerLearnsItLostIt()
            throws IOException, InterruptedException {
        handOverFromAFrozenHolder(false);
    }

    @Test(timeout = 120_000)
    public void shedLockRunsOneOfTwoSimultaneousExecutionsAndHonoursLockAtLeastFor()
            throws IOException, InterruptedException {
        List<ChildNode> nodes = children.startOneAfterAnother(2);
        Path runs = files.getRoot().toPath().resolve("runs");
        String execute = "shed job 30000 " + LOCK_AT_LEAST_FOR_MS + " " + SHED_TASK_MS + " " + runs;
        long sent = System.currentTimeMillis();
        for (ChildNode node : nodes) {
            node.send(execute);
        }
        List<String> outcomes = new ArrayList<>();
        for (ChildNode node : nodes) {
            outcomes.add(node.await("SHED job", 15_000));
        }
        assertTrue("one execution should run and the other be skipped: " + outcomes,
                outcomes.contains("SHED job ran") && outcomes.contains("SHED job skipped"));
        assertEquals("runs", 1, Files.readAllLines(runs, StandardCharsets.UTF_8).size());

        ChildNode other = nodes.get(1);
        int skipped = 0;
        while (other.ask("shed job 30000 0 0 " + runs, "SHED job").equals("SHED job skipped")) {
            skipped++;
            assertTrue("the name is still held " + (System.currentTimeMillis() - sent) + " ms after the first start",
                    System.currentTimeMillis() - sent < LOCK_AT_LEAST_FOR_MS + HANDOVER_BOUND_MS);
            Thread.sleep(100);
        }
        long freedAfter = System.currentTimeMillis() - sent;
        System.out.println("a task of " + SHED_TASK_MS + " ms with lockAtLeastFor " + LOCK_AT_LEAST_FOR_MS
                + " ms: its name was taken again " + freedAfter + " ms after the start, " + skipped + " tries skipped");
        assertTrue("attempts right after the task should have been skipped", skipped > 0);
        assertTrue("the name was taken again " + freedAfter + " ms after the start",
                freedAfter >= LOCK_AT_LEAST_FOR_MS);
    }

    /** Kills the holder, the leader or a follower of 3 nodes: a waiter must get the lock within the bound. */
    private void handOverFromAKilledHolder(boolean leader) throws IOException, InterruptedException {
        List<ChildNode> nodes = children.startOneAfterAnother(3);
        ChildNode holder = pick(nodes, leader);
        handOver(holder, anotherThan(holder, nodes), "destroyForcibly of the " + role(leader), ChildNode::kill,
                HANDOVER_BOUND_MS);
    }

    /**
     * As {@link #handOverFromAKilledHolder}, with SIGSTOP; then, once resumed, the holder must know
     * that it lost the lock, and its unlock must fail.
     */
    private void handOverFromAFrozenHolder(boolean leader) throws IOException, InterruptedException {
        List<ChildNode> nodes = children.startOneAfterAnother(3);
        ChildNode holder = pick(nodes, leader);
        ChildNode waiter = anotherThan(holder, nodes);
        handOver(holder, waiter, "kill -STOP of the " + role(leader), ChildNodes::freeze, HANDOVER_BOUND_MS);
        ChildNodes.thaw(holder);

        assertEquals("the resumed holder should know it no longer holds the lock",
                "HELD lock false 0", holder.ask("held lock", "HELD lock"));
        String unlock = holder.ask("unlock lock", "UNLOCK lock");
        System.out.println("the resumed holder's unlock(): " + unlock);
        assertTrue("the resumed holder's unlock() should throw, as the lock was lost: " + unlock,
                unlock.startsWith("UNLOCK lock failed java.lang.IllegalMonitorStateException")
                        || unlock.startsWith("UNLOCK lock failed org.openmrs.module.cluster.ClusterException"));
        assertEquals("UNLOCK lock ok", waiter.ask("unlock lock", "UNLOCK lock"));
    }

    /** The consensus leader among {@code nodes}, as the first one knows it; with {@code !leader}, another node. */
    private static ChildNode pick(List<ChildNode> nodes, boolean leader) {
        String leaderName = nodes.get(0).ask("leader", "LEADER").substring("LEADER ".length());
        for (ChildNode node : nodes) {
            if (node.name().equals(leaderName) == leader) {
                return node;
            }
        }
        throw new AssertionError("no " + role(leader) + " among " + ChildNodes.names(nodes)
                + "; the leader is " + leaderName);
    }

    private static String role(boolean leader) {
        return leader ? "leader" : "follower";
    }

    private static ChildNode anotherThan(ChildNode node, List<ChildNode> nodes) {
        return nodes.stream().filter(other -> other != node).findFirst().orElseThrow(AssertionError::new);
    }

    /**
     * Lets {@code holder} take the lock and {@code waiter} wait for it, stops the holder, and checks
     * that the waiter gets the lock within the bound, with a higher fence.
     */
    private static void handOver(ChildNode holder, ChildNode waiter, String how, Stop stop, long boundMs)
            throws IOException, InterruptedException {
        long holderFence = fence(holder.ask("lock lock", "LOCKED lock"));
        waiter.send("lock lock");
        assertNull("the waiter got the lock while the holder held it", waiter.poll("LOCKED lock", 500));
        long stopped = System.nanoTime();
        stop.stop(holder);
        long waiterFence = fence(waiter.await("LOCKED lock", HANDOVER_TIMEOUT_MS));
        long ms = millisSince(stopped);
        System.out.println("after " + how + " " + holder.name() + ", holding the lock, " + waiter.name()
                + " got the lock in " + ms + " ms (asserted bound " + boundMs + " ms); fences "
                + holderFence + " then " + waiterFence);
        assertTrue("the lock passed on " + ms + " ms after " + how + " " + holder.name(), ms < boundMs);
        assertTrue("fence " + waiterFence + " should be above the stopped holder's " + holderFence,
                waiterFence > holderFence);
    }

    private static long fence(String lockedAnswer) {
        return Long.parseLong(lockedAnswer.substring(lockedAnswer.lastIndexOf(' ') + 1));
    }
}
