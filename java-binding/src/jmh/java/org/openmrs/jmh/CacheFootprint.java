package org.openmrs.jmh;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterCache;

/**
 * Bytes per entry: Java heap and native memory of our cache (an embedded node, every entry read
 * once so that the near cache holds it too), and the heap of a Caffeine cache with the same
 * entries. Run with {@code gradle cacheFootprint}, which gives the JVM a pre-touched fixed heap so
 * that the growth of the resident set is the native library's alone.
 */
public final class CacheFootprint {

    private static final int ENTRIES = 200_000;

    private CacheFootprint() {
    }

    public static void main(String[] args) throws Exception {
        try (Cluster node = Cluster.embedded()) {
            ClusterCache<String, String> cache = node.cache("footprint");
            long heap = heapUsed();
            long resident = residentAnonymous();
            for (int i = 0; i < ENTRIES; i++) {
                cache.put(key(i), value(i));
            }
            long afterPut = residentAnonymous();
            for (int i = 0; i < ENTRIES; i++) {
                cache.get(key(i));
            }
            report("ours, native store", afterPut - resident);
            report("ours, Java near cache", heapUsed() - heap);
        }
        long heap = heapUsed();
        Cache<String, String> caffeine = Caffeine.newBuilder().build();
        for (int i = 0; i < ENTRIES; i++) {
            caffeine.put(key(i), value(i));
        }
        report("Caffeine, Java heap", heapUsed() - heap);
        System.out.println("(keys 'key-<i>', values 100 ASCII characters; Caffeine has " + caffeine.estimatedSize()
                + " entries)");
    }

    private static String key(int i) {
        return "key-" + i;
    }

    private static String value(int i) {
        StringBuilder s = new StringBuilder(100).append(i);
        while (s.length() < 100) {
            s.append('v');
        }
        return s.toString();
    }

    private static void report(String what, long bytes) {
        System.out.printf("%-24s %6.0f bytes per entry (%d entries)%n", what, (double) bytes / ENTRIES, ENTRIES);
    }

    private static long heapUsed() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** RssAnon of this process, from /proc (Linux). */
    private static long residentAnonymous() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"), StandardCharsets.US_ASCII)) {
            if (line.startsWith("RssAnon:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no RssAnon in /proc/self/status");
    }
}
