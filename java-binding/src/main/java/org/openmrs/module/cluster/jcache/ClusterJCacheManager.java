package org.openmrs.module.cluster.jcache;

import java.lang.ref.WeakReference;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.configuration.CompleteConfiguration;
import javax.cache.configuration.Configuration;
import javax.cache.configuration.MutableConfiguration;
import javax.cache.spi.CachingProvider;

import org.openmrs.module.cluster.Cluster;

/**
 * The cache manager of one URI and class loader. Its caches live in the {@link
 * org.openmrs.module.cluster.ClusterCache}s of one node, named after the URI and the cache's name,
 * so that the managers of one URI on every member share their caches.
 */
public final class ClusterJCacheManager implements CacheManager {

    private static final Logger LOG = Logger.getLogger(ClusterJCacheManager.class.getName());

    private final ClusterCachingProvider provider;
    private final Cluster cluster;
    private final URI uri;
    private final WeakReference<ClassLoader> classLoader;
    private final Properties properties;
    /** The prefix of its cluster caches' and topics' names: a digest of the URI, short and of fixed length. */
    private final String prefix;
    private final ConcurrentMap<String, ClusterJCache<?, ?>> caches =
            new ConcurrentHashMap<String, ClusterJCache<?, ?>>();
    private volatile boolean closed;

    ClusterJCacheManager(ClusterCachingProvider provider, Cluster cluster, URI uri, ClassLoader classLoader,
            Properties properties) {
        this.provider = provider;
        this.cluster = cluster;
        this.uri = uri;
        this.classLoader = new WeakReference<ClassLoader>(classLoader);
        this.properties = properties;
        this.prefix = "jcache/" + UUID.nameUUIDFromBytes(uri.toString().getBytes(StandardCharsets.UTF_8)) + "/";
    }

    /** The node whose caches hold this manager's entries. */
    public Cluster cluster() {
        return cluster;
    }

    @Override
    public CachingProvider getCachingProvider() {
        return provider;
    }

    @Override
    public URI getURI() {
        return uri;
    }

    @Override
    public ClassLoader getClassLoader() {
        return classLoader.get();
    }

    @Override
    public Properties getProperties() {
        return properties;
    }

    /**
     * Creates the cache on this node; with a {@link ClusterCacheConfiguration}, in its cluster mode
     * and size bound. Every node that creates a cache of this name under this URI shares its entries.
     *
     * @throws CacheException if this manager has a cache of this name already
     */
    @Override
    public <K, V, C extends Configuration<K, V>> Cache<K, V> createCache(String cacheName, C configuration) {
        ensureOpen();
        Objects.requireNonNull(cacheName, "cacheName");
        Objects.requireNonNull(configuration, "configuration");
        ClusterCacheConfiguration<K, V> complete = completed(configuration);
        synchronized (caches) {
            if (caches.containsKey(cacheName)) {
                throw new CacheException("cache '" + cacheName + "' exists already in " + uri);
            }
            ClusterJCache<K, V> cache = new ClusterJCache<K, V>(this, cacheName, complete);
            caches.put(cacheName, cache);
            return cache;
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <K, V> Cache<K, V> getCache(String cacheName, Class<K> keyType, Class<V> valueType) {
        ensureOpen();
        Objects.requireNonNull(cacheName, "cacheName");
        Objects.requireNonNull(keyType, "keyType");
        Objects.requireNonNull(valueType, "valueType");
        ClusterJCache<?, ?> cache = caches.get(cacheName);
        if (cache == null) {
            return null;
        }
        CompleteConfiguration<?, ?> configuration = cache.configuration();
        if (!configuration.getKeyType().equals(keyType)) {
            throw new ClassCastException("cache '" + cacheName + "' has keys of " + configuration.getKeyType()
                    + ", not " + keyType);
        }
        if (!configuration.getValueType().equals(valueType)) {
            throw new ClassCastException("cache '" + cacheName + "' has values of " + configuration.getValueType()
                    + ", not " + valueType);
        }
        return (Cache<K, V>) cache;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <K, V> Cache<K, V> getCache(String cacheName) {
        ensureOpen();
        return (Cache<K, V>) caches.get(Objects.requireNonNull(cacheName, "cacheName"));
    }

    @Override
    public Iterable<String> getCacheNames() {
        ensureOpen();
        return Collections.unmodifiableSet(new LinkedHashSet<String>(caches.keySet()));
    }

    /**
     * Clears the cache on every node and closes it here: its name may then be created anew, with
     * another configuration (but on this node in the same cluster mode and size bound, which a
     * node's cluster cache keeps while it lives).
     */
    @Override
    public void destroyCache(String cacheName) {
        ensureOpen();
        ClusterJCache<?, ?> cache = caches.get(Objects.requireNonNull(cacheName, "cacheName"));
        if (cache != null) {
            cache.clear();
            cache.close();
        }
    }

    @Override
    public void enableManagement(String cacheName, boolean enabled) {
        ensureOpen();
        ClusterJCache<?, ?> cache = caches.get(Objects.requireNonNull(cacheName, "cacheName"));
        if (cache != null) {
            cache.enableManagement(enabled);
        }
    }

    @Override
    public void enableStatistics(String cacheName, boolean enabled) {
        ensureOpen();
        ClusterJCache<?, ?> cache = caches.get(Objects.requireNonNull(cacheName, "cacheName"));
        if (cache != null) {
            cache.enableStatistics(enabled);
        }
    }

    /** Closes its caches on this node; their entries stay in the cluster. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        provider.released(this);
        List<ClusterJCache<?, ?>> open;
        synchronized (caches) {
            open = new ArrayList<ClusterJCache<?, ?>>(caches.values());
        }
        for (ClusterJCache<?, ?> cache : open) {
            try {
                cache.close();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "closing cache '" + cache.getName() + "' failed", e);
            }
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public <T> T unwrap(Class<T> clazz) {
        if (clazz.isInstance(this)) {
            return clazz.cast(this);
        }
        if (clazz.isInstance(cluster)) {
            return clazz.cast(cluster);
        }
        throw new IllegalArgumentException("a cache manager cannot be unwrapped to " + clazz);
    }

    @Override
    public String toString() {
        return "ClusterJCacheManager{" + uri + " on node '" + cluster.nodeName() + "'}";
    }

    /** The name of the cluster cache, and of the topic of its listeners, behind a cache of this manager. */
    String clusterName(String cacheName) {
        return prefix + cacheName;
    }

    /** A closed cache leaves the manager, so that its name may be created again. */
    void released(ClusterJCache<?, ?> cache) {
        caches.remove(cache.getName(), cache);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("cache manager " + uri + " is closed");
        }
    }

    @SuppressWarnings("unchecked")
    private static <K, V> ClusterCacheConfiguration<K, V> completed(Configuration<K, V> configuration) {
        if (configuration instanceof CompleteConfiguration) {
            return new ClusterCacheConfiguration<K, V>((CompleteConfiguration<K, V>) configuration);
        }
        MutableConfiguration<K, V> basic = new MutableConfiguration<K, V>()
                .setTypes(configuration.getKeyType(), configuration.getValueType())
                .setStoreByValue(configuration.isStoreByValue());
        return new ClusterCacheConfiguration<K, V>(basic);
    }
}
