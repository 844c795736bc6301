package org.openmrs.module.cluster.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.junit.Rule;
import org.junit.Test;

/**
 * Cluster panic across JVMs, each node started with a panic timeout of {@value #PANIC_TIMEOUT_MS}
 * ms: the node left alone panics (and then refuses lock calls and cache writes, and serves cache
 * reads), a frozen node panics on resume, and the 1 of a 2-1 partition panics while the 2 go on,
 * a lock never being held on both sides.
 */
public class PanicIT {

    private static final long PANIC_TIMEOUT_MS = 3_000;
    /** The documented bound: the panic timeout plus 1 s. */
    private static final long PANIC_BOUND_MS = PANIC_TIMEOUT_MS + 1_000;
    private static final String CLUSTER_EXCEPTION = "org.openmrs.module.cluster.ClusterException";

    @Rule
    public final ChildNodes children = new ChildNodes();

    @Test(timeout = 60_000)
    public void theNodeLeftAloneAfterTheOthersAreKilledPanics() throws Exception {
        List<ChildNode> nodes = start(3);
        ChildNode alone = nodes.get(0);
        alone.ask("cput kept REPLICATED k before", "CPUT kept");
        long killedAt = System.currentTimeMillis();
        nodes.get(1).kill();
        nodes.get(2).kill();
        long panicMs = awaitPanic(alone, killedAt, 10_000);
        System.out.println("the node left alone panicked " + panicMs + " ms after the other two were killed"
                + " (panic timeout " + PANIC_TIMEOUT_MS + " ms, asserted bound " + PANIC_BOUND_MS + " ms)");
        assertTrue("panicked after " + panicMs + " ms", panicMs < PANIC_BOUND_MS);
        assertRefusesLocks(alone);
        assertTrue("members() still answers after the panic", alone.members().contains(alone.name()));
        IllegalStateException write = assertThrows(IllegalStateException.class,
                () -> alone.ask("cput kept REPLICATED k after", "CPUT kept"));
        assertTrue("a cache write on a panicked node throws ClusterException: " + write.getMessage(),
                write.getMessage().contains("answered ERROR " + CLUSTER_EXCEPTION));
        assertEquals("its cache serves reads from its own copy", "CGET kept k before",
                alone.ask("cget kept REPLICATED k", "CGET kept"));
    }

    @Test(timeout = 60_000)
    public void aNodeFrozenLongerThanItsPanicTimeoutPanicsOnResume() throws Exception {
        List<ChildNode> nodes = start(3);
        ChildNode frozen = nodes.get(2);
        ChildNodes.freeze(frozen);
        Thread.sleep(PANIC_TIMEOUT_MS + 2_000);
        long resumedAt = System.currentTimeMillis();
        ChildNodes.thaw(frozen);
        long panicMs = awaitPanic(frozen, resumedAt, 10_000);
        System.out.println("a node frozen for " + (PANIC_TIMEOUT_MS + 2_000) + " ms panicked " + panicMs
                + " ms after its resume");
        assertTrue("panicked " + panicMs + " ms after the resume", panicMs < 1_000);
        assertRefusesLocks(frozen);
        assertNotEquals("the others should go on", "TRYLOCK after 0",
                nodes.get(0).ask("trylock after 5000", "TRYLOCK after"));
        assertEquals("PANICKED false", nodes.get(0).ask("panicked", "PANICKED"));
    }

    @Test(timeout = 60_000)
    public void inATwoOneSplitTheOnePanicsTheTwoGoOnAndNoLockIsHeldOnBothSides() throws Exception {
        List<ChildNode> nodes = start(3);
        ChildNode one = nodes.get(2);
        List<ChildNode> two = new ArrayList<>(nodes.subList(0, 2));
        long oneFence = fence(one.ask("trylock split 5000", "TRYLOCK split"));
        assertTrue("the 1 should get the lock before the split", oneFence > 0);

        two.get(0).send("lock split");
        long splitAt = System.currentTimeMillis();
        for (ChildNode side : two) {
            one.ask("isolate " + side.address(), "ISOLATED");
            side.ask("isolate " + one.address(), "ISOLATED");
        }

        long lastHeldOnOne = splitAt;
        String granted = null;
        while (granted == null) {
            assertTrue("the 2 did not get the lock within 20 s of the split",
                    System.currentTimeMillis() - splitAt < 20_000);
            String stands = one.ask("stands split", "STANDS split");
            if (stands.startsWith("STANDS split true")) {
                lastHeldOnOne = Long.parseLong(stands.substring(stands.lastIndexOf(' ') + 1));
            }
            granted = two.get(0).poll("LOCKED split", 50);
        }
        long grantedAt = System.currentTimeMillis();
        String after = one.ask("stands split", "STANDS split");
        System.out.println("split: the 1 last reported holding the lock " + (lastHeldOnOne - splitAt)
                + " ms after the split; the 2 got it by " + (grantedAt - splitAt) + " ms (fences " + oneFence
                + " then " + fence(granted) + "); the 1 then answered: " + after);
        assertTrue("the 1 reported holding the lock after the 2 got it", lastHeldOnOne < grantedAt);
        assertTrue("the 1 still reports holding the lock: " + after, !after.startsWith("STANDS split true"));
        assertTrue("fences should grow", fence(granted) > oneFence);

        long panicMs = awaitPanic(one, splitAt, 10_000);
        System.out.println("the 1 of a 2-1 split panicked " + panicMs + " ms after the split (panic timeout "
                + PANIC_TIMEOUT_MS + " ms, asserted bound " + PANIC_BOUND_MS + " ms)");
        assertTrue("the 1 panicked after " + panicMs + " ms", panicMs < PANIC_BOUND_MS);
        assertRefusesLocks(one);
        assertTrue("the 2 should go on: another lock works there",
                fence(two.get(1).ask("trylock other 5000", "TRYLOCK other")) > 0);
        for (ChildNode side : two) {
            assertEquals("PANICKED false", side.ask("panicked", "PANICKED"));
        }
    }

    /** Starts {@code count} nodes with the short panic timeout, each joining through the first. */
    private List<ChildNode> start(int count) throws IOException {
        List<ChildNode> nodes = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            Properties config = children.config("n" + i);
            config.setProperty("cluster.panic.timeout.ms", Long.toString(PANIC_TIMEOUT_MS));
            if (!nodes.isEmpty()) {
                config.setProperty("cluster.seeds", nodes.get(0).address());
            }
            nodes.add(children.startAndAwait("n" + i, config));
        }
        return nodes;
    }

    /** Waits for the node's panic listener to have been called: milliseconds from {@code sinceEpochMs} to the call. */
    private static long awaitPanic(ChildNode node, long sinceEpochMs, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            String answer = node.ask("panicked", "PANICKED");
            if (answer.startsWith("PANICKED true ")) {
                String[] words = answer.split(" ", 4);
                System.out.println(node.name() + " panic reason: " + words[3]);
                return Long.parseLong(words[2]) - sinceEpochMs;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(node.name() + " did not panic within " + timeoutMs + " ms");
    }

    private static void assertRefusesLocks(ChildNode node) {
        String answer = node.ask("trylock refused 1000", "TRYLOCK refused");
        assertTrue("a lock call on a panicked node should throw ClusterException: " + answer,
                answer.startsWith("TRYLOCK refused failed " + CLUSTER_EXCEPTION));
    }

    private static long fence(String answer) {
        return Long.parseLong(answer.substring(answer.lastIndexOf(' ') + 1));
    }
}
