package org.openmrs.module.cluster.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import org.openmrs.module.cluster.CacheMode;
import org.openmrs.module.cluster.CacheOptions;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterCache;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/**
 * The {@link NodeProcess} commands of caches, whose keys and values are strings; {@code <mode>}
 * is REPLICATED or INVALIDATION (a cache is opened with its mode the first time):
 * <ul>
 * <li>{@code cput <cache> <mode> <key> <value>}: {@code CPUT <cache> <key> <epoch ms after the put>}</li>
 * <li>{@code cget <cache> <mode> <key>}: {@code CGET <cache> <key> <value, or null>}</li>
 * <li>{@code cwrite <cache> <mode> <keys> <writes>} (in the background): puts {@code "<node>:<i>"}
 * for i from 0 to writes-1, each under a random one of the keys {@code k0} to {@code k<keys-1>};
 * {@code CWROTE <cache> <writes> <ms>}</li>
 * <li>{@code cdump <cache> <mode> <keys>}: {@code CDUMP <cache> <size> k0=<value>,k1=<value>,...}</li>
 * <li>{@code cwatch <cache> <mode> <key> <old value> <ms>} (in the background): reads the key in a
 * loop for that long; {@code CWATCH <cache> <key> <epoch ms of the first read that was not the old
 * value, or -1> <reads> <reads of the old value after that> <last value>}</li>
 * <li>{@code oput <cache> <ttl ms, 0 for none> <key> <a,b,...>}: puts the words as an
 * {@code ArrayList} (a value the default codec Java-serializes) into a REPLICATED cache with that
 * time to live; {@code OPUT <cache> <key> <epoch ms after the put>}</li>
 * <li>{@code oget <cache> <ttl ms> <key>}: {@code OGET <cache> <key> <value, or null> <its class>}</li>
 * <li>{@code cload <cache> <key> <ms>} (in the background): {@code get(key, loader)} on a
 * REPLICATED cache, the loader taking that long to return {@code "<node>:<key>"}; {@code CLOAD
 * <cache> <key> <value> <loaded|found>}, loaded when this call's loader ran</li>
 * <li>{@code sname <id>}, {@code srename <id> <name>}, {@code spurge <id>}: call the
 * {@link CachedNameService} of a Spring context made on first use with {@link CachingConfig};
 * {@code SNAME <id> <name> <calls that reached the service>}, {@code SRENAMED <id>},
 * {@code SPURGED <id>}</li>
 * </ul>
 */
final class CacheCommands {

    static final String KNOWN = "cput, cget, cwrite, cdump, cwatch, oput, oget, cload, sname, srename, spurge";
    /** Commands that may take long, answered in the background. */
    static final Set<String> LONG_RUNNING = new HashSet<String>(Arrays.asList("cwrite", "cwatch", "cload"));

    private final Cluster cluster;
    private CachedNameService names;

    CacheCommands(Cluster cluster) {
        this.cluster = cluster;
    }

    /** The command for {@code words}, or null if it is not one of these. */
    NodeProcess.Command command(String[] words) {
        switch (words[0]) {
            case "cput":
                return () -> {
                    cache(words[1], words[2]).put(words[3], words[4]);
                    return "CPUT " + words[1] + " " + words[3] + " " + System.currentTimeMillis();
                };
            case "cget":
                return () -> "CGET " + words[1] + " " + words[3] + " " + cache(words[1], words[2]).get(words[3]);
            case "cwrite":
                return () -> write(cache(words[1], words[2]), Integer.parseInt(words[3]), Integer.parseInt(words[4]));
            case "cdump":
                return () -> dump(cache(words[1], words[2]), Integer.parseInt(words[3]));
            case "cwatch":
                return () -> watch(cache(words[1], words[2]), words[3], words[4], Long.parseLong(words[5]));
            case "oput":
                return () -> {
                    objects(words[1], Long.parseLong(words[2]))
                            .put(words[3], new ArrayList<String>(Arrays.asList(words[4].split(","))));
                    return "OPUT " + words[1] + " " + words[3] + " " + System.currentTimeMillis();
                };
            case "oget":
                return () -> {
                    Object value = objects(words[1], Long.parseLong(words[2])).get(words[3]);
                    return "OGET " + words[1] + " " + words[3] + " " + value
                            + (value == null ? "" : " " + value.getClass().getName());
                };
            case "cload":
                return () -> {
                    AtomicBoolean loaded = new AtomicBoolean();
                    String value = cache(words[1], "REPLICATED").get(words[2], key -> {
                        loaded.set(true);
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Long.parseLong(words[3])));
                        return cluster.nodeName() + ":" + key;
                    });
                    return "CLOAD " + words[1] + " " + words[2] + " " + value + " "
                            + (loaded.get() ? "loaded" : "found");
                };
            case "sname":
                return () -> {
                    String name = names().name(words[1]);
                    return "SNAME " + words[1] + " " + name + " " + names().calls();
                };
            case "srename":
                return () -> {
                    names().rename(words[1], words[2]);
                    return "SRENAMED " + words[1];
                };
            case "spurge":
                return () -> {
                    names().purge(words[1]);
                    return "SPURGED " + words[1];
                };
            default:
                return null;
        }
    }

    private ClusterCache<String, String> cache(String name, String mode) {
        return cluster.cache(name, CacheOptions.builder().mode(CacheMode.valueOf(mode)).build());
    }

    private ClusterCache<String, ArrayList<String>> objects(String name, long ttlMs) {
        CacheOptions.Builder options = CacheOptions.builder();
        if (ttlMs > 0) {
            options.timeToLive(Duration.ofMillis(ttlMs));
        }
        return cluster.cache(name, options.build());
    }

    private String write(ClusterCache<String, String> cache, int keys, int writes) {
        long start = System.nanoTime();
        for (int i = 0; i < writes; i++) {
            cache.put("k" + ThreadLocalRandom.current().nextInt(keys), cluster.nodeName() + ":" + i);
        }
        return "CWROTE " + cache.name() + " " + writes + " " + (System.nanoTime() - start) / 1_000_000;
    }

    private static String dump(ClusterCache<String, String> cache, int keys) {
        List<String> entries = new ArrayList<String>();
        for (int i = 0; i < keys; i++) {
            entries.add("k" + i + "=" + cache.get("k" + i));
        }
        return "CDUMP " + cache.name() + " " + cache.size() + " " + String.join(",", entries);
    }

    private static String watch(ClusterCache<String, String> cache, String key, String old, long ms) {
        long end = System.currentTimeMillis() + ms;
        long changedAt = -1;
        long reads = 0;
        long oldAfterChange = 0;
        String value;
        do {
            value = cache.get(key);
            reads++;
            if (!old.equals(value) && changedAt < 0) {
                changedAt = System.currentTimeMillis();
            } else if (old.equals(value) && changedAt >= 0) {
                oldAfterChange++;
            }
        } while (System.currentTimeMillis() < end);
        return "CWATCH " + cache.name() + " " + key + " " + changedAt + " " + reads + " " + oldAfterChange + " " + value;
    }

    private synchronized CachedNameService names() {
        if (names == null) {
            // Closed with the JVM: it lives as long as the node it caches on.
            @SuppressWarnings("resource")
            AnnotationConfigApplicationContext spring = new AnnotationConfigApplicationContext(CachingConfig.class);
            names = spring.getBean(CachedNameService.class);
        }
        return names;
    }
}
