package org.openmrs.module.cluster.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.Rule;
import org.junit.Test;

/**
 * Caches across JVMs: concurrent writers of the same keys converge on one value per key and a
 * joiner receives every entry (REPLICATED); in INVALIDATION mode a node whose copy another node
 * overwrote never serves it again once the invalidation arrived; Spring's {@code @Cacheable}
 * caches on each node and a write on one evicts on the other.
 */
public class CacheIT {

    private static final int KEYS = 40;
    private static final int WRITES_PER_NODE = 2_000;
    private static final long WRITE_TIMEOUT_MS = 60_000;
    private static final long CONVERGE_TIMEOUT_MS = 30_000;
    private static final int WATCH_ROUNDS = 10;
    private static final long WATCH_MS = 1_500;
    private static final long EVICT_TIMEOUT_MS = 10_000;
    private static final long TTL_MS = 3_000;
    private static final int LOAD_ROUNDS = 5;
    private static final long LOAD_MS = 300;
    /** Long enough for an invalidation to reach the other JVM. */
    private static final long SETTLE_MS = 300;

    @Rule
    public final ChildNodes children = new ChildNodes();

    @Test(timeout = 180_000)
    public void concurrentWritersConvergeOnOneValuePerKeyAndAJoinerGetsThemAll() throws Exception {
        List<ChildNode> nodes = formCluster(3);
        for (ChildNode node : nodes) {
            dump(node);
        }
        long start = System.nanoTime();
        for (ChildNode node : nodes) {
            node.send("cwrite conv REPLICATED " + KEYS + " " + WRITES_PER_NODE);
        }
        List<String> writeMs = new ArrayList<>();
        for (ChildNode node : nodes) {
            writeMs.add(node.await("CWROTE conv", WRITE_TIMEOUT_MS).split(" ")[3]);
        }
        long written = System.nanoTime();
        String converged = awaitSameDump(nodes);
        long convergeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - written);
        assertFalse("every key was written: " + converged, converged.contains("=null"));
        assertTrue(converged, converged.startsWith(KEYS + " "));

