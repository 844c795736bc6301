package org.openmrs.module.cluster.spring;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.openmrs.module.cluster.ClusterCache;
import org.openmrs.module.cluster.ClusterException;
import org.springframework.cache.support.AbstractValueAdaptingCache;

/**
 * A Spring {@link org.springframework.cache.Cache} on a {@link ClusterCache}: what
 * {@link ClusterCacheManager} hands to {@code @Cacheable}, {@code @CachePut} and
 * {@code @CacheEvict}. A null value is stored as Spring's {@code NullValue}. Evictions and
 * {@link #clear()} reach every node, as the cache's mode spreads them; a get that hits is served
 * from this node's near cache. Thread-safe.
 *
 * <p>{@link #get(Object, Callable)} ({@code @Cacheable(sync = true)}) runs the loader at most once
 * at a time per key in this JVM: a caller that arrives during a load waits for its result (or its
 * exception). {@link #putIfAbsent} is atomic in this JVM too, but not across nodes: two nodes may
 * each store their own value, and the later one wins on both.
 */
public class ClusterSpringCache extends AbstractValueAdaptingCache {

    private final ClusterCache<Object, Object> cache;
    /** Loads under way in this JVM, one per key. */
    private final ConcurrentMap<Object, CompletableFuture<Object>> loads =
            new ConcurrentHashMap<Object, CompletableFuture<Object>>();

    /** A Spring cache on {@code cache}, null values allowed. */
    public ClusterSpringCache(ClusterCache<Object, Object> cache) {
        super(true);
        this.cache = Objects.requireNonNull(cache, "cache");
    }

    @Override
    public String getName() {
        return cache.name();
    }

    /** The {@link ClusterCache} underneath. */
    @Override
    public ClusterCache<Object, Object> getNativeCache() {
        return cache;
    }

    @Override
    protected Object lookup(Object key) {
        return cache.get(key);
    }

    /**
     * The value for {@code key}; when absent, the loader's, stored first.
     *
     * @throws ValueRetrievalException wrapping what the loader threw
     * @throws ClusterException        if the node is closed or has panicked
     */
    @Override
    @SuppressWarnings("unchecked")
    public <T> T get(Object key, Callable<T> valueLoader) {
        Object stored = lookup(key);
        if (stored == null) {
            stored = loadOnce(key, valueLoader);
        }
        return (T) fromStoreValue(stored);
    }

    /**
     * Spring 6.1's asynchronous lookup ({@code @Cacheable} on a method returning a
     * {@code CompletableFuture}); no {@code @Override}, since this class compiles against Spring
     * 5.3, where it does not exist. Null when absent, as Spring's own caches answer; else a
     * completed future of the value, wrapped when null values are stored.
     */
    public CompletableFuture<?> retrieve(Object key) {
        Object stored = lookup(key);
        if (stored == null) {
            return null;
        }
        return CompletableFuture.completedFuture(isAllowNullValues() ? toValueWrapper(stored) : fromStoreValue(stored));
    }

    /**
     * Spring 6.1's asynchronous get-or-load: the value, or else the one {@code valueLoader}'s
     * future completes with, stored first (see {@link #retrieve(Object)} for why there is no
     * {@code @Override}). Concurrent loads of one key are not merged here.
     */
    @SuppressWarnings("unchecked")
    public <T> CompletableFuture<T> retrieve(Object key, Supplier<CompletableFuture<T>> valueLoader) {
        Object stored = lookup(key);
        if (stored != null) {
            return CompletableFuture.completedFuture((T) fromStoreValue(stored));
        }
        return valueLoader.get().thenApply(value -> {
            put(key, value);
            return value;
        });
    }

    @Override
    public void put(Object key, Object value) {
        cache.put(key, toStoreValue(value));
    }

    /** Stores the value unless the key has one, and returns the one it has; see the class comment. */
    @Override
    public ValueWrapper putIfAbsent(Object key, Object value) {
        AtomicBoolean absent = new AtomicBoolean();
        Object current = loadOnce(key, () -> {
            absent.set(true);
            return value;
        });
        return absent.get() ? null : toValueWrapper(current);
    }

    @Override
    public void evict(Object key) {
        cache.remove(key);
    }

    @Override
    public boolean evictIfPresent(Object key) {
        boolean present = cache.containsKey(key);
        cache.remove(key);
        return present;
    }

    @Override
    public void clear() {
        cache.clear();
    }

    @Override
    public boolean invalidate() {
        boolean hadEntries = cache.size() > 0;
        cache.clear();
        return hadEntries;
    }

    @Override
    public String toString() {
        return "ClusterSpringCache{" + cache + "}";
    }

    /**
     * The stored value of {@code key}, or else the loader's, stored; while one caller of this JVM
     * loads a key, the others wait for its outcome.
     */
    private Object loadOnce(Object key, Callable<?> loader) {
        CompletableFuture<Object> load = new CompletableFuture<Object>();
        CompletableFuture<Object> running = loads.putIfAbsent(key, load);
        if (running == null) {
            running = load;
            try {
                load.complete(loadAndStore(key, loader));
            } catch (RuntimeException | Error e) {
                load.completeExceptionally(e);
            } finally {
                loads.remove(key, load);
            }
        }
        try {
            return running.join();
        } catch (CompletionException e) {
            throw unchecked(e.getCause());
        }
    }

    private Object loadAndStore(Object key, Callable<?> loader) {
        // A load that ended since this caller's lookup has stored the value.
        Object stored = lookup(key);
        if (stored != null) {
            return stored;
        }
        try {
            stored = toStoreValue(loader.call());
        } catch (Exception e) {
            throw new ValueRetrievalException(key, loader, e);
        }
        cache.put(key, stored);
        return stored;
    }

    private static RuntimeException unchecked(Throwable failure) {
        if (failure instanceof Error) {
            throw (Error) failure;
        }
        return (RuntimeException) failure;
    }
}
