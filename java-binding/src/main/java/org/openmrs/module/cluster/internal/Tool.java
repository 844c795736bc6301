package org.openmrs.module.cluster.internal;

import java.io.PrintStream;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * What {@code java -jar openmrs-cluster-<version>.jar} runs. {@code secret} prints a new cluster
 * secret: 32 random bytes in base64, far beyond what an offline guesser can search, so the keys
 * derived from it are as strong as the ciphers. Not part of the public API.
 */
public final class Tool {

    private static final int SECRET_BYTES = 32;

    private Tool() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 1 && "secret".equals(args[0])) {
            out.println(newSecret());
            return 0;
        }
        err.println("usage: java -jar openmrs-cluster-<version>.jar secret");
        err.println("  secret   prints a new random cluster.secret (32 bytes, base64); give every node the same one");
        return 2;
    }

    /** A new secret: 32 random bytes in base64. */
    public static String newSecret() {
        byte[] bytes = new byte[SECRET_BYTES];
        new SecureRandom().nextBytes(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }
}
