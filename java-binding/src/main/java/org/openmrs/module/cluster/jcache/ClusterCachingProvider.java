package org.openmrs.module.cluster.jcache;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.WeakHashMap;

import javax.cache.CacheManager;
import javax.cache.configuration.OptionalFeature;
import javax.cache.spi.CachingProvider;

import org.openmrs.module.cluster.Cluster;

/**
 * The JCache (JSR-107) provider of openmrs-cluster: its caches are {@link
 * org.openmrs.module.cluster.ClusterCache}s of one node, so an entry put on one member is seen by
 * the others (docs/jcache.md). Listed in {@code META-INF/services/javax.cache.spi.CachingProvider},
 * so {@code Caching.getCachingProvider()} finds it.
 *
 * <p>Its cache managers use the node started last in this JVM ({@link Cluster#current()}). When
 * none is open, the first manager starts one from the {@code cluster.*} keys of the properties
 * given to {@link #getCacheManager(URI, ClassLoader, Properties)}, as {@link
 * Cluster#startFromProperties(Properties)} says: a member when they describe one, else an
 * embedded node of its own.
 * A node the providers started is closed by the {@link #close()} of the last provider using it.
 * The default properties are the JVM's
 * system properties whose names start with {@code cluster.}.
 */
public final class ClusterCachingProvider implements CachingProvider {

    /** Guarded by this. */
    private final Map<ClassLoader, Map<URI, ClusterJCacheManager>> managers =
            new WeakHashMap<ClassLoader, Map<URI, ClusterJCacheManager>>();
    /**
     * The node the providers of this class started, if they did, and those using it: {@code
     * Caching} makes one provider per class loader, and they all find it as Cluster.current().
     * Guarded by the class.
     */
    private static Cluster started;
    private static final Set<ClusterCachingProvider> USERS =
            Collections.newSetFromMap(new IdentityHashMap<ClusterCachingProvider, Boolean>());

    @Override
    public CacheManager getCacheManager(URI uri, ClassLoader classLoader, Properties properties) {
        URI managerUri = uri == null ? getDefaultURI() : uri;
        ClassLoader loader = classLoader == null ? getDefaultClassLoader() : classLoader;
        Properties given = properties == null ? new Properties() : properties;
        synchronized (this) {
            Map<URI, ClusterJCacheManager> byUri = managers.get(loader);
            if (byUri == null) {
                byUri = new HashMap<URI, ClusterJCacheManager>();
                managers.put(loader, byUri);
            }
            ClusterJCacheManager manager = byUri.get(managerUri);
            if (manager == null) {
                manager = new ClusterJCacheManager(this, node(given), managerUri, loader, given);
                byUri.put(managerUri, manager);
            }
            return manager;
        }
    }

    @Override
    public CacheManager getCacheManager(URI uri, ClassLoader classLoader) {
        return getCacheManager(uri, classLoader, getDefaultProperties());
    }

    @Override
    public CacheManager getCacheManager() {
        return getCacheManager(getDefaultURI(), getDefaultClassLoader(), getDefaultProperties());
    }

    @Override
    public ClassLoader getDefaultClassLoader() {
        return getClass().getClassLoader();
    }

    @Override
    public URI getDefaultURI() {
        return URI.create(getClass().getName());
    }

    /** The JVM's system properties whose names start with {@code cluster.}. */
    @Override
    public Properties getDefaultProperties() {
        Properties defaults = new Properties();
        Properties system = System.getProperties();
        for (String key : system.stringPropertyNames()) {
            if (key.startsWith("cluster.")) {
                defaults.setProperty(key, system.getProperty(key));
            }
        }
        return defaults;
    }

    /**
     * Closes every manager of this provider, and the node the providers started if no other
     * provider uses it.
     */
    @Override
    public void close() {
        List<ClusterJCacheManager> open = new ArrayList<ClusterJCacheManager>();
        synchronized (this) {
            for (Map<URI, ClusterJCacheManager> byUri : managers.values()) {
                open.addAll(byUri.values());
            }
            managers.clear();
        }
        for (ClusterJCacheManager manager : open) {
            manager.close();
        }
        Cluster unused = null;
        synchronized (ClusterCachingProvider.class) {
            if (USERS.remove(this) && USERS.isEmpty()) {
                unused = started;
                started = null;
            }
        }
        if (unused != null) {
            unused.close();
        }
    }

    @Override
    public void close(ClassLoader classLoader) {
        ClassLoader loader = classLoader == null ? getDefaultClassLoader() : classLoader;
        Map<URI, ClusterJCacheManager> byUri;
        synchronized (this) {
            byUri = managers.remove(loader);
        }
        if (byUri != null) {
            for (ClusterJCacheManager manager : byUri.values()) {
                manager.close();
            }
        }
    }

    @Override
    public void close(URI uri, ClassLoader classLoader) {
        ClusterJCacheManager manager;
        synchronized (this) {
            Map<URI, ClusterJCacheManager> byUri =
                    managers.get(classLoader == null ? getDefaultClassLoader() : classLoader);
            manager = byUri == null ? null : byUri.get(uri == null ? getDefaultURI() : uri);
        }
        if (manager != null) {
            manager.close();
        }
    }

    /** Only store-by-value: entries live as bytes, so that they can travel between nodes. */
    @Override
    public boolean isSupported(OptionalFeature optionalFeature) {
        return false;
    }

    /** Forgets a manager that closed, so that the next request for its URI gets a new one. */
    synchronized void released(ClusterJCacheManager manager) {
        Map<URI, ClusterJCacheManager> byUri = managers.get(manager.getClassLoader());
        if (byUri != null && byUri.get(manager.getURI()) == manager) {
            byUri.remove(manager.getURI());
            if (byUri.isEmpty()) {
                managers.remove(manager.getClassLoader());
            }
        }
    }

    private Cluster node(Properties properties) {
        synchronized (ClusterCachingProvider.class) {
            Cluster node;
            try {
                node = Cluster.current();
            } catch (IllegalStateException none) {
                node = Cluster.startFromProperties(properties);
                started = node;
            }
            if (node == started) {
                USERS.add(this);
            }
            return node;
        }
    }

    @Override
    public String toString() {
        return "ClusterCachingProvider";
    }
}
