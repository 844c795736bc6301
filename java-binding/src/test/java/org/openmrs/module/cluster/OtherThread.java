package org.openmrs.module.cluster;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a call on a thread of its own, as another owner of a lock would, so that a test can
 * interrupt it and collect its result or exception.
 */
public final class OtherThread<T> {

    private final FutureTask<T> task;
    private final Thread thread;

    private OtherThread(String name, Callable<T> call) {
        this.task = new FutureTask<>(call);
        this.thread = new Thread(task, name);
        thread.setDaemon(true);
    }

    /** Starts {@code call} on a new thread. */
    public static <T> OtherThread<T> start(String name, Callable<T> call) {
        OtherThread<T> other = new OtherThread<>(name, call);
        other.thread.start();
        return other;
    }

    /** Runs {@code call} on a new thread and returns its result. */
    public static <T> T run(String name, Callable<T> call) throws Exception {
        return start(name, call).result();
    }

    public void interrupt() {
        thread.interrupt();
    }

    /** Waits up to 10 s for the call's result; rethrows what it threw. */
    public T result() throws Exception {
        try {
            return task.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception) {
                throw (Exception) e.getCause();
            }
            throw e;
        } catch (TimeoutException e) {
            throw new AssertionError("thread '" + thread.getName() + "' did not finish within 10 s", e);
        }
    }
}
