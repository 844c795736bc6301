package org.openmrs.module.cluster.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterConfig;
import org.openmrs.module.cluster.ClusterLock;
import org.openmrs.module.cluster.ClusterMember;

/**
 * A node in a JVM of its own, driven over its standard streams (see {@link ChildNode}). Its
 * configuration is the {@code cluster.*} system properties, overridden by {@code key=value}
 * arguments. It prints {@code READY <name> <address>} once a member, or {@code ERROR <message>}
 * and exits with status 1 if the start fails. Then it reads one command a line:
 * <ul>
 * <li>{@code members}: answers {@code MEMBERS name1,name2,...}</li>
 * <li>{@code leader}: {@code LEADER <name>} of the consensus leader this node knows, or {@code LEADER none}</li>
 * <li>{@code close}: closes the node, then answers {@code CLOSED}</li>
 * <li>{@code lock <name>}: {@code LOCKED <name> <fence>} once granted</li>
 * <li>{@code unlock <name>}: {@code UNLOCK <name> ok}, or {@code UNLOCK <name> failed <exception>}</li>
 * <li>{@code held <name>}: {@code HELD <name> <isLockedByCurrentThread> <getLockCount>}</li>
 * <li>{@code count <name> <threads> <increments> <counter file> <history file>}: see
 * {@link SharedCounter}; {@code COUNTED <name> <increments made>} when every thread is done</li>
 * <li>{@code shed <name> <lockAtMostFor ms> <lockAtLeastFor ms> <task ms> <runs file>}: see
 * {@link ShedLockTask}; {@code SHED <name> ran} or {@code SHED <name> skipped}</li>
 * <li>{@code trylock <name> <wait ms>}: {@code TRYLOCK <name> <fence>} (0 if not acquired), or
 * {@code TRYLOCK <name> failed <exception>}</li>
 * <li>{@code stands <name>}: {@code STANDS <name> <isLockedByCurrentThread> <epoch ms after the
 * answer>}, or {@code STANDS <name> failed <exception>}</li>
 * <li>schedules, queues, panic and fault injection: see {@link CoordinationCommands}</li>
 * <li>caches, and Spring caching on them: see {@link CacheCommands}</li>
 * <li>objects of a class outside the allow-list sent through each: see {@link PeerBytesCommands}</li>
 * <li>JCache caches and their listeners: see {@link JCacheCommands}</li>
 * </ul>
 * {@code lock}, {@code trylock}, {@code unlock}, {@code held} and {@code stands} run one after another on one thread, so that
 * they concern one owner; they, {@code count} and {@code shed} answer when done, while later
 * commands are read. A command that fails answers {@code ERROR <exception>}. On {@code exit}, or
 * at the end of its input, {@code main} returns without closing the node, as a forgetful
 * application would: the JVM must still end, and the library's shutdown hook close the node.
 */
public final class NodeProcess {

