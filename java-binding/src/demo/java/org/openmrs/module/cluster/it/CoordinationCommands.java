package org.openmrs.module.cluster.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.openmrs.module.cluster.Claim;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterQueue;
import org.openmrs.module.cluster.ScheduledSingleton;
import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * The {@link NodeProcess} commands of scheduled singletons, queues, panic and fault injection:
 * <ul>
 * <li>{@code schedule <name> <period ms> <runs file>}: schedules a singleton whose task sleeps
 * {@value #TASK_MS} ms and then appends {@code <node> <period number> <start ms> <end ms>} to the
 * runs file; answers {@code SCHEDULED <name>}</li>
 * <li>{@code owner <name>}: {@code OWNER <name> <isRunningHere>}</li>
 * <li>{@code offer <queue> <n>}: offers the integers 0 to n-1; {@code OFFERED <queue> <n>}</li>
 * <li>{@code claim <queue> <k>}: claims k items and keeps them; {@code CLAIMED <queue> <items, comma-separated>}</li>
 * <li>{@code drain <queue> <file>} (in the background): polls and acknowledges until nothing came
 * for {@value #DRAIN_IDLE_MS} ms, appending {@code <node> <item> <ack ms>} per item to the file;
 * {@code DRAINED <queue> <count>}</li>
 * <li>{@code size <queue>}: {@code SIZE <queue> <size>}</li>
 * <li>{@code isolate <host:port>}: drops all traffic to and from that node; {@code ISOLATED <host:port>}</li>
 * <li>{@code heal}: undoes the isolations; {@code HEALED}</li>
 * <li>{@code panicked}: {@code PANICKED false}, or {@code PANICKED true <epoch ms> <reason>} once
 * the panic listener, registered at start, was called</li>
 * </ul>
 * Times are epoch milliseconds of this JVM, comparable across JVMs of one machine.
 */
final class CoordinationCommands {

    /** Commands that may take long, answered in the background. */
    static final Set<String> LONG_RUNNING = new HashSet<String>(Arrays.asList("drain", "claim"));

    private static final long TASK_MS = 100;
    private static final long DRAIN_IDLE_MS = 5_000;
    private static final Duration CLAIM_WAIT = Duration.ofSeconds(10);

    private final Cluster cluster;
    private final Map<String, ScheduledSingleton> schedules = new ConcurrentHashMap<String, ScheduledSingleton>();
    private final List<Claim<Integer>> kept = new ArrayList<Claim<Integer>>();
    private volatile String panic;

    CoordinationCommands(Cluster cluster) {
        this.cluster = cluster;
        cluster.onPanic(reason -> panic = System.currentTimeMillis() + " " + reason.replace('\n', ' '));
    }

    /** The command for {@code words}, or null if it is not one of these. */
    NodeProcess.Command command(String[] words) {
        switch (words[0]) {
            case "schedule":
                return () -> schedule(words[1], Long.parseLong(words[2]), Paths.get(words[3]));
            case "owner":
                return () -> "OWNER " + words[1] + " " + schedules.get(words[1]).isRunningHere();
            case "offer":
                return () -> offer(words[1], Integer.parseInt(words[2]));
            case "claim":
                return () -> claim(words[1], Integer.parseInt(words[2]));
            case "drain":
                return () -> drain(words[1], Paths.get(words[2]));
            case "size":
                return () -> "SIZE " + words[1] + " " + cluster.queue(words[1]).size();
            case "isolate":
                return () -> {
                    Native.faultIsolate(handle(), words[1]);
                    return "ISOLATED " + words[1];
                };
            case "heal":
                return () -> {
                    Native.faultHeal(handle());
                    return "HEALED";
                };
            case "panicked":
                return () -> panic == null ? "PANICKED false" : "PANICKED true " + panic;
            default:
                return null;
        }
    }

    private String schedule(String name, long periodMs, Path runs) {
        String node = cluster.nodeName();
        schedules.put(name, cluster.scheduler().scheduleSingleton(name, Duration.ofMillis(periodMs), () -> {
            long start = System.currentTimeMillis();
            try {
                Thread.sleep(TASK_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long end = System.currentTimeMillis();
            append(runs, node + " " + start / periodMs + " " + start + " " + end);
        }));
        return "SCHEDULED " + name;
    }

    private String offer(String queue, int count) {
        ClusterQueue<Integer> items = cluster.queue(queue);
        for (int i = 0; i < count; i++) {
            items.offer(i);
        }
        return "OFFERED " + queue + " " + count;
    }

    private String claim(String queue, int count) {
        ClusterQueue<Integer> items = cluster.queue(queue);
        List<Integer> claimed = new ArrayList<Integer>();
        for (int i = 0; i < count; i++) {
            Optional<Claim<Integer>> claim = items.poll(CLAIM_WAIT);
            if (!claim.isPresent()) {
                break;
            }
            synchronized (kept) {
                kept.add(claim.get());
            }
            claimed.add(claim.get().item());
        }
        return "CLAIMED " + queue + " " + join(claimed);
    }

    private String drain(String queue, Path file) {
        ClusterQueue<Integer> items = cluster.queue(queue);
        String node = cluster.nodeName();
        int count = 0;
        Optional<Claim<Integer>> claim;
        while ((claim = items.poll(Duration.ofMillis(DRAIN_IDLE_MS))).isPresent()) {
            claim.get().ack();
            append(file, node + " " + claim.get().item() + " " + System.currentTimeMillis());
            count++;
        }
        return "DRAINED " + queue + " " + count;
    }

    private long handle() {
        return NativeNode.of(cluster).handle();
    }

    private static String join(List<Integer> items) {
        StringBuilder joined = new StringBuilder();
        for (Integer item : items) {
            joined.append(joined.length() == 0 ? "" : ",").append(item);
        }
        return joined.toString();
    }

    /** Appends one line; O_APPEND writes of a line are not interleaved with other JVMs' on Linux. */
    private static void append(Path file, String line) {
        try {
            Files.write(file, (line + "\n").getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot append to " + file, e);
        }
    }
}
