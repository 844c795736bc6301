package org.openmrs.module.cluster.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import com.example.untrusted.SideEffectOnRead;

/**
 * No code from peers, across JVMs: one node sends a {@link SideEffectOnRead} (it appends to a
 * marker file wherever it is read) through events, a replicated cache and a queue, to a node with
 * the default allow-list and to one that allows the class. Both JVMs have the class on their
 * classpath, so only the allow-list keeps the first from reading it: there the event is dropped,
 * the cache value is absent, the queue item is a dead letter (which the sender's replica lists
 * too), the next message, value and item arrive, the refusal is logged once, and no marker file
 * appears; the second reads all three
 * (the marker files appear), which shows what the first was kept from.
 */
public class PeerBytesIT {

    private static final String SECRET = "peer bytes integration test secret";
    private static final String GADGET = SideEffectOnRead.class.getName();
    private static final long ARRIVAL_TIMEOUT_MS = 20_000;

    @Rule
    public final ChildNodes children = new ChildNodes();

    @Rule
    public final TemporaryFolder files = new TemporaryFolder();

    @Test(timeout = 120_000)
    public void aClassOutsideTheAllowListIsNeverInstantiatedThoughTheReceiverHasIt() throws Exception {
        ChildNode sender = children.startAndAwait("n1", config("n1"));
        Properties strict = config("n2");
        strict.setProperty("cluster.seeds", sender.address());
        ChildNode refusing = children.startAndAwait("n2", strict);
        Properties lax = config("n3");
        lax.setProperty("cluster.seeds", sender.address());
        lax.setProperty("cluster.serialization.allow", "com.example.untrusted.*");
        ChildNode allowing = children.startAndAwait("n3", lax);
        List<ChildNode> all = List.of(sender, refusing, allowing);
        ChildNode.awaitMembers(all, ChildNodes.names(all), System.nanoTime(), ARRIVAL_TIMEOUT_MS);

        for (ChildNode receiver : List.of(refusing, allowing)) {
            String name = receiver.name();
            receiver.ask("listen t-" + name, "LISTENING");
            sender.ask("gpublish t-" + name + " " + marker(name, "event"), "GPUBLISHED");
            sender.ask("gput c " + name + " " + marker(name, "cache"), "GPUT");
            sender.ask("goffer q-" + name + " " + marker(name, "queue"), "GOFFERED");
        }

        assertEquals("after", awaitAnswer(refusing, "heard t-n2", "HEARD t-n2", "after"));
        assertEquals("true after", awaitAnswer(refusing, "peek c n2-after", "PEEK c n2-after", "true after"));
        assertEquals("false null", refusing.ask("peek c n2", "PEEK c n2", 10_000));
        assertEquals("after", refusing.ask("take q-n2", "TAKEN q-n2", 15_000));
        String refusal = "1 n2: class " + GADGET + " refused: not on the allow-list";
        String dead = refusing.ask("dead q-n2", "DEAD q-n2", 10_000);
        assertTrue(dead, dead.startsWith(refusal));
        String deadOnSender = awaitAnswer(sender, "dead q-n2", "DEAD q-n2", "(cluster.serialization.allow)");
        assertTrue("the dead letter is in every replica: " + deadOnSender, deadOnSender.startsWith(refusal));
        for (String channel : List.of("event", "cache", "queue")) {
            assertFalse("n2 read the " + channel + ": its readObject ran", Files.exists(marker("n2", channel)));
        }
        List<String> refusals = logLines(refusing, "was not read: class " + GADGET);
        assertEquals("logged once for three refusals: " + refusals, 1, refusals.size());

        String heard = awaitAnswer(allowing, "heard t-n3", "HEARD t-n3", "after");
        assertEquals("SideEffectOnRead{" + marker("n3", "event") + "},after", heard);
        awaitAnswer(allowing, "peek c n3-after", "PEEK c n3-after", "true after");
        String peeked = allowing.ask("peek c n3", "PEEK c n3", 10_000);
        assertEquals("true SideEffectOnRead{" + marker("n3", "cache") + "}", peeked);
        assertEquals("SideEffectOnRead{" + marker("n3", "queue") + "}",
                allowing.ask("take q-n3", "TAKEN q-n3", 15_000));
        assertEquals("0", allowing.ask("dead q-n3", "DEAD q-n3", 10_000));
        for (String channel : List.of("event", "cache", "queue")) {
            assertTrue("n3, which allows the class, read the " + channel, Files.exists(marker("n3", channel)));
        }
        System.out.println("a " + GADGET + " sent by n1 through an event, a cache value and a queue item: never read"
                + " on n2 (default allow-list; the event dropped, the value absent, the item a dead letter, one"
                + " warning), read all three times on n3, which allows it");
    }

    private Properties config(String name) {
        Properties config = children.config(name);
        config.setProperty("cluster.secret", SECRET);
        return config;
    }

    private Path marker(String node, String channel) {
        return files.getRoot().toPath().resolve(node + "-" + channel);
    }

    /** Asks {@code command} until its answer (after {@code prefix}) ends with {@code last}; that answer. */
    private static String awaitAnswer(ChildNode node, String command, String prefix, String last)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + ARRIVAL_TIMEOUT_MS;
        String answer;
        do {
            answer = node.ask(command, prefix, 10_000);
            if (answer.endsWith(last)) {
                return answer;
            }
            Thread.sleep(50);
        } while (System.currentTimeMillis() < deadline);
        throw new AssertionError(node.label() + " answered '" + answer + "' to '" + command + "' after "
                + ARRIVAL_TIMEOUT_MS + " ms");
    }

    private static List<String> logLines(ChildNode node, String text) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(node.log().toPath(), StandardCharsets.UTF_8));
        return lines.stream().filter(line -> line.contains(text)).collect(Collectors.toList());
    }
}
