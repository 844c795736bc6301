package org.openmrs.module.cluster.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.openmrs.module.cluster.it.ChildNodes.START_TIMEOUT_MS;
import static org.openmrs.module.cluster.it.ChildNodes.names;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import org.junit.Rule;
import org.junit.Test;

/**
 * Nodes in JVMs of their own on loopback: they form one cluster, see a crashed, closed or
 * forgotten member go, and refuse a node of another app version or secret.
 */
public class MembershipIT {

    private static final long FORM_TIMEOUT_MS = 10_000;
    private static final long CRASH_NOTICED_MS = 5_000;
    private static final long LEAVE_NOTICED_MS = 1_000;
    /** Well below failure detection, so that only a leave at JVM shutdown meets it. */
    private static final long EXIT_NOTICED_MS = 500;
    private static final String SECRET = "it-secret-0123456789";

    @Rule
    public final ChildNodes children = new ChildNodes();

    @Test(timeout = 90_000)
    public void nodesStartedOneAfterAnotherFormOneCluster() throws IOException {
        List<ChildNode> nodes = children.startOneAfterAnother(3);
        ChildNode.awaitMembers(nodes, names(nodes), System.nanoTime(), FORM_TIMEOUT_MS);
    }

    @Test(timeout = 90_000)
    public void nodesStartedAllAtOnceWithTheSameSeedsFormOneCluster() throws IOException {
        List<Integer> ports = FreePorts.pick(3);
        String seeds = ports.stream().map(port -> "127.0.0.1:" + port).collect(Collectors.joining(","));
        List<ChildNode> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Properties config = children.config("n" + (i + 1));
            config.setProperty("cluster.bind", "127.0.0.1:" + ports.get(i));
            config.setProperty("cluster.seeds", seeds);
            nodes.add(children.launch("n" + (i + 1), config));
        }
        for (ChildNode node : nodes) {
            assertTrue(node.label() + " did not start: " + node.error(), node.awaitStart(START_TIMEOUT_MS));
        }
        ChildNode.awaitMembers(nodes, names(nodes), System.nanoTime(), FORM_TIMEOUT_MS);
    }

    @Test(timeout = 90_000)
    public void aKilledNodeIsSeenGoneByTheOthers() throws IOException {
        seenGone("destroyForcibly", ChildNode::kill, CRASH_NOTICED_MS);
    }

    @Test(timeout = 90_000)
    public void aClosedNodeIsSeenGoneWithinASecond() throws IOException {
        seenGone("close()", ChildNode::closeNode, LEAVE_NOTICED_MS);
    }

    /** Stops the third of three nodes as {@code how} says and times how soon the other two drop it. */
    private void seenGone(String how, java.util.function.Consumer<ChildNode> stop, long boundMs) throws IOException {
        List<ChildNode> nodes = children.startOneAfterAnother(3);
        ChildNode.awaitMembers(nodes, names(nodes), System.nanoTime(), FORM_TIMEOUT_MS);
        ChildNode leaving = nodes.remove(2);
        long stopped = System.nanoTime();
        stop.accept(leaving);
        long[] noticed = ChildNode.awaitMembers(nodes, names(nodes), stopped, boundMs);
        System.out.println(how + " of " + leaving.name() + " was seen by n1 after " + noticed[0]
                + " ms and by n2 after " + noticed[1] + " ms (bound " + boundMs + " ms)");
    }

    @Test(timeout = 90_000)
    public void aNodeLeftOpenLeavesWhenItsJvmEnds() throws IOException {
        List<ChildNode> nodes = children.startOneAfterAnother(2);
        ChildNode.awaitMembers(nodes, names(nodes), System.nanoTime(), FORM_TIMEOUT_MS);
        ChildNode leaving = nodes.remove(1);
        assertEquals("exit status of " + leaving.label(), 0, leaving.exit());
        long ended = System.nanoTime();
        long[] noticed = ChildNode.awaitMembers(nodes, names(nodes), ended, EXIT_NOTICED_MS);
        System.out.println("the JVM of " + leaving.name() + " ended with its node open; n1 saw it leave "
                + noticed[0] + " ms after the JVM's end (bound " + EXIT_NOTICED_MS + " ms)");
    }

    @Test(timeout = 90_000)
    public void aNodeOfAnotherAppVersionIsRefused() throws IOException {
        Properties first = children.config("n1");
        first.setProperty("cluster.app.version", "2.7.0");
        ChildNode member = children.startAndAwait("n1", first);

        Properties other = children.config("n2");
        other.setProperty("cluster.app.version", "2.7.1");
        other.setProperty("cluster.seeds", member.address());
        other.setProperty("cluster.join.timeout.ms", "10000");
        String error = awaitRefusal(children.launch("n2", other), member);
        assertTrue("the refusal should name both versions: " + error,
                error.contains("2.7.0") && error.contains("2.7.1"));
    }

    @Test(timeout = 90_000)
    public void aNodeWithAWrongSecretIsRefused() throws IOException {
        Properties first = children.config("n1");
        first.setProperty("cluster.secret", SECRET);
        ChildNode member = children.startAndAwait("n1", first);

        Properties other = children.config("n2");
        other.setProperty("cluster.secret", "not-" + SECRET);
        other.setProperty("cluster.seeds", member.address());
        other.setProperty("cluster.join.timeout.ms", "5000");
        awaitRefusal(children.launch("n2", other), member);
    }

    /**
     * Waits for {@code refused} to fail its start while polling {@code member}, which must never
     * list it, then watches {@code member} one more second. Returns the refusal's message.
     */
    private String awaitRefusal(ChildNode refused, ChildNode member) {
        Set<String> alone = new TreeSet<>(Arrays.asList(member.name()));
        List<List<String>> history = new ArrayList<>();
        AtomicBoolean watching = new AtomicBoolean(true);
        AtomicReference<RuntimeException> watchFailure = new AtomicReference<>();
        Thread watcher = new Thread(() -> {
            try {
                while (watching.get()) {
                    List<String> seen = member.members();
                    synchronized (history) {
                        history.add(seen);
                    }
                    Thread.sleep(50);
                }
            } catch (RuntimeException e) {
                watchFailure.set(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "watch-" + member.label());
        watcher.start();
        boolean started;
        try {
            started = refused.awaitStart(START_TIMEOUT_MS);
            sleep(1000);
        } finally {
            watching.set(false);
            join(watcher);
        }
        System.out.println(refused.label() + " was refused: " + refused.error());
        assertFalse(refused.label() + " should have been refused", started);
        if (watchFailure.get() != null) {
            throw new AssertionError("watching " + member.label() + " failed", watchFailure.get());
        }
        synchronized (history) {
            assertFalse("the watch recorded nothing", history.isEmpty());
            for (List<String> seen : history) {
                assertTrue(member.label() + " listed " + seen + "; expected only " + alone,
                        new TreeSet<>(seen).equals(alone));
            }
        }
        return refused.error();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static void join(Thread thread) {
        try {
            thread.join(TimeUnit.SECONDS.toMillis(15));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
