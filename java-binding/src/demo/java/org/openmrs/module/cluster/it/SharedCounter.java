package org.openmrs.module.cluster.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.openmrs.module.cluster.ClusterLock;

/**
 * A counter in a file shared by several JVMs, incremented under a {@link ClusterLock}: the
 * read-then-write that a lock must make safe. The counter file holds {@code value fence}, the fence
 * of the last writer, and refuses a write whose fence is not above it (a fenced resource). Each
 * increment appends {@code fence value} to the history file, so that the order of the grants can
 * be checked afterwards.
 */
final class SharedCounter {

    private SharedCounter() {
    }

    /**
     * Runs {@code threads} threads that each increment the counter {@code increments} times, each
     * time under the lock, and answers {@code COUNTED <lock name> <increments made>}.
     *
     * @throws ExecutionException with the first failure of a thread
     */
    static String count(ClusterLock lock, int threads, int increments, Path counter, Path history)
            throws InterruptedException, ExecutionException {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<Future<?>>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < increments; i++) {
                        long fence = lock.lockAndGetFence();
                        try {
                            increment(counter, history, fence);
                        } finally {
                            lock.unlock();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> thread : done) {
                thread.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return "COUNTED " + lock.name() + " " + threads * increments;
    }

    private static void increment(Path counter, Path history, long fence) throws IOException {
        long value = 0;
        if (Files.exists(counter)) {
            String[] valueAndFence = new String(Files.readAllBytes(counter), StandardCharsets.UTF_8).trim().split(" ");
            value = Long.parseLong(valueAndFence[0]);
            long lastFence = Long.parseLong(valueAndFence[1]);
            if (fence <= lastFence) {
                throw new IllegalStateException("stale holder: fence " + fence + " is not above the last writer's "
                        + lastFence);
            }
        }
        value++;
        Files.write(counter, (value + " " + fence).getBytes(StandardCharsets.UTF_8));
        Files.write(history, (fence + " " + value + "\n").getBytes(StandardCharsets.UTF_8),
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
