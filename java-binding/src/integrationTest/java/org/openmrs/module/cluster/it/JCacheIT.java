package org.openmrs.module.cluster.it;

import static org.junit.Assert.assertEquals;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;

/**
 * JCache across JVMs: the entry listeners of a cache hear the changes made on the other nodes that
 * share it, in the order they were made, and the writer's own listeners hear each change once.
 */
public class JCacheIT {

    private static final long HEAR_TIMEOUT_MS = 10_000;

    @Rule
    public final ChildNodes children = new ChildNodes();

    @Test(timeout = 120_000)
    public void listenersOnEveryNodeHearTheChangesMadeOnAnother() throws Exception {
        List<ChildNode> nodes = children.startOneAfterAnother(2);
        ChildNode.awaitMembers(nodes, ChildNodes.names(nodes), System.nanoTime(), ChildNodes.START_TIMEOUT_MS);
        ChildNode a = nodes.get(0);
        ChildNode b = nodes.get(1);
        a.ask("jopen people", "JOPENED people");
        b.ask("jopen people", "JOPENED people");

        long start = System.nanoTime();
        a.ask("jput people k1 v1", "JPUT people");
        awaitAnswer(b, "jget people k1", "JGET people k1 v1");
        long replicatedMs = ChildNodes.millisSince(start);
        a.ask("jput people k1 v2", "JPUT people");
        assertEquals("JREMOVE people k1 true", a.ask("jremove people k1", "JREMOVE people"));
        String heardFromA = "JHEARD people CREATED:k1:v1,UPDATED:k1:v2,REMOVED:k1:v2";
        assertEquals("the writer's own listener, before each call returned", heardFromA,
                a.ask("jheard people", "JHEARD people"));
        awaitAnswer(b, "jheard people", heardFromA);

        b.ask("jput people k2 w1", "JPUT people");
        String heard = heardFromA + ",CREATED:k2:w1";
        awaitAnswer(b, "jheard people", heard);
        awaitAnswer(a, "jheard people", heard);
        System.out.println("a put on " + a.name() + " was read on " + b.name() + " within " + replicatedMs
                + " ms; both nodes' listeners heard the 4 changes of both, once each and in order, within "
                + ChildNodes.millisSince(start) + " ms");
    }

    /** Asks until the answer is {@code wanted}. */
    private static void awaitAnswer(ChildNode node, String question, String wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HEAR_TIMEOUT_MS);
        String prefix = wanted.substring(0, wanted.indexOf(' ', wanted.indexOf(' ') + 1));
        String answer;
        while (!(answer = node.ask(question, prefix)).equals(wanted)) {
            if (System.nanoTime() > deadline) {
                assertEquals(node.name() + " after " + HEAR_TIMEOUT_MS + " ms", wanted, answer);
            }
            Thread.sleep(20);
        }
    }
}
