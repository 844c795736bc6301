package org.openmrs.jmh;

import java.util.concurrent.locks.LockSupport;

/**
 * Runs an operation on a thread of its own at a steady {@value #RATE} a second, in ticks of about
 * 200 µs: the background load of the latency benchmarks.
 */
final class Pacer implements Runnable {

    static final int RATE = 10_000;

    private final String label;
    private final Runnable publishOne;
    private final Thread thread;
    private volatile boolean stopped;
    private final long start = System.nanoTime();
    private volatile long sent;
    private volatile RuntimeException failure;
    private boolean reported;

    private Pacer(String label, Runnable publishOne) {
        this.label = label;
        this.publishOne = publishOne;
        this.thread = new Thread(this, "paced-publisher-" + label);
        thread.setDaemon(true);
    }

    static Pacer start(String label, Runnable publishOne) {
        Pacer pacer = new Pacer(label, publishOne);
        pacer.thread.start();
        return pacer;
    }

    @Override
    public void run() {
        long count = 0;
        try {
            while (!stopped) {
                long due = (System.nanoTime() - start) * RATE / 1_000_000_000L;
                while (count < due && !stopped) {
                    publishOne.run();
                    sent = ++count;
                }
                LockSupport.parkNanos(200_000);
            }
        } catch (RuntimeException e) {
            if (!stopped) {
                failure = e;
            }
        }
    }

    /** Stops the publisher, before its node closes, and prints the rate it kept. */
    void stop() throws InterruptedException {
        if (reported) {
            return;
        }
        reported = true;
        stopped = true;
        thread.join(10_000);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%npaced load (%s): %d fillers in %.1f s, %.0f/s%n", label, sent, seconds,
                sent / seconds);
        if (failure != null) {
            throw new IllegalStateException("the paced publisher failed", failure);
        }
    }
}
