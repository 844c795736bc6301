package org.openmrs.module.cluster.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterConfig;
import org.openmrs.module.cluster.ClusterMember;

/**
 * A node in a JVM of its own, driven over its standard streams (see {@link ChildNode}). Its
 * configuration is the {@code cluster.*} system properties, overridden by {@code key=value}
 * arguments. It prints {@code READY <name> <address>} once a member, or {@code ERROR <message>}
 * and exits with status 1 if the start fails. Then it answers one line per command read:
 * {@code members} with {@code MEMBERS name1,name2,...}, {@code close} with {@code CLOSED} after
 * closing the node. On {@code exit}, or at the end of its input, {@code main} returns without
 * closing the node, as a forgetful application would: the JVM must still end, and the library's
 * shutdown hook close the node.
 */
public final class NodeProcess {

    private NodeProcess() {
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
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String command;
        while ((command = in.readLine()) != null && !command.trim().equals("exit")) {
            try {
                out.println(answer(cluster, command.trim()));
            } catch (RuntimeException e) {
                out.println("ERROR " + oneLine(e));
            }
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

    private static String answer(Cluster cluster, String command) {
        switch (command) {
            case "members":
                List<String> names = new ArrayList<String>();
                for (ClusterMember member : cluster.members()) {
                    names.add(member.name());
                }
                return "MEMBERS " + String.join(",", names);
            case "close":
                cluster.close();
                return "CLOSED";
            default:
                // Event commands live in EventCommands, so that this stays the membership driver.
                String events = EventCommands.answer(cluster, command);
                return events != null ? events
                        : "ERROR unknown command '" + command + "'; known: members, close, exit, " + EventCommands.KNOWN;
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

    private static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
        return message.replace('\n', ' ').replace('\r', ' ');
    }
}
