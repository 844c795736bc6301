package org.openmrs.module.cluster.it;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenMRS webapp in a JVM of its own under jetty-runner, with a data directory of its own
 * (runtime properties, modules folder, log) and its output in the test logs.
 */
final class OpenMrsServer implements AutoCloseable {

    /** Three webapps starting at once on 2 cores took up to 110 s here. */
    private static final long START_MS = 300_000;

    private final String name;
    private final Path dataDir;
    private final int port;
    private final Path log;
    private Process process;

    OpenMrsServer(String name, Path root, int port) throws IOException {
        this.name = name;
        this.dataDir = Files.createDirectories(root.resolve(name));
        this.port = port;
        this.log = Files.createDirectories(java.nio.file.Paths.get(System.getProperty("openmrs.cluster.it.logs"))).resolve(name + ".log");
        Files.createDirectories(dataDir.resolve("modules"));
    }

    String name() {
        return name;
    }

    Path runtimeProperties() {
        return dataDir.resolve("openmrs-runtime.properties");
    }

    /** Drops the module, and the tests' probe module beside it, in this server's modules folder. */
    void installModule() throws IOException {
        for (Path module : new Path[] {omod(), java.nio.file.Paths.get(System.getProperty("openmrs.cluster.testOmod"))}) {
            Files.copy(module, dataDir.resolve("modules").resolve(module.getFileName()),
                    StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * The value this server serves for a global property, through OpenMRS's service (the probe
     * module); with {@code value}, after saving it.
     */
    String globalProperty(String name, String value) throws IOException {
        return body("/openmrs/ms/clustertest/globalProperty?name=" + name + (value == null ? "" : "&value=" + value));
    }

    /** What the probe module's GlobalPropertyListener on this server last heard of the property. */
    String heardGlobalProperty(String name) throws IOException {
        return body("/openmrs/ms/clustertest/globalProperty?heard&name=" + name);
    }

    /** Adds keys to this server's runtime properties, written by the install or copied in. */
    void setRuntimeProperties(Properties base, Properties extra) throws IOException {
        Properties all = new Properties();
        all.putAll(base);
        all.putAll(extra);
        try (OutputStream out = Files.newOutputStream(runtimeProperties())) {
            all.store(out, "written by the openmrs-cluster tests");
        }
    }

    Properties readRuntimeProperties() throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(runtimeProperties())) {
            p.load(in);
        }
        return p;
    }

    /**
     * Starts the webapp of {@code line} (2.7 or 2.9); with {@code installScript}, OpenMRS installs
     * its database from it at the first request (its setup wizard's auto-install).
     */
    void start(String line, Path installScript) throws IOException {
        List<String> command = new ArrayList<String>();
        command.add(new File(System.getProperty("java.home"), "bin/java").getPath());
        command.add("-Xmx768m");
        // Tomcat opens these by itself; jetty-runner does not, and a module's context refresh
        // then fails (../shared/openmrs/README.md).
        for (String pkg : new String[] {"java.lang", "java.io", "java.util", "java.util.concurrent"}) {
            command.add("--add-opens");
            command.add("java.base/" + pkg + "=ALL-UNNAMED");
        }
        command.add("-DOPENMRS_APPLICATION_DATA_DIRECTORY=" + dataDir + File.separator);
        if (installScript != null) {
            command.add("-DOPENMRS_INSTALLATION_SCRIPT=" + installScript);
        }
        command.add("-jar");
        command.add(System.getProperty("openmrs.cluster.jettyRunner"));
        command.add("--host");
        command.add("127.0.0.1");
        command.add("--port");
        command.add(String.valueOf(port));
        command.add("--path");
        command.add("/openmrs");
        command.add(System.getProperty("openmrs.cluster.war." + line));
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /**
     * Waits until OpenMRS has started its modules: the module's health URL answers (200 or 503),
     * or OpenMRS says the URL has no servlet (404) once its start page is served. Requests the
     * start page on the way, which begins an auto-install.
     *
     * @return the health URL's status: 404 when the module did not start
     */
    int awaitStarted() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_MS);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + "; see " + log);
            }
            // Followed to the setup wizard, this request begins an auto-install.
            if (status("/openmrs/", true) == 200) {
                int health = status("/openmrs/ms/cluster/health");
                if (health == 200 || health == 503) {
                    return health;
                }
                if (health == 404 && startedWithoutModule()) {
                    return 404;
                }
            }
            Thread.sleep(1000);
        }
        throw new AssertionError(name + " did not start within " + START_MS + " ms; see " + log);
    }

    /** OpenMRS logs this when the module's activator threw; it starts on without the module. */
    private boolean startedWithoutModule() throws IOException {
        return logText().contains("Error while trying to start module: cluster");
    }

    /** The status of a GET, or -1 while nothing answers. */
    int status(String path) {
        return status(path, false);
    }

    private int status(String path, boolean followRedirects) {
        try {
            HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + path).openConnection();
            c.setInstanceFollowRedirects(followRedirects);
            c.setConnectTimeout(2000);
            c.setReadTimeout(30_000);
            try {
                return c.getResponseCode();
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return -1;
        }
    }

    String body(String path) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + path).openConnection();
        c.setReadTimeout(30_000);
        int status = c.getResponseCode();
        InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
        if (in == null) {
            throw new AssertionError(name + " answered " + status + " with no body to GET " + path + "; see " + log);
        }
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            in.close();
        }
    }

    String logText() throws IOException {
        return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
    }

    Path log() {
        return log;
    }

    /** Ends the webapp's JVM at once, as a crash would (SIGKILL). */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** Stops the webapp (SIGTERM, then SIGKILL after 60 s) and waits for its JVM to end. */
    @Override
    public void close() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static Path omod() {
        return java.nio.file.Paths.get(System.getProperty("openmrs.cluster.omod"));
    }
}
