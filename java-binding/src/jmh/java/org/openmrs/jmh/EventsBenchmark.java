package org.openmrs.jmh;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.topic.ITopic;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Events across 3 nodes on loopback, ours side by side with Hazelcast 5.4.0's {@code ITopic} and
 * {@code ReliableTopic}, in one run ({@code gradle jmh -PjmhArgs=EventsBenchmark}).
 * <p>
 * Ours is this JVM's node, the publisher, and two child JVMs ({@link EventsBenchNode}): one echoes
 * each ping back on a reply topic, the other only receives. Hazelcast's ITopic runs the same way
 * ({@code *AcrossJvms}: a member in this JVM and two child JVMs, the same protocol), and, as in
 * earlier runs, as three members in this JVM (which talk over loopback TCP all the same): the
 * publisher is member 0, the echo listener is on member 1, a counting listener on member 2, the
 * reply listener on member 0.
 * <ul>
 * <li>{@code *RoundTrip}: publish one ping and wait for its echo, one at a time: the time is a
 * round trip, publish-to-deliver there and back (about twice a one-way publish-to-deliver);</li>
 * <li>{@code *RoundTripAt10k} (ours and ITopic): the same while another thread of the publisher's
 * node publishes fillers on the same topic at a steady 10,000 a second (in ticks of about 200 µs),
 * which both other nodes receive. ReliableTopic is left out: one thread publishes only about
 * 2,500 a second to it here, each publish waiting for its ringbuffer write;</li>
 * <li>{@code *Throughput}: one thread publishes batches of {@value #BATCH} messages; after each batch
 * it waits until both other nodes' listeners have received the whole previous one (two batches at
 * most on their way); the score is messages delivered (to each of the two nodes) per second. Ours
 * learns that from a marker published after each batch, which each child answers with its count
 * (checked against what was sent), and so does Hazelcast across JVMs; with Hazelcast's members in
 * this JVM, the publisher reads its listeners' counters directly.</li>
 * </ul>
 */
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class EventsBenchmark {

    static final String PING = "bench.ping";
    static final String PONG = "bench.pong";
    static final String FLOOD = "bench.flood";
    static final String ACK = "bench.ack";
    static final long FILLER = -1;
    static final int BATCH = 1000;

    private static final int NODES = 3;
    private static final long START_TIMEOUT_MS = 30_000;
    private static final long WAIT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    /** Waits until {@code done}, parked between checks (an unpark wakes it), for at most 10 s. */
    static void await(BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + WAIT_TIMEOUT_NS;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no " + what + " within 10 s");
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** The publisher's end of the round trips: the reply listener hands each echo to the waiting thread. */
    static final class Pongs {
        private volatile long last = -1;
        private volatile Thread waiter;
        private long next;

        void received(long ping) {
            last = ping;
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }

        /** Publishes the next ping and waits for its echo. */
        void roundTrip(LongConsumer publish) {
            long ping = next++;
            waiter = Thread.currentThread();
            publish.accept(ping);
            await(() -> last >= ping, "echo of ping " + ping);
        }

        /** Pings every 200 ms until one is echoed: the listeners and the membership views are in place. */
        void awaitFirstEcho(LongConsumer publish) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
            while (true) {
                long ping = next++;
                waiter = Thread.currentThread();
                publish.accept(ping);
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
                while (last < ping && System.nanoTime() < until) {
                    LockSupport.parkNanos(1_000_000);
                }
                if (last >= ping) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no ping echoed within " + START_TIMEOUT_MS + " ms");
                }
            }
        }
    }

    /** Counts what a Hazelcast listener receives and wakes the publisher once a target is reached. */
    static final class Counter {
        private final AtomicLong count = new AtomicLong();
        private volatile long target = Long.MAX_VALUE;
        private volatile Thread waiter;

        void received() {
            if (count.incrementAndGet() >= target) {
                Thread w = waiter;
                if (w != null) {
                    LockSupport.unpark(w);
                }
            }
        }

        void expect(long total) {
            waiter = Thread.currentThread();
            target = total;
        }

        long count() {
            return count.get();
        }
    }

    /**
     * This JVM's node and two child JVMs ({@link EventsBenchNode}), one cluster of the system
     * {@link #system()} names, its listeners in place.
     */
    public abstract static class ThreeJvms {

        private final List<Process> children = new ArrayList<>();
        private final Pongs pongs = new Pongs();
        /** Per child node: {marker, count} of its last acknowledgement. */
        private final Map<String, long[]> acks = new ConcurrentHashMap<>();
        private final List<String> childNames = Arrays.asList("bench2", "bench3");
        /** The messages each child must have counted when it answers a marker of a batch. */
        private final Map<Long, Long> expectedAtMarker = new ConcurrentHashMap<>();
        private volatile String miscount;
        private volatile Thread floodWaiter;
        private BenchTopics node;
        private Pacer load;
        private long sent;
        private long markers;
        private long pendingMarker;

        /** {@code ours} or {@code hazelcast}: see {@link BenchTopics#start}. */
        abstract String system();

        @Setup(Level.Trial)
        public void start() throws Exception {
            String clusterName = "bench-events-" + UUID.randomUUID();
            node = BenchTopics.start(system(), clusterName, "bench1", null);
            node.<Long>subscribe(PONG, pongs::received);
            node.<String>subscribe(ACK, this::acknowledged);
            String seed = node.address();
            children.add(launch(system(), clusterName, "bench2", seed, "echo"));
            children.add(launch(system(), clusterName, "bench3", seed, "count"));
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MS);
            while (node.members() < NODES) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no cluster of " + NODES + ": " + node.members() + " members");
                }
                Thread.sleep(50);
            }
            pongs.awaitFirstEcho(ping -> node.publish(PING, ping));
            // A marker every 200 ms until both children answer one.
            while (!childNames.stream().allMatch(acks::containsKey)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no acknowledgement from both children: " + acks.keySet());
                }
                node.publish(FLOOD, -(++markers));
                Thread.sleep(200);
            }
        }

        private static Process launch(String system, String clusterName, String name, String seed, String role)
                throws Exception {
            List<String> command = new ArrayList<>(Arrays.asList(
                    new File(System.getProperty("java.home"), "bin/java").getPath(), "-Xmx256m", "-XX:+UseSerialGC"));
            // The access to JDK internals the jmh task gives this fork for Hazelcast, given on.
            for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (argument.startsWith("--add-")) {
                    command.add(argument);
                }
            }
            String logLevel = System.getProperty("openmrs.cluster.log.level");
            if (logLevel != null) {
                command.add("-Dopenmrs.cluster.log.level=" + logLevel);
            }
            command.addAll(Arrays.asList("-cp", System.getProperty("java.class.path"),
                    EventsBenchNode.class.getName(), system, clusterName, name, seed, role));
            File log = new File("build/jmh-logs", "events-" + system + "-" + name + ".log");
            if (!log.getParentFile().isDirectory() && !log.getParentFile().mkdirs()) {
                throw new IOException("cannot create " + log.getParentFile());
            }
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.to(log)).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (IOException e) {
                    return null;
                }
            }).get(START_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            if (line == null || !line.startsWith("READY ")) {
                process.destroyForcibly();
                throw new IllegalStateException(name + " did not start (" + line + "); its log: " + log);
            }
            return process;
        }

        private void acknowledged(String ack) {
            String[] w = ack.split(" ");
            long marker = Long.parseLong(w[1]);
            long counted = Long.parseLong(w[2]);
            Long expected = expectedAtMarker.get(marker);
            if (expected != null && counted != expected) {
                miscount = w[0] + " counted " + counted + " of the " + expected + " messages before marker " + marker;
            }
            acks.put(w[0], new long[] {marker, counted});
            Thread waiter = floodWaiter;
            if (waiter != null) {
                LockSupport.unpark(waiter);
            }
        }

        void roundTrip() {
            pongs.roundTrip(ping -> node.publish(PING, ping));
        }

        /**
         * Publishes a batch and its marker, then waits until both children have counted the whole
         * previous batch (answered its marker): at most two batches are on their way.
         */
        void flood() {
            floodWaiter = Thread.currentThread();
            for (int i = 0; i < BATCH; i++) {
                node.publish(FLOOD, sent++);
            }
            long marker = ++markers;
            expectedAtMarker.put(marker, sent);
            node.publish(FLOOD, -marker);
            long previous = pendingMarker;
            pendingMarker = marker;
            if (previous > 0) {
                await(() -> childNames.stream().allMatch(name -> acks.get(name)[0] >= previous),
                        "acknowledgement of marker " + previous);
                expectedAtMarker.remove(previous);
            }
            if (miscount != null) {
                throw new IllegalStateException(miscount);
            }
        }

        void startLoad() {
            load = Pacer.start(system() + " across JVMs", () -> node.publish(PING, FILLER));
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            if (load != null) {
                load.stop();
            }
            for (Process child : children) {
                try (Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8)) {
                    in.write("exit\n");
                } catch (IOException e) {
                    // Ended already.
                }
            }
            for (Process child : children) {
                if (!child.waitFor(10, TimeUnit.SECONDS)) {
                    child.destroyForcibly();
                }
            }
            node.close();
        }
    }

    /** Ours: this JVM's node and two child JVMs. */
    @State(Scope.Benchmark)
    public static class OurCluster extends ThreeJvms {
        @Override
        String system() {
            return "ours";
        }
    }

    /**
     * Hazelcast's ITopic the same way: a member in this JVM and one in each of two child JVMs, so
     * that both systems cross the same process boundaries.
     */
    @State(Scope.Benchmark)
    public static class HazelcastJvms extends ThreeJvms {
        @Override
        String system() {
            return "hazelcast";
        }
    }

    /** Three Hazelcast members in this JVM on loopback, with the listeners of ours on the other nodes. */
    static final class HazelcastSide {

        private final List<HazelcastInstance> members = new ArrayList<>();
        private final Pongs pongs = new Pongs();
        private final Counter[] counters = {new Counter(), new Counter()};
        private ITopic<Long> ping;
        private ITopic<Long> flood;
        private Pacer load;
        private long sent;

        HazelcastSide(BiFunction<HazelcastInstance, String, ITopic<Long>> topics) {
            String clusterName = "bench-events-" + UUID.randomUUID();
            for (int i = 0; i < NODES; i++) {
                members.add(Hazelcast.newHazelcastInstance(HazelcastLoopback.config(clusterName)));
            }
            ITopic<Long> echo = topics.apply(members.get(1), PONG);
            topics.apply(members.get(1), PING).addMessageListener(message -> {
                long value = message.getMessageObject();
                if (value >= 0) {
                    echo.publish(value);
                }
            });
            topics.apply(members.get(2), PING).addMessageListener(message -> { });
            topics.apply(members.get(0), PONG).addMessageListener(message -> pongs.received(message.getMessageObject()));
            for (int i = 0; i < counters.length; i++) {
                Counter counter = counters[i];
                topics.apply(members.get(i + 1), FLOOD).addMessageListener(message -> counter.received());
            }
            ping = topics.apply(members.get(0), PING);
            flood = topics.apply(members.get(0), FLOOD);
            pongs.awaitFirstEcho(ping::publish);
        }

        void roundTrip() {
            pongs.roundTrip(ping::publish);
        }

        /** As ours: publishes a batch, then waits until both listeners have the whole previous batch. */
        void flood() {
            long previous = sent;
            for (Counter counter : counters) {
                counter.expect(previous);
            }
            for (int i = 0; i < BATCH; i++) {
                flood.publish(sent++);
            }
            await(() -> counters[0].count() >= previous && counters[1].count() >= previous,
                    "delivery of " + previous);
        }

        void startLoad(String label) {
            load = Pacer.start(label, () -> ping.publish(FILLER));
        }

        void stop() throws InterruptedException {
            if (load != null) {
                load.stop();
            }
            members.forEach(member -> member.getLifecycleService().terminate());
        }
    }

    /** Hazelcast's ITopic (fire and forget to the members with listeners), default configuration. */
    @State(Scope.Benchmark)
    public static class HazelcastTopic {
        HazelcastSide side;

        @Setup(Level.Trial)
        public void start() {
            side = new HazelcastSide((member, name) -> member.getTopic(name));
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            side.stop();
        }
    }

    /** Hazelcast's ReliableTopic (a ringbuffer with a backup, read by the listeners), default configuration. */
    @State(Scope.Benchmark)
    public static class HazelcastReliableTopic {
        HazelcastSide side;

        @Setup(Level.Trial)
        public void start() {
            side = new HazelcastSide((member, name) -> member.getReliableTopic(name));
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            side.stop();
        }
    }

    /** Fillers from our publisher's node at 10,000 a second, for the trial (stopped by the cluster's teardown). */
    @State(Scope.Benchmark)
    public static class OurLoad {
        @Setup(Level.Trial)
        public void start(OurCluster ours) {
            ours.startLoad();
        }
    }

    /** The same for Hazelcast's member in this JVM of its three-JVM cluster. */
    @State(Scope.Benchmark)
    public static class HazelcastJvmsLoad {
        @Setup(Level.Trial)
        public void start(HazelcastJvms hazelcast) {
            hazelcast.startLoad();
        }
    }

    /** Fillers from Hazelcast's publishing member at 10,000 a second, for the trial (stopped likewise). */
    @State(Scope.Benchmark)
    public static class HazelcastTopicLoad {
        @Setup(Level.Trial)
        public void start(HazelcastTopic hazelcast) {
            hazelcast.side.startLoad("Hazelcast ITopic");
        }
    }

    // Round trip, one ping at a time.

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void ourRoundTrip(OurCluster ours) {
        ours.roundTrip();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void hazelcastTopicRoundTrip(HazelcastTopic hazelcast) {
        hazelcast.side.roundTrip();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void hazelcastTopicRoundTripAcrossJvms(HazelcastJvms hazelcast) {
        hazelcast.roundTrip();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void hazelcastReliableTopicRoundTrip(HazelcastReliableTopic hazelcast) {
        hazelcast.side.roundTrip();
    }

    // Round trip under a steady load of 10,000 fillers a second on the same topic.

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void ourRoundTripAt10k(OurCluster ours, OurLoad load) {
        ours.roundTrip();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void hazelcastTopicRoundTripAt10k(HazelcastTopic hazelcast, HazelcastTopicLoad load) {
        hazelcast.side.roundTrip();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void hazelcastTopicRoundTripAt10kAcrossJvms(HazelcastJvms hazelcast, HazelcastJvmsLoad load) {
        hazelcast.roundTrip();
    }

    // One publisher thread, messages delivered to both other nodes per second.

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public void ourThroughput(OurCluster ours) {
        ours.flood();
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public void hazelcastTopicThroughput(HazelcastTopic hazelcast) {
        hazelcast.side.flood();
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public void hazelcastReliableTopicThroughput(HazelcastReliableTopic hazelcast) {
        hazelcast.side.flood();
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public void hazelcastTopicThroughputAcrossJvms(HazelcastJvms hazelcast) {
        hazelcast.flood();
    }
}