    private final Cluster cluster;
    private final PrintStream out;
    private final ExecutorService lockOwner = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "lock-owner");
        thread.setDaemon(true);
        return thread;
    });

    private final CoordinationCommands coordination;
    private final CacheCommands caches;
    private final PeerBytesCommands peerBytes;
    private final JCacheCommands jcaches = new JCacheCommands();

    private NodeProcess(Cluster cluster, PrintStream out) {
        this.cluster = cluster;
        this.out = out;
        this.coordination = new CoordinationCommands(cluster);
        this.caches = new CacheCommands(cluster);
        this.peerBytes = new PeerBytesCommands(cluster);
    }

    public static void main(String[] args) throws IOException {
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        Cluster cluster;
        try {
            cluster = Cluster.start(ClusterConfig.fromProperties(config(args)));
        } catch (RuntimeException e) {
            out.println("ERROR " + oneLine(e));
            System.exit(1);
            return;
        }
        out.println("READY " + cluster.nodeName() + " " + localAddress(cluster));
        NodeProcess node = new NodeProcess(cluster, out);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String command;
        while ((command = in.readLine()) != null && !command.trim().equals("exit")) {
            node.handle(command.trim().split("\\s+"));
        }
    }

    private static Properties config(String[] args) {
        Properties config = new Properties();
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("cluster.")) {
                config.setProperty(name, System.getProperty(name));
            }
        }
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("arguments are key=value, got '" + arg + "'");
            }
            config.setProperty(arg.substring(0, eq), arg.substring(eq + 1));
        }
        return config;
    }

    private void handle(String[] words) {
        switch (words[0]) {
            case "members":
                answerNow(() -> "MEMBERS " + String.join(",", memberNames()));
                break;
            case "leader":
                answerNow(() -> {
                    String leader = cluster.status().leaderName();
                    return "LEADER " + (leader == null ? "none" : leader);
                });
                break;
            case "close":
                answerNow(() -> {
                    cluster.close();
                    return "CLOSED";
                });
                break;
            case "lock":
                answerAsOwner(() -> "LOCKED " + words[1] + " " + cluster.lock(words[1]).lockAndGetFence());
                break;
            case "unlock":
                answerAsOwner(() -> unlock(words[1]));
                break;
            case "held":
                answerAsOwner(() -> {
                    ClusterLock lock = cluster.lock(words[1]);
                    return "HELD " + words[1] + " " + lock.isLockedByCurrentThread() + " " + lock.getLockCount();
                });
                break;
            case "count":
                answerInBackground(() -> SharedCounter.count(cluster.lock(words[1]), Integer.parseInt(words[2]),
                        Integer.parseInt(words[3]), Paths.get(words[4]), Paths.get(words[5])));
                break;
            case "shed":
                answerInBackground(() -> ShedLockTask.execute(cluster, words[1], Long.parseLong(words[2]),
                        Long.parseLong(words[3]), Long.parseLong(words[4]), Paths.get(words[5])));
                break;
            case "trylock":
                answerAsOwner(() -> {
                    try {
                        long fence = cluster.lock(words[1]).tryLockAndGetFence(Long.parseLong(words[2]),
                                TimeUnit.MILLISECONDS);
                        return "TRYLOCK " + words[1] + " " + fence;
                    } catch (RuntimeException e) {
                        return "TRYLOCK " + words[1] + " failed " + oneLine(e);
                    }
                });
                break;
            case "stands":
                answerAsOwner(() -> {
                    try {
                        boolean stands = cluster.lock(words[1]).isLockedByCurrentThread();
                        return "STANDS " + words[1] + " " + stands + " " + System.currentTimeMillis();
                    } catch (RuntimeException e) {
                        return "STANDS " + words[1] + " failed " + oneLine(e);
                    }
                });
                break;
            default:
                String events = EventCommands.answer(cluster, String.join(" ", words));
                if (events != null) {
                    out.println(events);
                    return;
                }
                Command command = coordination.command(words);
                if (command == null) {
                    command = caches.command(words);
                }
                if (command == null) {
                    command = peerBytes.command(words);
                }
                if (command == null) {
                    command = jcaches.command(words);
                }
                if (command == null) {
                    out.println("ERROR unknown command '" + words[0] + "'; known: members, leader, close, lock,"
                            + " trylock, unlock, held, stands, count, shed, schedule, owner, offer, claim, drain,"
                            + " size, isolate, heal, panicked, exit, " + EventCommands.KNOWN + ", "
                            + CacheCommands.KNOWN + ", " + PeerBytesCommands.KNOWN + ", " + JCacheCommands.KNOWN);
                } else if (CoordinationCommands.LONG_RUNNING.contains(words[0])
                        || CacheCommands.LONG_RUNNING.contains(words[0])
                        || PeerBytesCommands.LONG_RUNNING.contains(words[0])) {
                    answerInBackground(command);
                } else {
                    answerNow(command);
                }
        }
    }

    private List<String> memberNames() {
        List<String> names = new ArrayList<String>();
        for (ClusterMember member : cluster.members()) {
            names.add(member.name());
        }
        return names;
    }

    private String unlock(String name) {
        try {
            cluster.lock(name).unlock();
            return "UNLOCK " + name + " ok";
        } catch (RuntimeException e) {
            return "UNLOCK " + name + " failed " + oneLine(e);
        }
    }

    /** A command's work, which returns its answer. */
    interface Command {
        String run() throws Throwable;
    }

    private void answerNow(Command command) {
        out.println(answer(command));
    }

    private void answerAsOwner(Command command) {
        lockOwner.execute(() -> answerNow(command));
    }

    private void answerInBackground(Command command) {
        Thread worker = new Thread(() -> answerNow(command), "command");
        worker.setDaemon(true);
        worker.start();
    }

    private static String answer(Command command) {
        try {
            return command.run();
        } catch (Throwable e) {
            return "ERROR " + oneLine(e);
        }
    }

    private static String localAddress(Cluster cluster) {
        for (ClusterMember member : cluster.members()) {
            if (member.isLocal()) {
                return member.address();
            }
        }
        throw new IllegalStateException("node '" + cluster.nodeName() + "' does not list itself as a member");
    }

    /** The exception's class and message on one line. */
    private static String oneLine(Throwable e) {
        return e.toString().replace('\n', ' ').replace('\r', ' ');
    }
}
