package org.openmrs.module.cluster.it;

import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.rules.TestRule;
import org.junit.runner.Description;
import org.junit.runners.model.Statement;

/**
 * The nodes of one test, each in a JVM of its own, in a cluster of the test's own name; their
 * logs are named after the test. Every JVM still running when the test ends is killed.
 */
public final class ChildNodes implements TestRule {

    /** The secret of every test cluster: each node that others can join needs one. */
    static final String SECRET = "the secret of the test clusters";

    static final long START_TIMEOUT_MS = 30_000;

    private final String clusterName = "it-" + UUID.randomUUID();
    private final List<ChildNode> children = new ArrayList<>();
    private String testName;

    @Override
    public Statement apply(Statement test, Description description) {
        return new Statement() {
            @Override
            public void evaluate() throws Throwable {
                testName = description.getMethodName();
                try {
                    test.evaluate();
                } finally {
                    children.forEach(ChildNode::kill);
                }
            }
        };
    }

    /** Starts {@code count} nodes n1, n2, ... one after another, each joining through n1. */
    List<ChildNode> startOneAfterAnother(int count) throws IOException {
        List<ChildNode> nodes = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            Properties config = config("n" + i);
            if (!nodes.isEmpty()) {
                config.setProperty("cluster.seeds", nodes.get(0).address());
            }
            nodes.add(startAndAwait("n" + i, config));
        }
        return nodes;
    }

    /** Starts a node and waits until it is a member. */
    ChildNode startAndAwait(String name, Properties config) throws IOException {
        ChildNode node = launch(name, config);
        assertTrue(name + " did not start: " + node.error() + "; its log: " + node.log(),
                node.awaitStart(START_TIMEOUT_MS));
        return node;
    }

    /** Starts a node without waiting. */
    ChildNode launch(String name, Properties config) throws IOException {
        File log = new File(System.getProperty("openmrs.cluster.it.logs", "build/integration-logs"),
                testName + "-" + name + ".log");
        ChildNode node = ChildNode.launch(name, childClasspath(), config, log);
        children.add(node);
        return node;
    }

    /** The configuration of node {@code nodeName} of this test's cluster, bound to any loopback port. */
    Properties config(String nodeName) {
        Properties config = new Properties();
        config.setProperty("cluster.name", clusterName);
        config.setProperty("cluster.node.name", nodeName);
        config.setProperty("cluster.bind", "127.0.0.1:0");
        config.setProperty("cluster.secret", SECRET);
        return config;
    }

    /** Stops the node's JVM with SIGSTOP: it freezes, as under a long GC pause or a hung VM. */
    static void freeze(ChildNode node) throws IOException, InterruptedException {
        signal(node, "STOP");
    }

    /** Resumes a frozen node's JVM (SIGCONT). */
    static void thaw(ChildNode node) throws IOException, InterruptedException {
        signal(node, "CONT");
    }

    static Set<String> names(List<ChildNode> nodes) {
        return nodes.stream().map(ChildNode::name).collect(Collectors.toCollection(TreeSet::new));
    }

    static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    private static void signal(ChildNode node, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(node.process().pid()))
                .inheritIO().start();
        assertTrue("kill -" + signal + " of " + node.label() + " did not succeed",
                kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0);
    }

    private static String childClasspath() {
        String classpath = System.getProperty("openmrs.cluster.it.classpath");
        assertTrue("system property openmrs.cluster.it.classpath is not set: run this test through Gradle",
                classpath != null);
        return classpath;
    }
}
