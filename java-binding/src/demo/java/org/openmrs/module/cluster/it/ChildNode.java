package org.openmrs.module.cluster.it;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The parent's side of a {@link NodeProcess}: starts the child JVM, sends it commands and reads
 * its answers, each with a bound on the wait. An answer is taken by the first wait for its
 * prefix, whenever it came. The child's standard error goes to a log file.
 */
public final class ChildNode implements AutoCloseable {

    private static final String END_OF_OUTPUT = "\u0000end of output";
    private static final long ANSWER_TIMEOUT_MS = 10_000;
    private static final long POLL_INTERVAL_MS = 20;

    private final String label;
    private final Process process;
    private final File log;
    private final Writer commands;
    private final BlockingQueue<String> output = new LinkedBlockingQueue<String>();
    /** Lines read while waiting for another prefix; guarded by this. */
    private final List<String> unclaimed = new ArrayList<String>();
    private String name;
    private String address;
    private String error;

    private ChildNode(String label, Process process, File log) {
        this.label = label;
        this.process = process;
        this.log = log;
        this.commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::readOutput, "child-node-" + label);
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts a {@link NodeProcess} in a new JVM with {@code classpath} (the jar and this class)
     * and the {@code cluster.*} settings of {@code config}; its standard error replaces {@code log}.
     */
    public static ChildNode launch(String label, String classpath, Properties config, File log) throws IOException {
        List<String> command = new ArrayList<String>(Arrays.asList(
                new File(System.getProperty("java.home"), "bin/java").getPath(),
                "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        String logLevel = System.getProperty("openmrs.cluster.log.level");
        if (logLevel != null) {
            command.add("-Dopenmrs.cluster.log.level=" + logLevel);
        }
        command.addAll(Arrays.asList("-cp", classpath, NodeProcess.class.getName()));
        for (String key : new TreeSet<String>(config.stringPropertyNames())) {
            command.add(key + "=" + config.getProperty(key));
        }
        File logDir = log.getAbsoluteFile().getParentFile();
        if (!logDir.isDirectory() && !logDir.mkdirs()) {
            throw new IOException("cannot create " + logDir);
        }
        Process process = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.to(log))
                .start();
        return new ChildNode(label, process, log);
    }

    /**
     * Waits for the child's start to end: true once it is a member ({@link #name()} and
     * {@link #address()} are then known), false if its start failed ({@link #error()} says why).
     */
    public synchronized boolean awaitStart(long timeoutMs) {
        String line = nextLine(timeoutMs, "READY ", "ERROR ");
        if (line == null) {
            throw new IllegalStateException(label + ": not started within " + timeoutMs + " ms; its log: " + log);
        }
        if (line.startsWith("ERROR ")) {
            error = line.substring("ERROR ".length());
            return false;
        }
        String[] words = line.split(" ");
        name = words[1];
        address = words[2];
        return true;
    }

    /** The names of the members the child's node lists, sorted. */
    public List<String> members() {
        String names = ask("members", "MEMBERS").substring("MEMBERS".length()).trim();
        return names.isEmpty() ? Collections.<String>emptyList() : Arrays.asList(names.split(","));
    }

    /** Closes the child's node (it leaves the cluster); the JVM stays up until {@link #close()}. */
    public void closeNode() {
        ask("close", "CLOSED");
    }

    /**
     * Sends {@code command} (see {@link NodeProcess}) and waits up to 10 s for its answer, the next
     * line that starts with {@code answerPrefix}.
     *
     * @throws IllegalStateException if the child answers {@code ERROR} or nothing in time
     */
    public synchronized String ask(String command, String answerPrefix) {
        send(command);
        return await(answerPrefix, ANSWER_TIMEOUT_MS);
    }

    /** Sends {@code command} without waiting for its answer; see {@link #await}. */
    public synchronized void send(String command) {
        try {
            commands.write(command + "\n");
            commands.flush();
        } catch (IOException e) {
            throw new IllegalStateException(label + ": cannot send '" + command + "' (" + e.getMessage()
                    + "); is its JVM still running? Its log: " + log, e);
        }
    }

    /**
     * Waits up to {@code timeoutMs} for a line that starts with {@code prefix}.
     *
     * @throws IllegalStateException if the child answers {@code ERROR} or nothing in time
     */
    public synchronized String await(String prefix, long timeoutMs) {
        String line = poll(prefix, timeoutMs);
        if (line == null) {
            throw new IllegalStateException(label + ": no answer '" + prefix + "' within " + timeoutMs
                    + " ms; its log: " + log);
        }
        return line;
    }

    /**
     * Waits up to {@code timeoutMs} for a line that starts with {@code prefix}; null if none came.
     *
     * @throws IllegalStateException if the child answers {@code ERROR}
     */
    public synchronized String poll(String prefix, long timeoutMs) {
        String line = nextLine(timeoutMs, prefix, "ERROR ");
        if (line != null && line.startsWith("ERROR ")) {
            throw new IllegalStateException(label + ": answered " + line + " while '" + prefix + "' was awaited");
        }
        return line;
    }

    /**
     * Sends one line command (such as the event commands of {@code EventCommands}) and returns its
     * answer without {@code prefix}, waiting at most {@code timeoutMs}.
     */
    public synchronized String ask(String command, String prefix, long timeoutMs) {
        send(command);
        return await(prefix, timeoutMs).substring(prefix.length()).trim();
    }

    /** Kills the child's JVM at once, as a crash would: its node says no goodbye. */
    public void kill() {
        process.destroyForcibly();
        if (!waitForExit(10_000)) {
            throw new IllegalStateException(label + ": its JVM did not end within 10 s of being killed");
        }
    }

    /**
     * Tells the child's {@code main} to return, leaving its node open, and waits for its JVM to
     * end by itself.
     *
     * @return the JVM's exit status
     * @throws IllegalStateException if the JVM has not ended within 10 s
     */
    public int exit() {
        send("exit");
        if (!waitForExit(10_000)) {
            throw new IllegalStateException(label + ": its JVM did not end within 10 s of its main returning;"
                    + " a thread keeps it alive? Its log: " + log);
        }
        return process.exitValue();
    }

    /** Ends the child's JVM: as {@link #exit()} if it can, else as {@link #kill()}. */
    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                exit();
                return;
            } catch (IllegalStateException e) {
                // Killed below.
            }
        }
        kill();
    }

    public String label() {
        return label;
    }

    /** The child's JVM, for signals (its pid) that this Java 8 class cannot send itself. */
    public Process process() {
        return process;
    }

    /** The node's name, once {@link #awaitStart(long)} returned true. */
    public String name() {
        return name;
    }

    /** The node's {@code host:port}, once {@link #awaitStart(long)} returned true. */
    public String address() {
        return address;
    }

    /** Why the start failed, once {@link #awaitStart(long)} returned false. */
    public String error() {
        return error;
    }

    public File log() {
        return log;
    }

    /**
     * Polls {@code nodes} until each lists exactly {@code expected}, and returns, per node, the
     * milliseconds from {@code sinceNanos} ({@link System#nanoTime()}) to when it first did.
     *
     * @throws IllegalStateException naming what each late node listed, after {@code timeoutMs}
     */
    public static long[] awaitMembers(List<ChildNode> nodes, Set<String> expected, long sinceNanos, long timeoutMs) {
        long[] elapsed = new long[nodes.size()];
        Arrays.fill(elapsed, -1);
        List<String> late = new ArrayList<String>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            late.clear();
            for (int i = 0; i < nodes.size(); i++) {
                if (elapsed[i] < 0) {
                    List<String> seen = nodes.get(i).members();
                    if (new TreeSet<String>(seen).equals(expected) && seen.size() == expected.size()) {
                        elapsed[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
                    } else {
                        late.add(nodes.get(i).label + " lists " + seen);
                    }
                }
            }
            if (late.isEmpty()) {
                return elapsed;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("after " + timeoutMs + " ms, expected " + expected + " but " + late);
            }
            sleep(POLL_INTERVAL_MS);
        }
    }

    /** The first unclaimed line, or next line within {@code timeoutMs}, with one of the prefixes; else null. */
    private String nextLine(long timeoutMs, String... prefixes) {
        for (int i = 0; i < unclaimed.size(); i++) {
            if (startsWithAny(unclaimed.get(i), prefixes)) {
                return unclaimed.remove(i);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true) {
            String line;
            try {
                line = output.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(label + ": interrupted while waiting for an answer", e);
            }
            if (line == null || startsWithAny(line, prefixes)) {
                return line;
            }
            if (line.equals(END_OF_OUTPUT)) {
                output.add(END_OF_OUTPUT);
                throw new IllegalStateException(label + ": its JVM ended" + exitDescription() + "; its log: " + log);
            }
            unclaimed.add(line);
        }
    }

    private static boolean startsWithAny(String line, String... prefixes) {
        for (String prefix : prefixes) {
            if (line.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private String exitDescription() {
        return waitForExit(1000) ? " with status " + process.exitValue() : "";
    }

    private void readOutput() {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                output.add(line);
            }
        } catch (IOException e) {
            // The child's output ended with its JVM.
        } finally {
            output.add(END_OF_OUTPUT);
        }
    }

    private boolean waitForExit(long timeoutMs) {
        try {
            return process.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(label + ": interrupted while waiting for its JVM to end", e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while polling members", e);
        }
    }
}
