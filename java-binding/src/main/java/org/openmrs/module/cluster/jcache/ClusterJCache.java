package org.openmrs.module.cluster.jcache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.Configuration;
import javax.cache.expiry.Duration;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheLoaderException;
import javax.cache.integration.CacheWriter;
import javax.cache.integration.CacheWriterException;
import javax.cache.integration.CompletionListener;
import javax.cache.processor.EntryProcessor;
import javax.cache.processor.EntryProcessorException;
import javax.cache.processor.EntryProcessorResult;

import org.openmrs.module.cluster.CacheOptions;
import org.openmrs.module.cluster.ClusterCache;
import org.openmrs.module.cluster.Subscription;

/**
 * A JCache {@link Cache} whose entries live in a {@link ClusterCache} of the manager's node, each
 * as a {@link Stored} value with its own expiry. What JSR-107 adds to a map (loaders, writers,
 * expiry policies, listeners, entry processors, statistics) runs here, in the calling thread.
 *
 * <p>Atomicity: each operation on a key holds this node's lock of the key's stripe from its read to
 * its write, so the conditional operations ({@code putIfAbsent}, {@code replace}, {@code
 * remove(k, v)}, {@code getAndPut}, {@code invoke}) are atomic among this node's callers. Across
 * nodes they are not: two nodes may both see a key absent and both put, and the later write wins
 * everywhere (the cluster cache's last-writer-wins). Guard them with a {@code ClusterLock} where
 * that matters (docs/jcache.md).
 *
 * <p>Listeners hear this node's changes before the operation returns, and the changes of the other
 * nodes that share the cache, which each node announces on the cache's topic.
 */
public final class ClusterJCache<K, V> implements Cache<K, V> {

    private static final Logger LOG = Logger.getLogger(ClusterJCache.class.getName());
    /** A power of two: keys share a lock only when their hashes agree in these bits. */
    private static final int STRIPES = 64;

    private final ClusterJCacheManager manager;
    private final String name;
    private final ClusterCacheConfiguration<K, V> configuration;
    private final ClusterCache<K, Stored> store;
    /** The topic on which the nodes sharing this cache announce their changes to listeners. */
    private final String topic;
    /** Tells this instance's announcements from the others'. */
    private final String id = UUID.randomUUID().toString();
    private final CacheLoader<K, V> loader;
    private final CacheWriter<K, V> writer;
    private final ExpiryPolicy expiry;
    private final Listeners<K, V> listeners = new Listeners<K, V>(this);
    private final CacheStatistics statistics;
    private final CacheConfigurationBean configurationBean;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    /** The other nodes' announcements, while this cache has listeners; guarded by listeners. */
    private Subscription announcements;
    /** Runs loadAll; started by the first; guarded by this. */
    private ExecutorService loading;
    private volatile boolean closed;

    @SuppressWarnings("unchecked")
    ClusterJCache(ClusterJCacheManager manager, String name, ClusterCacheConfiguration<K, V> configuration) {
        this.manager = manager;
        this.name = name;
        this.configuration = configuration;
        String clusterName = manager.clusterName(name);
        this.store = manager.cluster().cache(clusterName, options(configuration));
        this.topic = clusterName;
        this.statistics = new CacheStatistics(() -> store.stats().evictions());
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
        this.loader = configuration.getCacheLoaderFactory() == null ? null
                : configuration.getCacheLoaderFactory().create();
        // Writers take supertypes of K and V; as a writer of K and V, it gets the batches putAll makes.
        this.writer = configuration.isWriteThrough() && configuration.getCacheWriterFactory() != null
                ? (CacheWriter<K, V>) configuration.getCacheWriterFactory().create() : null;
        this.expiry = configuration.getExpiryPolicyFactory().create();
        for (CacheEntryListenerConfiguration<K, V> listener : configuration.getCacheEntryListenerConfigurations()) {
            listeners.register(listener);
        }
        listenToOthers();
        this.configurationBean = new CacheConfigurationBean(configuration);
        if (configuration.isManagementEnabled()) {
            enableManagement(true);
        }
        if (configuration.isStatisticsEnabled()) {
            enableStatistics(true);
        }
    }

    private static CacheOptions options(ClusterCacheConfiguration<?, ?> configuration) {
        CacheOptions.Builder options = CacheOptions.builder().mode(configuration.getMode());
        if (configuration.getMaxEntries() > 0) {
            options.maxEntries(configuration.getMaxEntries());
        }
        return options.build();
    }