        Properties config = children.config("n4");
        config.setProperty("cluster.seeds", nodes.get(0).address());
        long joinStart = System.nanoTime();
        ChildNode joiner = children.startAndAwait("n4", config);
        String joined = dump(joiner);
        long joinMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - joinStart);
        assertEquals("the joiner's entries, read as soon as its cache opened", converged, joined);
        System.out.println("3 nodes wrote " + WRITES_PER_NODE + " values each onto the same " + KEYS + " keys in "
                + String.join("/", writeMs) + " ms; all held the same values " + convergeMs
                + " ms after the last write ended (" + ChildNodes.millisSince(start) + " ms in all); a 4th JVM"
                + " started, joined and read all " + KEYS + " entries in " + joinMs + " ms");
    }

    @Test(timeout = 120_000)
    public void inInvalidationModeANodeNeverServesAnOverwrittenValueOnceTheInvalidationArrived() throws Exception {
        List<ChildNode> nodes = formCluster(2);
        ChildNode writer = nodes.get(0);
        ChildNode reader = nodes.get(1);
        long worstMs = 0;
        long reads = 0;
        for (int round = 0; round < WATCH_ROUNDS; round++) {
            String key = "k" + round;
            String old = "old-" + round;
            reader.ask("cput inv INVALIDATION " + key + " " + old, "CPUT inv " + key + " ");
            assertEquals("CGET inv " + key + " " + old,
                    reader.ask("cget inv INVALIDATION " + key, "CGET inv " + key + " "));
            reader.send("cwatch inv INVALIDATION " + key + " " + old + " " + WATCH_MS);
            Thread.sleep(100);
            long putAt = Long.parseLong(writer.ask("cput inv INVALIDATION " + key + " new-" + round,
                    "CPUT inv " + key + " ").split(" ")[3]);
            String[] watched = reader.await("CWATCH inv " + key + " ", WATCH_MS + 10_000).split(" ");
            long changedAt = Long.parseLong(watched[3]);
            assertTrue("round " + round + ": " + reader.name() + " kept serving " + old + " for " + WATCH_MS + " ms",
                    changedAt >= 0);
            assertEquals("round " + round + ": reads of the old value after the first that missed it", 0,
                    Long.parseLong(watched[5]));
            assertEquals("values stay on the node that wrote them", "null", watched[6]);
            worstMs = Math.max(worstMs, changedAt - putAt);
            reads += Long.parseLong(watched[4]);
        }
        System.out.println(WATCH_ROUNDS + " overwrites on " + writer.name() + ": " + reader.name() + " stopped serving"
                + " its copy at most " + worstMs + " ms after the put returned, and never served it again ("
                + reads + " reads watched)");
    }

    @Test(timeout = 60_000)
    public void aJavaSerializedValueReachesTheOtherNodeAndExpiresThereWithItsTimeToLive() throws Exception {
        List<ChildNode> nodes = formCluster(2);
        ChildNode writer = nodes.get(0);
        ChildNode reader = nodes.get(1);
        String ask = "oget objects " + TTL_MS + " patient";
        assertEquals("OGET objects patient null", reader.ask(ask, "OGET objects"));
        String put = writer.ask("oput objects " + TTL_MS + " patient 1234,Jane,Doe", "OPUT objects");
        long putAt = Long.parseLong(put.substring(put.lastIndexOf(' ') + 1));
        String arrived = awaitAnswer(reader, ask, answer -> !answer.endsWith(" null"), 10_000);
        assertEquals("OGET objects patient [1234, Jane, Doe] java.util.ArrayList", arrived);
        long arrivedMs = System.currentTimeMillis() - putAt;
        awaitAnswer(reader, ask, answer -> answer.endsWith(" null"), TTL_MS + 10_000);
        long expiredMs = System.currentTimeMillis() - putAt;
        System.out.println("an ArrayList put on " + writer.name() + " was read on " + reader.name() + " within "
                + arrivedMs + " ms and expired there " + expiredMs + " ms after the put (time to live " + TTL_MS
                + " ms)");
        assertTrue("expired after " + expiredMs + " ms", expiredMs >= TTL_MS - 100);
        assertTrue("expired after " + expiredMs + " ms", expiredMs < TTL_MS + 1_000);
        assertEquals("OGET objects patient null", writer.ask(ask, "OGET objects"));
    }

    @Test(timeout = 120_000)
    public void threeJvmsAskingForOneMissingKeyAtOnceLoadItOnce() throws Exception {
        List<ChildNode> nodes = formCluster(3);
        for (int round = 0; round < LOAD_ROUNDS; round++) {
            String key = "k" + round;
            for (ChildNode node : nodes) {
                node.send("cload loads " + key + " " + LOAD_MS);
            }
            List<String> values = new ArrayList<>();
            int loads = 0;
            for (ChildNode node : nodes) {
                String[] answer = node.await("CLOAD loads " + key + " ", LOAD_MS * 3 + 10_000).split(" ");
                values.add(answer[3]);
                loads += "loaded".equals(answer[4]) ? 1 : 0;
            }
            assertEquals("round " + round + ": loads across the 3 JVMs", 1, loads);
            assertEquals("round " + round + ": every caller got the one loaded value " + values, 1,
                    values.stream().distinct().count());
        }
        System.out.println("3 JVMs asked for the same missing key at once, " + LOAD_ROUNDS + " times: each key was"
                + " loaded once (a " + LOAD_MS + " ms loader) and every caller got its value");
    }

    @Test(timeout = 120_000)
    public void springCachesOnEachNodeAndAWriteOnOneEvictsOnTheOther() throws Exception {
        List<ChildNode> nodes = formCluster(2);
        ChildNode a = nodes.get(0);
        ChildNode b = nodes.get(1);
        assertEquals(1, calls(a, "1"));
        assertEquals("cached on " + a.name(), 1, calls(a, "1"));
        assertEquals(1, calls(b, "1"));
        assertEquals("cached on " + b.name(), 1, calls(b, "1"));
        // b's load put the same value a holds: a keeps its copy once b's write has reached it.
        Thread.sleep(SETTLE_MS);
        assertEquals("a load of the same value elsewhere keeps " + a.name() + "'s copy", 1, calls(a, "1"));
        int callsOnB = cachedCalls(b, "1");

        a.ask("srename 1 renamed", "SRENAMED 1");
        assertEquals("a @CachePut stores its result where it ran", "renamed", name(a, "1"));
        long evictedOnB = awaitCallsAbove(b, "1", callsOnB);
        int callsOnA = cachedCalls(a, "1");

        b.ask("spurge 1", "SPURGED 1");
        long evictedOnA = awaitCallsAbove(a, "1", callsOnA);
        System.out.println("Spring @Cacheable on 2 JVMs: a @CachePut on " + a.name() + " evicted " + b.name()
                + "'s copy within " + evictedOnB + " ms, a @CacheEvict on " + b.name() + " evicted " + a.name()
                + "'s within " + evictedOnA + " ms");
    }

    /** Asks {@code question} until the answer satisfies {@code wanted}, and returns that answer. */
    private static String awaitAnswer(ChildNode node, String question, Predicate<String> wanted, long timeoutMs)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            String answer = node.ask(question, question.substring(0, 4).toUpperCase());
            if (wanted.test(answer)) {
                return answer;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(node.name() + " still answers '" + answer + "' after " + timeoutMs + " ms");
            }
            Thread.sleep(20);
        }
    }

    /** Starts {@code count} nodes and waits until each lists them all. */
    private List<ChildNode> formCluster(int count) throws IOException {
        List<ChildNode> nodes = children.startOneAfterAnother(count);
        ChildNode.awaitMembers(nodes, ChildNodes.names(nodes), System.nanoTime(), ChildNodes.START_TIMEOUT_MS);
        return nodes;
    }

    /** The node's dump of the cache {@code conv}: its size and every key's value. */
    private static String dump(ChildNode node) {
        return node.ask("cdump conv REPLICATED " + KEYS, "CDUMP conv", 10_000);
    }

    private static String awaitSameDump(List<ChildNode> nodes) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONVERGE_TIMEOUT_MS);
        List<String> dumps = new ArrayList<>();
        while (true) {
            dumps.clear();
            for (ChildNode node : nodes) {
                dumps.add(dump(node));
            }
            if (dumps.stream().distinct().count() == 1) {
                return dumps.get(0);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no convergence " + CONVERGE_TIMEOUT_MS + " ms after the writes: " + dumps);
            }
            Thread.sleep(50);
        }
    }

    /** Calls the node's cached service for {@code id} and returns how many calls reached the service. */
    private static int calls(ChildNode node, String id) {
        return Integer.parseInt(node.ask("sname " + id, "SNAME " + id + " ", 10_000).split(" ")[1]);
    }

    private static String name(ChildNode node, String id) {
        return node.ask("sname " + id, "SNAME " + id + " ", 10_000).split(" ")[0];
    }

    /** Reads until two reads in a row are served by the node's cache; the calls that reached the service by then. */
    private static int cachedCalls(ChildNode node, String id) {
        int before = calls(node, id);
        int after;
        while ((after = calls(node, id)) != before) {
            before = after;
        }
        return after;
    }

    /** Reads until a read reaches the service again (the node's copy was evicted); the milliseconds it took. */
    private static long awaitCallsAbove(ChildNode node, String id, int calls) throws InterruptedException {
        long start = System.nanoTime();
        while (calls(node, id) <= calls) {
            if (ChildNodes.millisSince(start) > EVICT_TIMEOUT_MS) {
                throw new AssertionError(node.name() + " still serves its cached copy of " + id + " "
                        + EVICT_TIMEOUT_MS + " ms after the write");
            }
            Thread.sleep(10);
        }
        return ChildNodes.millisSince(start);
    }
}
