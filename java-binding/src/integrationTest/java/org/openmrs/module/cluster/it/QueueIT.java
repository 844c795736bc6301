package org.openmrs.module.cluster.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A queue of a few hundred items drained by two JVMs while a third is killed holding claims:
 * every item is acknowledged exactly once, none is lost, and the killed node's claims come back.
 */
public class QueueIT {

    private static final int ITEMS = 300;
    private static final int HELD_BY_VICTIM = 20;
    /** The documented bound is about 3 s (session expiry); room for a loaded machine. */
    private static final long CLAIM_RETURN_BOUND_MS = 6_000;
    private static final long DRAIN_TIMEOUT_MS = 45_000;

    @Rule
    public final ChildNodes children = new ChildNodes();

    @Rule
    public final TemporaryFolder files = new TemporaryFolder();

    @Test(timeout = 60_000)
    public void twoNodesDrainEveryItemOnceWhileAThirdIsKilledHoldingClaims() throws Exception {
        List<ChildNode> nodes = children.startOneAfterAnother(3);
        ChildNode victim = nodes.get(2);
        Path acked = files.getRoot().toPath().resolve("acked");
        nodes.get(0).ask("offer hl7 " + ITEMS, "OFFERED hl7");
        String claimed = victim.ask("claim hl7 " + HELD_BY_VICTIM, "CLAIMED hl7");
        List<String> held = Arrays.asList(claimed.substring("CLAIMED hl7 ".length()).split(","));
        assertEquals("items claimed by " + victim.name(), HELD_BY_VICTIM, held.size());

        nodes.get(0).send("drain hl7 " + acked);
        nodes.get(1).send("drain hl7 " + acked);
        Thread.sleep(300);
        long killedAt = System.currentTimeMillis();
        victim.kill();
        int drained = 0;
        for (int i = 0; i < 2; i++) {
            String answer = nodes.get(i).await("DRAINED hl7", DRAIN_TIMEOUT_MS);
            drained += Integer.parseInt(answer.substring(answer.lastIndexOf(' ') + 1));
        }

        Map<Integer, String> ackedBy = new TreeMap<>();
        long firstReturnedAck = Long.MAX_VALUE;
        List<String> lines = Files.readAllLines(acked, StandardCharsets.UTF_8);
        for (String line : lines) {
            String[] words = line.split(" ");
            int item = Integer.parseInt(words[1]);
            String before = ackedBy.put(item, words[0]);
            assertEquals("item " + item + " acknowledged twice, by " + before + " and " + words[0], null, before);
            if (held.contains(words[1])) {
                firstReturnedAck = Math.min(firstReturnedAck, Long.parseLong(words[2]));
            }
        }
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < ITEMS; i++) {
            if (!ackedBy.containsKey(i)) {
                missing.add(i);
            }
        }
        assertTrue("items lost: " + missing, missing.isEmpty());
        assertEquals("acknowledgements", ITEMS, lines.size());
        assertEquals("items the drains counted", ITEMS, drained);
        assertEquals("SIZE hl7 0", nodes.get(0).ask("size hl7", "SIZE hl7"));
        long returnMs = firstReturnedAck - killedAt;
        System.out.println(ITEMS + " items, " + HELD_BY_VICTIM + " claimed by " + victim.name() + " when it was killed:"
                + " each acknowledged once (" + count(ackedBy, nodes.get(0).name()) + " by " + nodes.get(0).name()
                + ", " + count(ackedBy, nodes.get(1).name()) + " by " + nodes.get(1).name() + "); the first of the"
                + " killed node's claims was acknowledged elsewhere " + returnMs + " ms after the kill (asserted bound "
                + CLAIM_RETURN_BOUND_MS + " ms)");
        assertTrue("the killed node's claims came back " + returnMs + " ms after the kill",
                returnMs < CLAIM_RETURN_BOUND_MS);
    }

    private static long count(Map<Integer, String> ackedBy, String node) {
        return ackedBy.values().stream().filter(node::equals).count();
    }
}