    // ---- reads ----

    @Override
    public V get(K key) {
        ensureOpen();
        requireKey(key);
        return announced(key, changes -> getOrLoad(key, changes));
    }

    @Override
    public Map<K, V> getAll(Set<? extends K> keys) {
        ensureOpen();
        requireKeys(keys);
        Map<K, V> found = new HashMap<K, V>();
        List<Change> changes = new ArrayList<Change>();
        try {
            for (K key : keys) {
                V value = locked(key, () -> getOrLoad(key, changes));
                if (value != null) {
                    found.put(key, value);
                }
            }
        } finally {
            announce(changes);
        }
        return found;
    }

    /** Whether an unexpired entry exists; neither loads nor counts nor touches the entry's expiry. */
    @Override
    public boolean containsKey(K key) {
        ensureOpen();
        requireKey(key);
        Stored stored = store.get(key);
        return stored != null && !stored.isExpiredAt(System.currentTimeMillis());
    }

    /**
     * Loads the keys with the loader in a thread of this cache (all of them when {@code
     * replaceExistingValues}, else those absent), then tells {@code completionListener}.
     */
    @Override
    public void loadAll(Set<? extends K> keys, boolean replaceExistingValues, CompletionListener completionListener) {
        ensureOpen();
        requireKeys(keys);
        if (loader == null) {
            if (completionListener != null) {
                completionListener.onCompletion();
            }
            return;
        }
        final Set<K> requested = new LinkedHashSet<K>(keys);
        loadingThread().execute(() -> {
            try {
                loadNow(requested, replaceExistingValues);
                if (completionListener != null) {
                    completionListener.onCompletion();
                }
            } catch (Exception e) {
                if (completionListener != null) {
                    completionListener.onException(e);
                } else {
                    LOG.log(Level.WARNING, "loading keys into cache '" + name + "' failed", e);
                }
            }
        });
    }

    private void loadNow(Set<K> keys, boolean replaceExistingValues) {
        List<K> wanted = new ArrayList<K>();
        for (K key : keys) {
            if (replaceExistingValues || !containsKey(key)) {
                wanted.add(key);
            }
        }
        if (wanted.isEmpty()) {
            return;
        }
        Map<K, V> loaded;
        try {
            loaded = loader.loadAll(wanted);
        } catch (CacheLoaderException e) {
            throw e;
        } catch (Exception e) {
            throw new CacheLoaderException("the loader of cache '" + name + "' failed", e);
        }
        if (loaded == null) {
            return;
        }
        List<Change> changes = new ArrayList<Change>();
        try {
            for (K key : wanted) {
                V value = loaded.get(key);
                if (value != null) {
                    locked(key, () -> store(key, value, replaceExistingValues, false, changes));
                }
            }
        } finally {
            announce(changes);
        }
    }

    // ---- writes ----

    @Override
    public void put(K key, V value) {
        ensureOpen();
        requireEntry(key, value);
        long start = statistics.start();
        announced(key, changes -> {
            if (store(key, value, true, true, changes)) {
                statistics.put(start);
            }
            return null;
        });
    }

    @Override
    @SuppressWarnings("unchecked")
    public V getAndPut(K key, V value) {
        ensureOpen();
        requireEntry(key, value);
        long start = statistics.start();
        return announced(key, changes -> {
            Stored old = live(key, System.currentTimeMillis(), changes);
            boolean stored = store(key, value, true, true, changes);
            counted(old, start);
            if (stored) {
                statistics.put(start);
            }
            return old == null ? null : (V) Copies.of(old.value);
        });
    }

