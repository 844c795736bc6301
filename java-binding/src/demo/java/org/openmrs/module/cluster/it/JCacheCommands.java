package org.openmrs.module.cluster.it;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import javax.cache.Cache;
import javax.cache.CacheManager;
import javax.cache.Caching;
import javax.cache.configuration.FactoryBuilder;
import javax.cache.configuration.MutableCacheEntryListenerConfiguration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;

/**
 * The {@link NodeProcess} commands of JCache caches (string keys and values) of the JVM's
 * {@code ClusterCachingProvider}, whose manager uses this JVM's node:
 * <ul>
 * <li>{@code jopen <cache>}: creates the cache with a listener that records every event it hears;
 * {@code JOPENED <cache>}</li>
 * <li>{@code jput <cache> <key> <value>}: {@code JPUT <cache> <key>}</li>
 * <li>{@code jabsent <cache> <key> <value>}: putIfAbsent; {@code JABSENT <cache> <key> <true|false>}</li>
 * <li>{@code jremove <cache> <key>}: {@code JREMOVE <cache> <key> <true|false>}</li>
 * <li>{@code jget <cache> <key>}: {@code JGET <cache> <key> <value, or null>}</li>
 * <li>{@code jheard <cache>}: {@code JHEARD <cache> <TYPE:key:value,...>} in the order heard</li>
 * </ul>
 */
final class JCacheCommands {

    static final String KNOWN = "jopen, jput, jabsent, jremove, jget, jheard";

    /** Per cache, the events its listener heard, as TYPE:key:value. */
    private static final ConcurrentMap<String, List<String>> HEARD = new ConcurrentHashMap<String, List<String>>();

    private final ConcurrentMap<String, Cache<String, String>> caches =
            new ConcurrentHashMap<String, Cache<String, String>>();

    /** The command for {@code words}, or null if it is not one of these. */
    NodeProcess.Command command(String[] words) {
        switch (words[0]) {
            case "jopen":
                return () -> {
                    open(words[1]);
                    return "JOPENED " + words[1];
                };
            case "jput":
                return () -> {
                    cache(words[1]).put(words[2], words[3]);
                    return "JPUT " + words[1] + " " + words[2];
                };
            case "jabsent":
                return () -> "JABSENT " + words[1] + " " + words[2] + " "
                        + cache(words[1]).putIfAbsent(words[2], words[3]);
            case "jremove":
                return () -> "JREMOVE " + words[1] + " " + words[2] + " " + cache(words[1]).remove(words[2]);
            case "jget":
                return () -> "JGET " + words[1] + " " + words[2] + " " + cache(words[1]).get(words[2]);
            case "jheard":
                return () -> {
                    List<String> heard = HEARD.get(words[1]);
                    synchronized (heard) {
                        return "JHEARD " + words[1] + " " + String.join(",", heard);
                    }
                };
            default:
                return null;
        }
    }

    private void open(String name) {
        HEARD.put(name, new ArrayList<String>());
        CacheManager manager = Caching.getCachingProvider().getCacheManager();
        MutableConfiguration<String, String> configuration = new MutableConfiguration<String, String>()
                .setTypes(String.class, String.class)
                .addCacheEntryListenerConfiguration(new MutableCacheEntryListenerConfiguration<String, String>(
                        FactoryBuilder.factoryOf(new Recorder(name)), null, true, true));
        caches.put(name, manager.createCache(name, configuration));
    }

    private Cache<String, String> cache(String name) {
        Cache<String, String> cache = caches.get(name);
        if (cache == null) {
            throw new IllegalStateException("no cache '" + name + "': jopen it first");
        }
        return cache;
    }

    /** Records the events of one cache; serializable because listener factories may be. */
    private static final class Recorder implements CacheEntryCreatedListener<String, String>,
            CacheEntryUpdatedListener<String, String>, CacheEntryRemovedListener<String, String>, Serializable {

        private static final long serialVersionUID = 1L;
        private final String cache;

        Recorder(String cache) {
            this.cache = cache;
        }

        @Override
        public void onCreated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
            record(events);
        }

        @Override
        public void onUpdated(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
            record(events);
        }

        @Override
        public void onRemoved(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
            record(events);
        }

        private void record(Iterable<CacheEntryEvent<? extends String, ? extends String>> events) {
            List<String> heard = HEARD.get(cache);
            synchronized (heard) {
                for (CacheEntryEvent<? extends String, ? extends String> event : events) {
                    heard.add(event.getEventType() + ":" + event.getKey() + ":" + event.getValue());
                }
            }
        }
    }
}
