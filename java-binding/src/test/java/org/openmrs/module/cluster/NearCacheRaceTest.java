package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.junit.Rule;
import org.junit.Test;

/**
 * Readers hammer a few keys while writers put ever newer versions of them: a read that overlaps
 * a write must not leave its older value in the near cache, so once writes stop every reader
 * sees the last version and keeps seeing it. On one node the writes are local; on two, they come
 * from the other node and reach the readers' near cache as invalidations.
 */
public class NearCacheRaceTest {

    private static final int KEYS = 8;
    private static final int WRITERS = 2;
    private static final int READERS = 4;
    private static final int ROUNDS = 5;
    private static final int VERSIONS_PER_ROUND = 300;
    private static final long SETTLE_MS = 20_000;
    private static final long NO_READ = -1;

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    @Test(timeout = 120_000)
    public void readersOfTheWritingNodeSeeTheLastWriteOnceWritesStop() throws InterruptedException {
        ClusterCache<Integer, Long> cache = nodes.start().cache("race");
        race(cache, Arrays.asList(cache));
    }

    @Test(timeout = 120_000)
    public void readersOfAnotherNodeSeeTheLastWriteOnceWritesStop() throws InterruptedException {
        List<Cluster> pair = nodes.startJoined(2);
        ClusterCache<Integer, Long> writing = pair.get(0).cache("race");
        ClusterCache<Integer, Long> other = pair.get(1).cache("race");
        race(writing, Arrays.asList(other, writing));
    }

    @Test(timeout = 60_000)
    public void inInvalidationModeAnotherNodesWriteDropsTheKeyHere() {
        List<Cluster> pair = nodes.startJoined(2);
        CacheOptions invalidation = CacheOptions.builder().mode(CacheMode.INVALIDATION).build();
        ClusterCache<String, String> a = pair.get(0).cache("inv", invalidation);
        ClusterCache<String, String> b = pair.get(1).cache("inv", invalidation);
        b.put("k", "old");
        assertEquals("old", b.get("k"));
        a.put("k", "new");
        EventsTest.await(() -> b.get("k") == null);
        assertNull("values stay on the node that wrote them", b.get("k"));
    }

    /**
     * Rounds of writes through {@code writing}, each followed by the check that every reader
     * (spread over {@code readerSides}) comes to see the round's last version of every key.
     */
    private static void race(ClusterCache<Integer, Long> writing, List<ClusterCache<Integer, Long>> readerSides)
            throws InterruptedException {
        List<Reader> readers = new ArrayList<>();
        for (int i = 0; i < READERS; i++) {
            readers.add(new Reader(readerSides.get(i % readerSides.size())));
        }
        readers.forEach(Thread::start);
        long puts = 0;
        long writeNanos = 0;
        long settleMsMax = 0;
        try {
            for (int round = 0; round < ROUNDS; round++) {
                long first = (long) round * VERSIONS_PER_ROUND;
                long last = first + VERSIONS_PER_ROUND - 1;
                long start = System.nanoTime();
                write(writing, first, last);
                long written = System.nanoTime();
                writeNanos += written - start;
                puts += (long) KEYS * VERSIONS_PER_ROUND;
                awaitEveryReaderSees(readers, last);
                settleMsMax = Math.max(settleMsMax, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - written));
                Thread.sleep(100);
                for (Reader reader : readers) {
                    for (int key = 0; key < KEYS; key++) {
                        assertEquals(reader.getName() + " went back on key " + key + " after writes stopped",
                                last, reader.lastSeen.get(key));
                    }
                }
            }
        } finally {
            readers.forEach(Reader::finish);
        }
        for (Reader reader : readers) {
            assertTrue(reader.getName() + " failed: " + reader.failures, reader.failures.isEmpty());
            assertEquals(reader.getName() + ": reads that found nothing after a value", 0, reader.lostValues.get());
        }
        System.out.println("near-cache race: " + puts + " puts at " + puts * 1_000_000_000L / Math.max(1, writeNanos)
                + "/s against " + READERS + " readers (" + readers.stream().mapToLong(r -> r.reads.get()).sum()
                + " reads); readers saw each round's last write at most " + settleMsMax + " ms after it");
    }

    /** Writers, one per share of the keys, each putting versions first to last of its keys. */
    private static void write(ClusterCache<Integer, Long> cache, long first, long last) throws InterruptedException {
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int share = w;
            Thread writer = new Thread(() -> {
                try {
                    for (long version = first; version <= last; version++) {
                        for (int key = share; key < KEYS; key += WRITERS) {
                            cache.put(key, version);
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "writer-" + w);
            writer.start();
            writers.add(writer);
        }
        for (Thread writer : writers) {
            writer.join();
        }
        assertTrue("writers failed: " + failures, failures.isEmpty());
    }

    private static void awaitEveryReaderSees(List<Reader> readers, long last) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MS);
        for (Reader reader : readers) {
            for (int key = 0; key < KEYS; key++) {
                while (reader.lastSeen.get(key) != last) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError(reader.getName() + " still sees " + reader.lastSeen.get(key)
                                + " for key " + key + " " + SETTLE_MS + " ms after its last write, " + last);
                    }
                    Thread.sleep(1);
                }
            }
        }
    }

    /** Reads every key in a loop, keeping the last value seen of each. */
    private static final class Reader extends Thread {
        private static int count;
        final AtomicLongArray lastSeen = new AtomicLongArray(KEYS);
        final AtomicLong reads = new AtomicLong();
        final AtomicLong lostValues = new AtomicLong();
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        private final ClusterCache<Integer, Long> cache;
        private volatile boolean finished;

        Reader(ClusterCache<Integer, Long> cache) {
            super("reader-" + nextNumber());
            this.cache = cache;
            for (int key = 0; key < KEYS; key++) {
                lastSeen.set(key, NO_READ);
            }
            setDaemon(true);
        }

        private static synchronized int nextNumber() {
            return count++;
        }

        @Override
        public void run() {
            try {
                while (!finished) {
                    for (int key = 0; key < KEYS; key++) {
                        Long value = cache.get(key);
                        if (value != null) {
                            lastSeen.set(key, value);
                        } else if (lastSeen.get(key) != NO_READ) {
                            lostValues.incrementAndGet();
                        }
                        reads.incrementAndGet();
                    }
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        }

        void finish() {
            finished = true;
            try {
                join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
