package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.Optional;

import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;

/** The ClusterQueue contract on an embedded node. */
public class ClusterQueueTest {

    private static final Duration SHORT = Duration.ofMillis(200);
    private static final Duration LONG = Duration.ofSeconds(5);

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    private Cluster cluster;
    private ClusterQueue<String> queue;

    @Before
    public void startNode() {
        cluster = nodes.start();
        queue = cluster.queue("hl7");
    }

    @Test(timeout = 30_000)
    public void oneInstancePerNameAndItsSizeCountsWhatIsNotAcknowledged() {
        assertSame(queue, cluster.queue("hl7"));
        assertEquals(0, queue.size());
        queue.offer("a");
        queue.offer("b");
        assertEquals(2, queue.size());
        Claim<String> a = claim();
        assertEquals("a claimed item still counts", 2, queue.size());
        a.ack();
        assertEquals(1, queue.size());
        assertThrows(NullPointerException.class, () -> queue.offer(null));
    }

    @Test(timeout = 30_000)
    public void itemsComeInOfferOrder() {
        for (int i = 0; i < 10; i++) {
            queue.offer("item " + i);
        }
        for (int i = 0; i < 10; i++) {
            Claim<String> claim = claim();
            assertEquals("item " + i, claim.item());
            claim.ack();
        }
        assertFalse(queue.poll(SHORT).isPresent());
        assertEquals(0, queue.size());
    }

    @Test(timeout = 30_000)
    public void aReleasedItemGoesBackToItsPlaceInLine() {
        queue.offer("first");
        queue.offer("second");
        Claim<String> first = claim();
        first.release();
        assertEquals("first", claim().item());
        assertEquals("second", claim().item());
    }

    @Test(timeout = 30_000)
    public void aClaimIsSettledOnce() {
        queue.offer("x");
        Claim<String> acked = claim();
        acked.ack();
        assertThrows(IllegalStateException.class, acked::ack);
        assertThrows(IllegalStateException.class, acked::release);
        queue.offer("y");
        Claim<String> released = claim();
        released.release();
        assertThrows(IllegalStateException.class, released::release);
    }

    @Test(timeout = 30_000)
    public void pollReturnsEmptyWhenNothingComesWithinItsWait() {
        long started = System.nanoTime();
        assertFalse(queue.poll(Duration.ofMillis(300)).isPresent());
        long ms = (System.nanoTime() - started) / 1_000_000;
        assertTrue("waited " + ms + " ms", ms >= 250 && ms < 3_000);
        assertFalse(queue.poll(Duration.ZERO).isPresent());
    }

    @Test(timeout = 30_000)
    public void pollWakesOnAnOfferFromAnotherThread() throws Exception {
        OtherThread<Optional<Claim<String>>> waiter = OtherThread.start("waiter", () -> queue.poll(LONG));
        Thread.sleep(300);
        long offered = System.nanoTime();
        queue.offer("wake up");
        assertEquals("wake up", waiter.result().get().item());
        long ms = (System.nanoTime() - offered) / 1_000_000;
        assertTrue("the waiter woke " + ms + " ms after the offer", ms < 1_000);
    }

    @Test(timeout = 30_000)
    public void anInterruptEndsAPollWithTheInterruptStillSet() throws Exception {
        OtherThread<Boolean> waiter = OtherThread.start("waiter", () -> {
            boolean empty = !queue.poll(Duration.ofSeconds(20)).isPresent();
            return empty && Thread.currentThread().isInterrupted();
        });
        Thread.sleep(200);
        waiter.interrupt();
        assertTrue(waiter.result());
    }

    @Test(timeout = 30_000)
    public void itemsOfAnyClassOfTheCallerTravel() {
        ClusterQueue<Order> orders = cluster.queue("orders");
        orders.offer(new Order("o-1", 3));
        Order order = orders.poll(LONG).get().item();
        assertEquals("o-1", order.id);
        assertEquals(3, order.quantity);
    }

    @Test(timeout = 30_000)
    public void anItemThatCannotBeSerializedIsRefused() {
        ClusterQueue<Holder> holders = cluster.queue("holders");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> holders.offer(new Holder(new Object())));
        assertTrue(e.getMessage(), e.getMessage().contains("java.lang.Object"));
    }

    private Claim<String> claim() {
        return queue.poll(LONG).orElseThrow(() -> new AssertionError("no item within " + LONG));
    }

    static final class Order implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final String id;
        final int quantity;

        Order(String id, int quantity) {
            this.id = id;
            this.quantity = quantity;
        }
    }

    static final class Holder implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final Object content;

        Holder(Object content) {
            this.content = content;
        }
    }
}
