package org.openmrs.module.cluster.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import org.junit.Test;
import org.openmrs.module.cluster.ClusterConfig;

/** {@code java -jar openmrs-cluster-<version>.jar secret}, run on the built jar. */
public class ToolTest {

    @Test(timeout = 60_000)
    public void theJarPrintsANewRandomSecretEachTime() throws Exception {
        Run first = runJar("secret");
        Run second = runJar("secret");
        assertEquals(first.output, 0, first.exitCode);
        String secret = first.output.trim();
        assertEquals(32, Base64.getDecoder().decode(secret).length);
        assertNotEquals(secret, second.output.trim());
        assertEquals(secret, ClusterConfig.builder().secret(secret).build().secret().get());
    }

    @Test(timeout = 60_000)
    public void anythingElseShowsTheUsage() throws Exception {
        Run run = runJar();
        assertEquals(2, run.exitCode);
        assertTrue(run.output, run.output.contains("usage: java -jar openmrs-cluster-<version>.jar secret"));
    }

    private static Run runJar(String... args) throws IOException, InterruptedException {
        String jar = System.getProperty("openmrs.cluster.test.jar");
        assertTrue("system property openmrs.cluster.test.jar is not set: run this test through Gradle", jar != null);
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        String[] command = new String[args.length + 3];
        command[0] = java;
        command[1] = "-jar";
        command[2] = jar;
        System.arraycopy(args, 0, command, 3, args.length);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        assertTrue("the jar did not exit", process.waitFor(30, TimeUnit.SECONDS));
        return new Run(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }

    private static final class Run {
        final int exitCode;
        final String output;

        Run(int exitCode, String output) {
            this.exitCode = exitCode;
            this.output = output;
        }
    }
}
