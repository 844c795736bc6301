package org.openmrs.module.cluster;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;
import org.springframework.cache.interceptor.SimpleKey;

import com.example.untrusted.SideEffectOnRead;

/**
 * What a node reads from the bytes of events, cache values and queue items, on embedded nodes:
 * the allowed types come back, a class outside the allow-list is never instantiated (though it is
 * on the classpath) and is absent, dropped or set aside, logged once; cluster.serialization.allow
 * admits a class; graphs too deep or arrays longer than their bytes are refused.
 */
public class PeerBytesTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    @Rule
    public final TemporaryFolder files = new TemporaryFolder();

    /** Every logger of the library's package. */
    @Rule
    public final CapturedLog log = new CapturedLog("org.openmrs.module.cluster");

    private Path marker;

    @Before
    public void markerFile() {
        marker = files.getRoot().toPath().resolve("read");
    }

    @Test(timeout = 30_000)
    public void allowedTypesComeBackThroughCachesEventsAndQueues() {
        Cluster cluster = nodes.start();
        Map<String, Integer> map = new HashMap<>();
        map.put("a", 1);
        map.put("b", 2);
        List<Serializable> values = Arrays.asList("text", 42, (Serializable) map, LocalDate.of(2024, 2, 29),
                Instant.ofEpochSecond(1_700_000_000L, 5), new SimpleKey("getConcept", 7),
                new DefaultCodecTest.Point(3, 4), new int[] {1, 2}, new byte[1 << 19]);
        ClusterCache<Integer, Serializable> cache = cluster.cache("values");
        ClusterQueue<Serializable> queue = cluster.queue("values");
        List<Object> heard = new CopyOnWriteArrayList<>();
        cluster.events().subscribe("values", heard::add);
        for (int i = 0; i < values.size(); i++) {
            cache.put(i, values.get(i));
            queue.offer(values.get(i));
            cluster.events().publish("values", values.get(i));
        }
        EventsTest.await(() -> heard.size() == values.size());
        for (int i = 0; i < values.size(); i++) {
            assertSameValue(values.get(i), cache.get(i));
            assertSameValue(values.get(i), heard.get(i));
            Claim<Serializable> claim = queue.poll(WAIT).get();
            assertSameValue(values.get(i), claim.item());
            claim.ack();
        }
        assertEquals(List.of(), log.warnings("was not read"));
    }

    @Test(timeout = 30_000)
    public void aCacheValueOfARefusedClassIsAbsentNeverReadAndLoggedOnce() throws Exception {
        Cluster cluster = nodes.start();
        ClusterCache<String, Object> cache = cluster.cache("c");
        cache.put("gadget", new SideEffectOnRead(marker.toString()));
        cache.put("list", new ArrayList<>(List.of(new SideEffectOnRead(marker.toString()))));
        for (int i = 0; i < 3; i++) {
            assertNull(cache.get("gadget"));
            assertFalse(cache.containsKey("gadget"));
            assertNull(cache.get("list"));
        }
        assertEquals("the store still holds both", 2, cache.size());
        assertFalse("the class's readObject ran", Files.exists(marker));
        List<String> logged = log.warnings(SideEffectOnRead.class.getName());
        assertEquals(logged.toString(), 1, logged.size());
        assertTrue(logged.get(0), logged.get(0).contains("cache 'c'"));
        assertTrue(logged.get(0), logged.get(0).contains("cluster.serialization.allow"));
        cache.put("gadget", "replaced");
        assertEquals("replaced", cache.get("gadget"));
    }

    @Test(timeout = 30_000)
    public void anEventOfARefusedClassIsDroppedAndTheNextOnesArrive() {
        Cluster cluster = nodes.start();
        ClusterEvents events = cluster.events();
        List<Object> heard = new CopyOnWriteArrayList<>();
        events.subscribe("t", heard::add);
        events.publish("t", "before");
        events.publish("t", new SideEffectOnRead(marker.toString()));
        events.publish("t", "between");
        events.publish("t", new SideEffectOnRead(marker.toString()));
        events.publish("t", "after");
        EventsTest.await(() -> heard.contains("after"));
        assertEquals(List.of("before", "between", "after"), heard);
        assertFalse("the class's readObject ran", Files.exists(marker));
        assertEquals(1, log.warnings(SideEffectOnRead.class.getName()).size());
    }

    @Test(timeout = 30_000)
    public void aQueueItemOfARefusedClassBecomesADeadLetterAndTheNextItemIsClaimed() {
        Cluster cluster = nodes.start();
        ClusterQueue<Serializable> queue = cluster.queue("q");
        SideEffectOnRead gadget = new SideEffectOnRead(marker.toString());
        long offeredAt = System.currentTimeMillis();
        queue.offer(gadget);
        queue.offer("next");
        queue.offer(gadget);
        Claim<Serializable> next = queue.poll(Duration.ZERO).orElseThrow(
                () -> new AssertionError("a poll that does not wait still goes past a dead letter to the next item"));
        assertEquals("next", next.item());
        assertEquals("the item claimed counts, the dead letter does not", 2, queue.size());
        next.ack();
        assertFalse(queue.poll(Duration.ofMillis(200)).isPresent());
        assertEquals(0, queue.size());
        assertFalse("the class's readObject ran", Files.exists(marker));
        List<String> logged = log.warnings(SideEffectOnRead.class.getName());
        assertEquals("the refusal once, the first dead letter of its kind once: " + logged, 2, logged.size());

        List<DeadLetter> dead = queue.deadLetters();
        assertEquals(dead.toString(), 2, dead.size());
        DeadLetter first = dead.get(0);
        assertTrue(first.id() < dead.get(1).id());
        assertEquals(cluster.nodeName(), first.node());
        assertTrue(first.reason(), first.reason().contains(SideEffectOnRead.class.getName()));
        assertTrue(first.reason(), first.reason().contains("allow-list"));
        long at = first.time().toEpochMilli();
        assertTrue(at + " vs " + offeredAt, at >= offeredAt && at <= System.currentTimeMillis());
        assertArrayEquals(ItemSerializer.toBytes(gadget, "the gadget"), first.bytes());

        assertTrue(queue.removeDeadLetter(first.id()));
        assertFalse(queue.removeDeadLetter(first.id()));
        assertEquals(1, queue.deadLetters().size());
        assertEquals(1, queue.clearDeadLetters());
        assertEquals(List.of(), queue.deadLetters());
        assertThrows(IllegalArgumentException.class, () -> queue.removeDeadLetter(0));
    }

    @Test(timeout = 30_000)
    public void garbledBytesAndUnknownClassesBecomeDeadLettersToo() {
        Cluster cluster = nodes.start();
        ClusterQueue<Serializable> queue = cluster.queue("q");
        long handle = NativeNode.of(cluster).handle();
        byte[] unknown = ItemSerializer.toBytes(new Renamed(), "an item");
        String from = Renamed.class.getName();
        byte[] renamed = new String(unknown, StandardCharsets.ISO_8859_1)
                .replace(from, from.replace("Renamed", "Unknown")).getBytes(StandardCharsets.ISO_8859_1);
        Native.queueOffer(handle, "q", "not a serialized object".getBytes(StandardCharsets.UTF_8));
        Native.queueOffer(handle, "q", renamed);
        queue.offer("next");
        assertEquals("next", queue.poll(WAIT).get().item());
        List<DeadLetter> dead = queue.deadLetters();
        assertEquals(dead.toString(), 2, dead.size());
        assertTrue(dead.get(0).reason(), dead.get(0).reason().contains("StreamCorruptedException"));
        assertTrue(dead.get(1).reason(), dead.get(1).reason().contains("ClassNotFoundException"));
        assertTrue(dead.get(1).reason(), dead.get(1).reason().contains("PeerBytesTest$Unknown"));
    }

    @Test(timeout = 30_000)
    public void theConfiguredAllowListAdmitsAClass() throws Exception {
        Cluster cluster = nodes.start(ClusterConfig.builder().serializationAllow("com.example.untrusted.*"));
        ClusterCache<String, Object> cache = cluster.cache("c");
        cache.put("gadget", new SideEffectOnRead(marker.toString()));
        assertTrue(cache.get("gadget") instanceof SideEffectOnRead);
        assertEquals("read a value of a class it allows", List.of("read"), Files.readAllLines(marker));
        assertEquals(List.of(), log.warnings("was not read"));
    }

    @Test(timeout = 30_000)
    public void aGraphNestedTooDeepIsRefused() {
        Cluster cluster = nodes.start();
        ClusterCache<String, Object> cache = cluster.cache("c");
        cache.put("deep", nested((int) InputLimits.MAX_DEPTH + 10));
        cache.put("fine", nested((int) InputLimits.MAX_DEPTH - 10));
        assertNull(cache.get("deep"));
        assertTrue(cache.get("fine") instanceof ArrayList);
        List<String> logged = log.warnings("nested");
        assertEquals(logged.toString(), 1, logged.size());
        assertTrue(logged.get(0), logged.get(0).contains("past the limit of " + InputLimits.MAX_DEPTH));
    }

    @Test(timeout = 30_000)
    public void anArrayDeclaredLongerThanItsBytesIsRefusedBeforeItIsAllocated() {
        Cluster cluster = nodes.start();
        List<Object> heard = new CopyOnWriteArrayList<>();
        cluster.events().subscribe("t", heard::add);
        byte[] ints = new DefaultCodec(null).encode(new int[] {1, 2, 3, 4});
        // The length precedes the four ints at the end of the stream; 16 Mi ints would be 64 MiB.
        int lengthAt = ints.length - 4 * Integer.BYTES - Integer.BYTES;
        assertEquals(4, ints[lengthAt + 3]);
        ints[lengthAt + 1] = (byte) 0xff;
        Native.eventsPublish(NativeNode.of(cluster).handle(), "t", ints);
        cluster.events().publish("t", "next");
        EventsTest.await(() -> heard.contains("next"));
        assertEquals(List.of("next"), heard);
        List<String> logged = log.warnings("arrays of 16711684 elements");
        assertEquals(logged.toString(), 1, logged.size());
        assertTrue(logged.get(0), logged.get(0).contains("class [I"));
    }

    @Test(timeout = 30_000)
    public void aGraphDeeperThanTheReadingThreadsStackIsRefusedAndTheThreadLives() throws Exception {
        DefaultCodec codec = new DefaultCodec(null);
        byte[] deep = codec.encode(nested((int) InputLimits.MAX_DEPTH - 1));
        Object[] outcome = new Object[1];
        Thread small = new Thread(null, () -> {
            try {
                outcome[0] = codec.decode(deep, 0, deep.length);
            } catch (RuntimeException e) {
                outcome[0] = e;
            }
        }, "small stack", 64 * 1024);
        small.start();
        small.join();
        assertTrue(String.valueOf(outcome[0]), outcome[0] instanceof RefusedClassException);
        assertTrue(((Exception) outcome[0]).getMessage().contains("this thread's stack"));
    }

    private static void assertSameValue(Object expected, Object actual) {
        if (expected instanceof int[]) {
            assertArrayEquals((int[]) expected, (int[]) actual);
        } else if (expected instanceof byte[]) {
            assertArrayEquals((byte[]) expected, (byte[]) actual);
        } else {
            assertEquals(expected, actual);
        }
    }

    /** Lists nested {@code depth} deep, a string inside the innermost. */
    private static Serializable nested(int depth) {
        Serializable inner = "core";
        for (int i = 0; i < depth; i++) {
            ArrayList<Serializable> outer = new ArrayList<>();
            outer.add(inner);
            inner = outer;
        }
        return inner;
    }

    /** Serialized, then renamed in its bytes to a class that exists nowhere. */
    static final class Renamed implements Serializable {
        private static final long serialVersionUID = 1L;
    }
}