    /**
     * Writes through and stores each entry; when the writer fails, stores those it wrote (the ones
     * it removed from the collection it was given) and throws.
     */
    @Override
    public void putAll(Map<? extends K, ? extends V> map) {
        ensureOpen();
        Objects.requireNonNull(map, "map");
        for (Map.Entry<? extends K, ? extends V> entry : map.entrySet()) {
            requireEntry(entry.getKey(), entry.getValue());
        }
        long start = statistics.start();
        Map<K, V> toStore = new HashMap<K, V>(map);
        CacheWriterException failure = null;
        if (writer != null && !map.isEmpty()) {
            Collection<Cache.Entry<? extends K, ? extends V>> unwritten =
                    new ArrayList<Cache.Entry<? extends K, ? extends V>>();
            for (Map.Entry<? extends K, ? extends V> entry : map.entrySet()) {
                unwritten.add(new ClusterCacheEntry<K, V>(entry.getKey(), entry.getValue()));
            }
            failure = failureOf(() -> writer.writeAll(unwritten));
            for (Cache.Entry<? extends K, ? extends V> entry : unwritten) {
                toStore.remove(entry.getKey());
            }
        }
        List<Change> changes = new ArrayList<Change>();
        try {
            for (Map.Entry<K, V> entry : toStore.entrySet()) {
                if (locked(entry.getKey(), () -> store(entry.getKey(), entry.getValue(), true, false, changes))) {
                    statistics.put(start);
                }
            }
        } finally {
            announce(changes);
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public boolean putIfAbsent(K key, V value) {
        ensureOpen();
        requireEntry(key, value);
        long start = statistics.start();
        return announced(key, changes -> {
            if (live(key, System.currentTimeMillis(), changes) != null) {
                statistics.hit(start);
                return false;
            }
            boolean stored = store(key, value, false, true, changes);
            statistics.miss(start);
            if (stored) {
                statistics.put(start);
            }
            return stored;
        });
    }

    @Override
    public boolean remove(K key) {
        ensureOpen();
        requireKey(key);
        long start = statistics.start();
        return announced(key, changes -> {
            delete(key);
            return removed(key, unexpired(key, System.currentTimeMillis()), start, changes) != null;
        });
    }

    @Override
    public boolean remove(K key, V oldValue) {
        ensureOpen();
        requireEntry(key, oldValue);
        long start = statistics.start();
        return announced(key, changes -> {
            Stored old = matching(key, oldValue, System.currentTimeMillis(), start);
            if (old == null) {
                return false;
            }
            delete(key);
            return removed(key, old, start, changes) != null;
        });
    }

    @Override
    @SuppressWarnings("unchecked")
    public V getAndRemove(K key) {
        ensureOpen();
        requireKey(key);
        long start = statistics.start();
        return announced(key, changes -> {
            delete(key);
            Stored old = counted(unexpired(key, System.currentTimeMillis()), start);
            return (V) Copies.of(removed(key, old, start, changes));
        });
    }

    @Override
    public boolean replace(K key, V oldValue, V newValue) {
        ensureOpen();
        requireEntry(key, newValue);
        Objects.requireNonNull(oldValue, "oldValue");
        long start = statistics.start();
        return announced(key, changes -> {
            long now = System.currentTimeMillis();
            Stored old = matching(key, oldValue, now, start);
            if (old == null) {
                return false;
            }
            replaced(key, newValue, old, now, start, changes);
            return true;
        });
    }

    @Override
    public boolean replace(K key, V value) {
        return getAndReplace(key, value, false) != null;
    }

    @Override
    public V getAndReplace(K key, V value) {
        return getAndReplace(key, value, true);
    }

    /** Null when there was nothing to replace; else the old value, or the new one unless {@code returnsOld}. */
    @SuppressWarnings("unchecked")
    private V getAndReplace(K key, V value, boolean returnsOld) {
        ensureOpen();
        requireEntry(key, value);
        long start = statistics.start();
        return announced(key, changes -> {
            long now = System.currentTimeMillis();
            Stored old = counted(unexpired(key, now), start);
            if (old == null) {
                return null;
            }
            replaced(key, value, old, now, start, changes);
            return returnsOld ? (V) Copies.of(old.value) : value;
        });
    }

    /**
     * Deletes through and removes each key; when the writer fails, removes those it deleted (the
     * ones it removed from the collection it was given) and throws.
     */
    @Override
    public void removeAll(Set<? extends K> keys) {
        ensureOpen();
        requireKeys(keys);
        removeEach(new LinkedHashSet<K>(keys));
    }

    @Override
    public void removeAll() {
        ensureOpen();
        removeEach(new LinkedHashSet<K>(store.keys()));
    }

    private void removeEach(Set<K> keys) {
        long start = statistics.start();
        Set<K> toRemove = keys;
        CacheWriterException failure = null;
        if (writer != null && !keys.isEmpty()) {
            Set<K> undeleted = new LinkedHashSet<K>(keys);
            failure = failureOf(() -> writer.deleteAll(undeleted));
            toRemove = new LinkedHashSet<K>(keys);
            toRemove.removeAll(undeleted);
        }
        List<Change> changes = new ArrayList<Change>();
        try {
            for (K key : toRemove) {
                locked(key, () -> {
                    Stored old = live(key, System.currentTimeMillis(), changes);
                    return removed(key, old, start, changes);
                });
            }
        } finally {
            announce(changes);
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Empties the cache on every node, without listeners, writer or statistics. */
    @Override
    public void clear() {
        ensureOpen();
        store.clear();
    }

    // ---- entry processors ----

    @Override
    @SuppressWarnings("unchecked")
    public <T> T invoke(K key, EntryProcessor<K, V, T> entryProcessor, Object... arguments) {
        ensureOpen();
        requireKey(key);
        Objects.requireNonNull(entryProcessor, "entryProcessor");
        return announced(key, changes -> {
            long now = System.currentTimeMillis();
            Stored old = counted(live(key, now, changes), statistics.start());
            long start = statistics.start();
            V existing = old == null ? null : (V) Copies.of(old.value);
            ProcessorEntry<K, V> entry = new ProcessorEntry<K, V>(key, existing,
                    configuration.isReadThrough() ? loader : null);
            T result;
            try {
                result = entryProcessor.process(entry, arguments);
            } catch (CacheException e) {
                // The processor's own, or the loader's of a read-through getValue().
                throw e;
            } catch (Exception e) {
                throw new EntryProcessorException(e);
            }
            switch (entry.operation()) {
                case ACCESS:
                    touch(key, old, now);
                    break;
                case LOAD:
                    created(key, entry.getValue(), now, changes);
                    break;
                case CREATE:
                    write(key, entry.getValue());
                    if (created(key, entry.getValue(), now, changes)) {
                        statistics.put(start);
                    }
                    break;
                case UPDATE:
                    replaced(key, entry.getValue(), old, now, start, changes);
                    break;
                case REMOVE:
                    delete(key);
                    if (removed(key, old, start, changes) == null) {
                        // A processor's removal counts even when there was nothing, as in the RI.
                        statistics.removal(start);
                    }
                    break;
                default:
                    break;
            }
            return result;
        });
    }

    @Override
    public <T> Map<K, EntryProcessorResult<T>> invokeAll(Set<? extends K> keys, EntryProcessor<K, V, T> entryProcessor,
            Object... arguments) {
        ensureOpen();
        requireKeys(keys);
        Objects.requireNonNull(entryProcessor, "entryProcessor");
        Map<K, EntryProcessorResult<T>> results = new HashMap<K, EntryProcessorResult<T>>();
        for (K key : keys) {
            try {
                T result = invoke(key, entryProcessor, arguments);
                if (result != null) {
                    results.put(key, ProcessorResult.of(result));
                }
            } catch (RuntimeException e) {
                results.put(key, ProcessorResult.<T>failed(e instanceof EntryProcessorException
                        ? (EntryProcessorException) e : new EntryProcessorException(e)));
            }
        }
        return results;
    }

    // ---- iteration ----

    /**
     * The entries this node holds, as of the keys it held when this was called; each entry read
     * counts as a hit and as an access to its expiry. {@link Iterator#remove()} removes the last
     * entry returned, through the writer.
     */
    @Override
    public Iterator<Cache.Entry<K, V>> iterator() {
        ensureOpen();
        return new Entries(store.keys().iterator());
    }

    private final class Entries implements Iterator<Cache.Entry<K, V>> {

        private final Iterator<K> keys;
        private Cache.Entry<K, V> next;
        private Cache.Entry<K, V> last;

        Entries(Iterator<K> keys) {
            this.keys = keys;
        }

        @Override
        public boolean hasNext() {
            ensureOpen();
            while (next == null && keys.hasNext()) {
                next = read(keys.next());
            }
            return next != null;
        }

        @Override
        public Cache.Entry<K, V> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            last = next;
            next = null;
            return last;
        }

        @Override
        public void remove() {
            if (last == null) {
                throw new IllegalStateException("next() must come before remove(), once per entry");
            }
            K key = last.getKey();
            last = null;
            ClusterJCache.this.remove(key);
        }

        @SuppressWarnings("unchecked")
        private Cache.Entry<K, V> read(K key) {
            long start = statistics.start();
            return locked(key, () -> {
                long now = System.currentTimeMillis();
                Stored stored = unexpired(key, now);
                if (stored == null) {
                    return null;
                }
                touch(key, stored, now);
                statistics.hit(start);
                return new ClusterCacheEntry<K, V>(key, (V) Copies.of(stored.value));
            });
        }
    }

    // ---- listeners ----

    @Override
    public void registerCacheEntryListener(CacheEntryListenerConfiguration<K, V> cacheEntryListenerConfiguration) {
        ensureOpen();
        Objects.requireNonNull(cacheEntryListenerConfiguration, "cacheEntryListenerConfiguration");
        listeners.register(cacheEntryListenerConfiguration);
        configuration.addCacheEntryListenerConfiguration(cacheEntryListenerConfiguration);
        listenToOthers();
    }

    @Override
    public void deregisterCacheEntryListener(CacheEntryListenerConfiguration<K, V> cacheEntryListenerConfiguration) {
        ensureOpen();
        Objects.requireNonNull(cacheEntryListenerConfiguration, "cacheEntryListenerConfiguration");
        if (listeners.deregister(cacheEntryListenerConfiguration)) {
            configuration.removeCacheEntryListenerConfiguration(cacheEntryListenerConfiguration);
        }
        if (listeners.isEmpty()) {
            stopListeningToOthers();
        }
    }

    /** Subscribes to the other nodes' announcements once this cache has a listener. */
    private void listenToOthers() {
        synchronized (listeners) {
            if (announcements == null && !listeners.isEmpty()) {
                announcements = manager.cluster().events().subscribe(topic, (Announcement announcement) -> {
                    if (!announcement.sender.equals(id) && !closed) {
                        listeners.deliverRemote(announcement.changes);
                    }
                });
            }
        }
    }

    private void stopListeningToOthers() {
        synchronized (listeners) {
            if (announcements != null) {
                announcements.close();
                announcements = null;
            }
        }
    }

    // ---- lifecycle, configuration, management ----

    @Override
    public String getName() {
        return name;
    }

    @Override
    public CacheManager getCacheManager() {
        return manager;
    }

    /**
     * Closes the cache on this node: its listeners, loader, writer and expiry policy are closed if
     * they are {@link AutoCloseable}; its entries stay in the cluster.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (loading != null) {
                loading.shutdown();
            }
        }
        manager.released(this);
        stopListeningToOthers();
        registered(configurationBean, MBeans.Kind.CacheConfiguration, false);
        registered(statistics, MBeans.Kind.CacheStatistics, false);
        listeners.closeAll();
        Listeners.closeQuietly(loader);
        Listeners.closeQuietly(writer);
        Listeners.closeQuietly(expiry);
        awaitLoads();
    }

    private void awaitLoads() {
        ExecutorService executor;
        synchronized (this) {
            executor = loading;
        }
        if (executor != null) {
            try {
                executor.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    ClusterCacheConfiguration<K, V> configuration() {
        return configuration;
    }

    @Override
    public <C extends Configuration<K, V>> C getConfiguration(Class<C> clazz) {
        if (clazz.isInstance(configuration)) {
            return clazz.cast(configuration);
        }
        throw new IllegalArgumentException("a cache's configuration is a " + configuration.getClass().getName()
                + ", not a " + clazz.getName());
    }

    @Override
    public <T> T unwrap(Class<T> clazz) {
        if (clazz.isInstance(this)) {
            return clazz.cast(this);
        }
        if (clazz.isInstance(store)) {
            return clazz.cast(store);
        }
        throw new IllegalArgumentException("a cache cannot be unwrapped to " + clazz);
    }

    void enableManagement(boolean enabled) {
        registered(configurationBean, MBeans.Kind.CacheConfiguration, enabled);
        configuration.setManagementEnabled(enabled);
    }

    void enableStatistics(boolean enabled) {
        registered(statistics, MBeans.Kind.CacheStatistics, enabled);
        statistics.enable(enabled);
        configuration.setStatisticsEnabled(enabled);
    }

    private void registered(Object bean, MBeans.Kind kind, boolean registered) {
        if (registered) {
            MBeans.register(bean, kind, manager.getURI().toString(), name);
        } else {
            MBeans.unregister(kind, manager.getURI().toString(), name);
        }
    }

    @Override
    public String toString() {
        return "ClusterJCache{'" + name + "' of " + manager.getURI() + "}";
    }

    // ---- the steps every operation takes ----

    /** Runs {@code operation} holding this node's lock of the key's stripe. */
    private <T> T locked(K key, Supplier<T> operation) {
        ReentrantLock lock = lock(key);
        try {
            return operation.get();
        } finally {
            lock.unlock();
        }
    }

    /**
     * As {@link #locked}, then tells the listeners of the changes the operation made, still under
     * the lock, so that a key's changes reach them in the order they were made.
     */
    private <T> T announced(K key, Function<List<Change>, T> operation) {
        return locked(key, () -> {
            List<Change> changes = new ArrayList<Change>(1);
            T result = operation.apply(changes);
            announce(changes);
            return result;
        });
    }

    /** The key's entry unless absent or expired, left in place either way. */
    private Stored unexpired(K key, long now) {
        Stored stored = store.get(key);
        return stored == null || stored.isExpiredAt(now) ? null : stored;
    }

    /** Counts a read that found {@code stored} as a hit, one that found nothing as a miss. */
    private Stored counted(Stored stored, long start) {
        if (stored == null) {
            statistics.miss(start);
        } else {
            statistics.hit(start);
        }
        return stored;
    }

    /** The key's entry if its value equals {@code expected}, counted as a read; a mismatch is an access. */
    private Stored matching(K key, V expected, long now, long start) {
        Stored old = counted(unexpired(key, now), start);
        if (old != null && !old.value.equals(expected)) {
            touch(key, old, now);
            return null;
        }
        return old;
    }

    /** Removes the key's entry {@code old}, if there is one, and returns its value. */
    private Object removed(K key, Stored old, long start, List<Change> changes) {
        if (old == null) {
            return null;
        }
        store.remove(key);
        changes.add(Change.removed(key, old.value));
        statistics.removal(start);
        return old.value;
    }

    /** Writes {@code value} through and puts it in place of the key's entry {@code old}. */
    private void replaced(K key, V value, Stored old, long now, long start, List<Change> changes) {
        write(key, value);
        update(key, value, old, now, changes);
        statistics.put(start);
    }

    /**
     * The key's entry unless absent or expired; an expired one is removed (on every node, as it
     * expired everywhere) and its expiry told to the listeners.
     */
    private Stored live(K key, long now, List<Change> changes) {
        Stored stored = store.get(key);
        if (stored != null && stored.isExpiredAt(now)) {
            store.remove(key);
            changes.add(Change.expired(key, stored.value));
            return null;
        }
        return stored;
    }

    @SuppressWarnings("unchecked")
    private V getOrLoad(K key, List<Change> changes) {
        long start = statistics.start();
        long now = System.currentTimeMillis();
        Stored stored = live(key, now, changes);
        if (stored != null) {
            touch(key, stored, now);
            statistics.hit(start);
            return (V) Copies.of(stored.value);
        }
        statistics.miss(start);
        if (!configuration.isReadThrough() || loader == null) {
            return null;
        }
        V loaded = load(key);
        if (loaded == null) {
            return null;
        }
        return created(key, loaded, now, changes) ? loaded : null;
    }

    /**
     * Stores the key's value: a new entry (through the writer when {@code writes}, under the expiry
     * for creation), or when {@code replaces} an update of the live one. Returns whether it
     * stored; a new entry whose expiry is already past is not stored.
     */
    private boolean store(K key, V value, boolean replaces, boolean writes, List<Change> changes) {
        long now = System.currentTimeMillis();
        Stored old = live(key, now, changes);
        if (old == null) {
            if (writes) {
                write(key, value);
            }
            return created(key, value, now, changes);
        }
        if (!replaces) {
            return false;
        }
        if (writes) {
            write(key, value);
        }
        update(key, value, old, now, changes);
        return true;
    }

    /** Stores a new entry unless the expiry policy makes it expire at once. */
    private boolean created(K key, V value, long now, List<Change> changes) {
        long expiresAt;
        try {
            expiresAt = expiresAt(expiry.getExpiryForCreation(), now, Long.MAX_VALUE);
        } catch (RuntimeException e) {
            expiresAt = Long.MAX_VALUE;
        }
        if (expiresAt <= now) {
            return false;
        }
        store.put(key, new Stored(value, expiresAt));
        changes.add(Change.created(key, value));
        return true;
    }

    private void update(K key, V value, Stored old, long now, List<Change> changes) {
        long expiresAt;
        try {
            expiresAt = expiresAt(expiry.getExpiryForUpdate(), now, old.expiresAt);
        } catch (RuntimeException e) {
            expiresAt = old.expiresAt;
        }
        store.put(key, new Stored(value, expiresAt));
        changes.add(Change.updated(key, value, old.value));
    }

    /** Applies the expiry for access; stores the entry again only when that changes its expiry. */
    private void touch(K key, Stored stored, long now) {
        long expiresAt;
        try {
            expiresAt = expiresAt(expiry.getExpiryForAccess(), now, stored.expiresAt);
        } catch (RuntimeException e) {
            return;
        }
        if (expiresAt != stored.expiresAt) {
            store.put(key, stored.expiringAt(expiresAt));
        }
    }

    /** When an entry given {@code duration} at {@code now} expires; {@code unchanged} for a null duration. */
    private static long expiresAt(Duration duration, long now, long unchanged) {
        if (duration == null) {
            return unchanged;
        }
        return duration.isEternal() ? Long.MAX_VALUE : duration.getAdjustedTime(now);
    }

    private V load(K key) {
        try {
            return loader.load(key);
        } catch (CacheLoaderException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CacheLoaderException("the loader of cache '" + name + "' failed on a key", e);
        }
    }

    private void write(K key, V value) {
        if (writer == null) {
            return;
        }
        try {
            writer.write(new ClusterCacheEntry<K, V>(key, value));
        } catch (CacheWriterException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CacheWriterException("the writer of cache '" + name + "' failed to write", e);
        }
    }

    private void delete(K key) {
        if (writer == null) {
            return;
        }
        try {
            writer.delete(key);
        } catch (CacheWriterException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CacheWriterException("the writer of cache '" + name + "' failed to delete", e);
        }
    }

    /**
     * Runs a batch call of the writer, which leaves in its collection what it did not write; what
     * the writer threw, as a CacheWriterException, or null. The caller stores what was written
     * before it throws that.
     */
    private CacheWriterException failureOf(Runnable batch) {
        try {
            batch.run();
            return null;
        } catch (CacheWriterException e) {
            return e;
        } catch (RuntimeException e) {
            return new CacheWriterException("the writer of cache '" + name + "' failed", e);
        }
    }

    /** Tells the other nodes' listeners, then this node's, which may throw to the caller. */
    private void announce(List<Change> changes) {
        if (changes.isEmpty()) {
            return;
        }
        try {
            manager.cluster().events().publish(topic, new Announcement(id, changes));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "the changes to cache '" + name + "' could not be announced to the other"
                    + " nodes' listeners", e);
        }
        listeners.deliver(changes);
    }

    private synchronized ExecutorService loadingThread() {
        if (loading == null) {
            loading = Executors.newSingleThreadExecutor(task -> {
                Thread thread = new Thread(task, "openmrs-cluster-jcache-load-" + name);
                thread.setDaemon(true);
                return thread;
            });
        }
        return loading;
    }

    private ReentrantLock lock(K key) {
        int hash = key.hashCode();
        ReentrantLock lock = stripes[(hash ^ (hash >>> 16)) & (STRIPES - 1)];
        lock.lock();
        return lock;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("cache '" + name + "' is closed");
        }
    }

    private static void requireKey(Object key) {
        Objects.requireNonNull(key, "key");
    }

    private static void requireKeys(Set<?> keys) {
        Objects.requireNonNull(keys, "keys");
        for (Object key : keys) {
            Objects.requireNonNull(key, "a key");
        }
    }

    /** @throws ClassCastException if the configuration's types refuse the key or the value */
    private void requireEntry(K key, V value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        if (!configuration.getKeyType().isInstance(key)) {
            throw new ClassCastException("cache '" + name + "' takes keys of " + configuration.getKeyType()
                    + ", not " + key.getClass());
        }
        if (!configuration.getValueType().isInstance(value)) {
            throw new ClassCastException("cache '" + name + "' takes values of " + configuration.getValueType()
                    + ", not " + value.getClass());
        }
    }
}
