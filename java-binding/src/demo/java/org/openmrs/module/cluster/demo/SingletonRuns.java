package org.openmrs.module.cluster.demo;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.List;

/**
 * The runs file the demo's singleton task writes ({@code <node> <period> <start ms> <end ms>}
 * per run), and a daemon thread that prints each new run as it appears.
 */
final class SingletonRuns {

    private static final SimpleDateFormat TIME = new SimpleDateFormat("HH:mm:ss");

    private final File file;
    private final Thread printer;
    private volatile boolean stopped;
    private volatile String[] last;

    SingletonRuns(File file) {
        this.file = file;
        this.printer = new Thread(this::print, "demo-singleton-runs");
        this.printer.setDaemon(true);
    }

    File file() {
        return file;
    }

    void start() {
        printer.start();
    }

    void stop() {
        stopped = true;
        printer.interrupt();
        file.delete();
    }

    /** The node of the latest run, or "none yet". */
    String lastNode() {
        String[] run = last;
        return run == null ? "none yet" : run[0];
    }

    /** Waits for a run that started after {@code epochMs}: its words. */
    String[] awaitRunAfter(long epochMs, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            for (String line : lines()) {
                String[] run = line.split(" ");
                if (run.length == 4 && Long.parseLong(run[2]) > epochMs) {
                    return run;
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("the singleton did not run within " + timeoutMs + " ms");
    }

    private void print() {
        int printed = 0;
        while (!stopped) {
            List<String> lines = lines();
            for (; printed < lines.size(); printed++) {
                String[] run = lines.get(printed).split(" ");
                if (run.length == 4) {
                    last = run;
                    System.out.println("  [singleton 'report'] the run of " + TIME.format(new Date(Long.parseLong(run[2])))
                            + " ran on " + run[0]);
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private List<String> lines() {
        try {
            return file.exists() ? Files.readAllLines(file.toPath(), StandardCharsets.UTF_8)
                    : java.util.Collections.<String>emptyList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
    }
}
