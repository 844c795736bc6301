package org.openmrs.module.cluster.it;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.openmrs.module.cluster.Claim;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterCache;
import org.openmrs.module.cluster.ClusterQueue;
import org.openmrs.module.cluster.DeadLetter;

import com.example.untrusted.SideEffectOnRead;

/**
 * The {@link NodeProcess} commands that send a {@link SideEffectOnRead} (an object that appends
 * to the file {@code <marker>} wherever it is read) through events, caches and queues, each
 * followed by the string "after", and that look at what arrived:
 * <ul>
 * <li>{@code gpublish <topic> <marker>}: {@code GPUBLISHED <topic>}</li>
 * <li>{@code gput <cache> <key> <marker>}: puts it under the key and "after" under {@code <key>-after} of a
 * REPLICATED cache; {@code GPUT <cache> <key>}</li>
 * <li>{@code goffer <queue> <marker>}: {@code GOFFERED <queue>}</li>
 * <li>{@code listen <topic>}: records what arrives; {@code LISTENING <topic>}</li>
 * <li>{@code heard <topic>}: {@code HEARD <topic> <what arrived, comma-separated>}</li>
 * <li>{@code peek <cache> <key>}: {@code PEEK <cache> <key> <containsKey> <value, or null>}</li>
 * <li>{@code take <queue>} (in the background): polls up to 10 s and acknowledges;
 * {@code TAKEN <queue> <item, or none>}</li>
 * <li>{@code dead <queue>}: {@code DEAD <queue> <count> <node>: <reason>|...}, per dead letter the node
 * that set it aside and why</li>
 * </ul>
 */
final class PeerBytesCommands {

    static final String KNOWN = "gpublish, gput, goffer, listen, heard, peek, take, dead";
    /** Commands that may take long, answered in the background. */
    static final Set<String> LONG_RUNNING = new HashSet<String>(Arrays.asList("take"));

    private static final String AFTER = "after";
    private static final Duration TAKE_WAIT = Duration.ofSeconds(10);

    private final Cluster cluster;
    private final Map<String, List<String>> heard = new ConcurrentHashMap<String, List<String>>();

    PeerBytesCommands(Cluster cluster) {
        this.cluster = cluster;
    }

    /** The command for {@code words}, or null if it is not one of these. */
    NodeProcess.Command command(String[] words) {
        switch (words[0]) {
            case "gpublish":
                return () -> {
                    cluster.events().publish(words[1], new SideEffectOnRead(words[2]));
                    cluster.events().publish(words[1], AFTER);
                    return "GPUBLISHED " + words[1];
                };
            case "gput":
                return () -> {
                    cache(words[1]).put(words[2], new SideEffectOnRead(words[3]));
                    cache(words[1]).put(words[2] + "-" + AFTER, AFTER);
                    return "GPUT " + words[1] + " " + words[2];
                };
            case "goffer":
                return () -> {
                    queue(words[1]).offer(new SideEffectOnRead(words[2]));
                    queue(words[1]).offer(AFTER);
                    return "GOFFERED " + words[1];
                };
            case "listen":
                return () -> {
                    List<String> messages = new CopyOnWriteArrayList<String>();
                    heard.put(words[1], messages);
                    cluster.events().subscribe(words[1], message -> messages.add(String.valueOf(message)));
                    return "LISTENING " + words[1];
                };
            case "heard":
                return () -> "HEARD " + words[1] + " " + String.join(",", heard.get(words[1]));
            case "peek":
                return () -> "PEEK " + words[1] + " " + words[2] + " " + cache(words[1]).containsKey(words[2]) + " "
                        + cache(words[1]).get(words[2]);
            case "take":
                return () -> {
                    Optional<Claim<Serializable>> claim = queue(words[1]).poll(TAKE_WAIT);
                    claim.ifPresent(Claim::ack);
                    return "TAKEN " + words[1] + " " + (claim.isPresent() ? claim.get().item() : "none");
                };
            case "dead":
                return () -> {
                    List<String> reasons = new ArrayList<String>();
                    for (DeadLetter letter : queue(words[1]).deadLetters()) {
                        reasons.add(letter.node() + ": " + letter.reason());
                    }
                    return "DEAD " + words[1] + " " + reasons.size() + " " + String.join("|", reasons);
                };
            default:
                return null;
        }
    }

    private ClusterCache<String, Serializable> cache(String name) {
        return cluster.cache(name);
    }

    private ClusterQueue<Serializable> queue(String name) {
        return cluster.queue(name);
    }
}
