package org.openmrs.jmh;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterConfig;

/**
 * The child JVM of {@link EventsBenchmark}: a node that subscribes to the benchmark's topics, then
 * prints {@code READY <name>} and runs until its standard input ends (or says {@code exit}).
 * Arguments: {@code <cluster name> <node name> <seed host:port> <echo|count>}.
 * <ul>
 * <li>{@link EventsBenchmark#PING}: a ping (a {@code Long} of 0 or more) is published back on
 * {@link EventsBenchmark#PONG} by the {@code echo} node, ignored by the {@code count} node; a
 * filler ({@code -1}) is only counted;</li>
 * <li>{@link EventsBenchmark#FLOOD}: a message of 0 or more is counted; a marker {@code -m} (m of 1
 * or more) is answered on {@link EventsBenchmark#ACK} with {@code "<node> <m> <count so far>"}.</li>
 * </ul>
 */
public final class EventsBenchNode {

    private EventsBenchNode() {
    }

    public static void main(String[] args) throws IOException {
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        String name = args[1];
        boolean echo = args[3].equals("echo");
        Cluster cluster = Cluster.start(ClusterConfig.builder().clusterName(args[0]).nodeName(name)
                .seeds(args[2]).build());
        long[] fillers = new long[1];
        cluster.events().<Long>subscribe(EventsBenchmark.PING, ping -> {
            if (ping >= 0) {
                if (echo) {
                    cluster.events().publish(EventsBenchmark.PONG, ping);
                }
            } else {
                fillers[0]++;
            }
        });
        long[] flood = new long[1];
        cluster.events().<Long>subscribe(EventsBenchmark.FLOOD, message -> {
            if (message >= 0) {
                flood[0]++;
            } else {
                cluster.events().publish(EventsBenchmark.ACK, name + " " + -message + " " + flood[0]);
            }
        });
        out.println("READY " + name);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.trim().equals("exit")) {
            // Nothing else to do: the listeners work on the library's threads.
        }
        cluster.close();
        System.err.println(name + ": closed after " + fillers[0] + " fillers and " + flood[0] + " flood messages");
        System.exit(0);
    }
}
