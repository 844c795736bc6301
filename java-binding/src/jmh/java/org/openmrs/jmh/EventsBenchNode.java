package org.openmrs.jmh;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A child JVM of {@link EventsBenchmark}: a node, ours or a Hazelcast member, that subscribes to
 * the benchmark's topics, then prints {@code READY <name>} and runs until its standard input ends
 * (or says {@code exit}). Arguments: {@code <ours|hazelcast> <cluster name> <node name>
 * <seed host:port> <echo|count>}.
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
        String name = args[2];
        boolean echo = args[4].equals("echo");
        BenchTopics topics = BenchTopics.start(args[0], args[1], name, args[3]);
        long[] fillers = new long[1];
        topics.<Long>subscribe(EventsBenchmark.PING, ping -> {
            if (ping >= 0) {
                if (echo) {
                    topics.publish(EventsBenchmark.PONG, ping);
                }
            } else {
                fillers[0]++;
            }
        });
        long[] flood = new long[1];
        topics.<Long>subscribe(EventsBenchmark.FLOOD, message -> {
            if (message >= 0) {
                flood[0]++;
            } else {
                topics.publish(EventsBenchmark.ACK, name + " " + -message + " " + flood[0]);
            }
        });
        out.println("READY " + name);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.trim().equals("exit")) {
            // Nothing else to do: the listeners work on the library's threads.
        }
        topics.close();
        System.err.println(name + ": closed after " + fillers[0] + " fillers and " + flood[0] + " flood messages");
        System.exit(0);
    }
}
