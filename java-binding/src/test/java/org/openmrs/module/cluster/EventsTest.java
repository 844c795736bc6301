package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.After;
import org.junit.Test;

/** Events on one embedded node: local delivery, isolation of listeners, a full queue, closing. */
public class EventsTest {

    private final List<Cluster> started = new ArrayList<>();

    @After
    public void closeAll() {
        Collections.reverse(started);
        started.forEach(Cluster::close);
    }

    private Cluster embedded() {
        Cluster cluster = Cluster.embedded();
        started.add(cluster);
        return cluster;
    }

    @Test(timeout = 30_000)
    public void thePublishersOwnSubscribersGetEachMessageOnceInOrder() {
        ClusterEvents events = embedded().events();
        List<Integer> seen = new CopyOnWriteArrayList<>();
        events.<Integer>subscribe("t", seen::add);
        for (int i = 0; i < 2000; i++) {
            events.publish("t", i);
        }
        events.publish("other", -1);
        await(() -> seen.size() >= 2000);
        sleep(100);
        assertEquals(range(0, 2000), seen);
    }

    @Test(timeout = 30_000)
    public void aClosedSubscriptionGetsNothingMore() {
        ClusterEvents events = embedded().events();
        List<String> seen = new CopyOnWriteArrayList<>();
        Subscription s = events.<String>subscribe("t", seen::add);
        events.publish("t", "before");
        await(() -> seen.size() == 1);
        s.close();
        s.close();
        events.publish("t", "after");
        sleep(200);
        assertEquals(List.of("before"), seen);
    }

    @Test(timeout = 30_000)
    public void aThrowingListenerIsLoggedAndGetsTheNextMessagesAndOthersAllOfThem() {
        ClusterEvents events = embedded().events();
        List<Integer> thrower = new CopyOnWriteArrayList<>();
        List<Integer> other = new CopyOnWriteArrayList<>();
        events.<Integer>subscribe("t", m -> {
            thrower.add(m);
            throw new IllegalStateException("listener bug " + m);
        });
        events.<Integer>subscribe("t", other::add);
        for (int i = 0; i < 100; i++) {
            events.publish("t", i);
        }
        await(() -> thrower.size() == 100 && other.size() == 100);
        assertEquals(range(0, 100), thrower);
        assertEquals(range(0, 100), other);
    }

    @Test(timeout = 30_000)
    public void aSlowListenerStallsNeitherOtherTopicsNorOtherSubscribers() throws InterruptedException {
        ClusterEvents events = embedded().events();
        CountDownLatch release = new CountDownLatch(1);
        events.<Integer>subscribe("t", m -> awaitQuietly(release));
        List<Integer> sameTopic = new CopyOnWriteArrayList<>();
        List<Integer> otherTopic = new CopyOnWriteArrayList<>();
        events.<Integer>subscribe("t", sameTopic::add);
        events.<Integer>subscribe("u", otherTopic::add);
        for (int i = 0; i < 500; i++) {
            events.publish("t", i);
            events.publish("u", i);
        }
        await(() -> sameTopic.size() == 500 && otherTopic.size() == 500);
        release.countDown();
    }

    @Test(timeout = 30_000)
    public void aFullQueueDropsItsOldestUndeliveredMessagesAndCountsThem() throws InterruptedException {
        NodeEvents events = (NodeEvents) embedded().events();
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> seen = new CopyOnWriteArrayList<>();
        EventSubscription<Integer> s = events.subscribe("t", (Integer m) -> {
            seen.add(m);
            entered.countDown();
            awaitQuietly(release);
        }, 10);
        events.publish("t", 0);
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        for (int i = 1; i <= 100; i++) {
            events.publish("t", i);
        }
        assertEquals(90, s.droppedCount());
        release.countDown();
        await(() -> seen.size() == 11);
        List<Integer> expected = new ArrayList<>(List.of(0));
        expected.addAll(range(91, 101));
        assertEquals(expected, seen);
    }

    @Test(timeout = 30_000)
    public void closingTheNodeEndsItsSubscriptionThreads() throws InterruptedException {
        Cluster cluster = embedded();
        NodeEvents events = (NodeEvents) cluster.events();
        EventSubscription<Object> s = events.subscribe("t", m -> { }, 10);
        assertTrue(s.thread().isAlive());
        cluster.close();
        s.thread().join(5_000);
        assertFalse(s.thread().isAlive());
        ClusterException e = assertThrows(ClusterException.class, () -> events.publish("t", "x"));
        assertTrue(e.getMessage(), e.getMessage().endsWith("is closed"));
        assertThrows(ClusterException.class, cluster::events);
        s.close();
    }

    private static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().collect(Collectors.toList());
    }

    static void await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 20 s");
            }
            sleep(5);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
