package org.openmrs.module.cluster;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * The {@link ClusterCache} of {@link Cluster#cache(String, CacheOptions)}: the entries live in the
 * library's store as bytes of the cache's {@link CacheCodec}; in front of it, a near cache of the
 * decoded values makes a hit a map lookup that never crosses JNI. Thread-safe.
 *
 * <p>The near cache holds only what was read from the store, never the object a caller put (the
 * caller may go on changing it, and of two concurrent puts the store decides which one wins). It
 * drops a key when this node writes it and when the library reports a change it did not make
 * (a write from another node, an eviction, an expiry; see {@link NodeCaches}). A read that
 * overlaps such a drop must not put back the value it read before: it first reserves the key with
 * a token of its own, reads the store, and installs the value only in place of its token, which
 * the drop removes.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class NodeCache<K, V> implements ClusterCache<K, V> {

    private static final Logger LOG = Logger.getLogger(NodeCache.class.getName());
    /** The expiry (epoch ms) that precedes a value read from the store. */
    private static final int EXPIRY_BYTES = 8;
    /** How long a caller that waited for another's load waits for its value to arrive. */
    private static final long LOAD_ARRIVAL_MS = 250;
    private static final long LOAD_POLL_MS = 5;

    private final NativeNode node;
    private final long id;
    private final String name;
    private final CacheOptions options;
    private final CacheCodec codec;
    /** Whether entries expire; without expiry, a hit need not read the clock. */
    private final boolean expiring;
    /** Per key, a {@link Held} value or a read's {@link Reservation}. */
    private final ConcurrentMap<Object, Object> near = new ConcurrentHashMap<Object, Object>();
    private final LoadLocks loads;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    NodeCache(NativeNode node, long id, String name, CacheOptions options, CacheCodec codec, LoadLocks loads) {
        this.node = node;
        this.id = id;
        this.name = name;
        this.options = options;
        this.codec = codec;
        this.expiring = options.timeToLive().isPresent();
        this.loads = loads;
    }

    @Override
    public String name() {
        return name;
    }

    CacheOptions options() {
        return options;
    }

    /**
     * The value for {@code key}, or null when absent or expired, or when the value names a class
     * outside the node's allow-list of classes that other nodes may send (logged once per class).
     *
     * @throws NullPointerException if the key is null
     * @throws ClusterException     if the node is closed, or the value cannot be decoded here
     */
    @Override
    public V get(K key) {
        return counted(read(key));
    }

    /**
     * The value for {@code key}, else the loader's, stored: see {@link ClusterCache#get(Object,
     * Function)}. Only the first read counts, as a hit or a miss.
     */
    @Override
    public V get(K key, Function<? super K, ? extends V> loader) {
        Objects.requireNonNull(loader, "loader");
        V found = get(key);
        if (found != null) {
            return found;
        }
        ClusterLock lock = loads.of(name, encode(key, "a key"));
        boolean waited = lock.tryLockAndGetFence() == ClusterLock.INVALID_FENCE;
        if (waited) {
            lock.lock();
        }
        try {
            found = waited ? awaitLoaded(key) : read(key);
            if (found != null) {
                return found;
            }
            V loaded = loader.apply(key);
            if (loaded != null) {
                put(key, loaded);
            }
            return loaded;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The values of the keys found: the near cache's, then the store's for the rest in one
     * crossing, kept in the near cache as {@link #get} keeps them. Each key counts as a hit or a miss.
     *
     * @throws ClusterException as {@link #get} does
     */
    @Override
    @SuppressWarnings("unchecked")
    public Map<K, V> getAll(Collection<? extends K> keys) {
        Set<K> distinct = new LinkedHashSet<K>(keys);
        Map<K, V> found = new HashMap<K, V>();
        List<K> missed = new ArrayList<K>();
        for (K key : distinct) {
            Held held = nearHit(key);
            if (held != null) {
                found.put(key, (V) held.value);
            } else {
                missed.add(key);
            }
        }
        if (!missed.isEmpty()) {
            loadAll(missed, found);
        }
        hits.add(found.size());
        misses.add(distinct.size() - found.size());
        return found;
    }

    /**
     * Stores every entry in one crossing, as that many {@link #put}s would.
     *
     * @throws NullPointerException     if a key or a value is null
     * @throws IllegalArgumentException if the codec cannot encode one; then none is stored
     * @throws ClusterException         if the node is closed or has panicked
     */
    @Override
    public void putAll(Map<? extends K, ? extends V> entries) {
        byte[][] keys = new byte[entries.size()][];
        byte[][] values = new byte[entries.size()][];
        int i = 0;
        for (Map.Entry<? extends K, ? extends V> entry : entries.entrySet()) {
            keys[i] = encode(Objects.requireNonNull(entry.getKey(), "key"), "a key");
            values[i] = encode(Objects.requireNonNull(entry.getValue(), "value"), "a value");
            i++;
        }
        node.call(handle -> {
            Native.cachePutAll(handle, id, keys, values);
            return null;
        });
        for (K key : entries.keySet()) {
            near.remove(key);
        }
    }

    /** @throws ClusterException if the node is closed */
    @Override
    public CacheStats stats() {
        long evictions = node.call(handle -> Native.cacheEvictions(handle, id));
        return new CacheStats(hits.sum(), misses.sum(), evictions);
    }

    /**
     * Stores the value here at once and ships it to the other members (REPLICATED) or tells them
     * to drop the key (INVALIDATION).
     *
     * @throws NullPointerException     if the key or the value is null
     * @throws IllegalArgumentException if the codec cannot encode them
     * @throws ClusterException         if the node is closed or has panicked
     */
    @Override
    public void put(K key, V value) {
        byte[] keyBytes = encode(Objects.requireNonNull(key, "key"), "a key");
        byte[] valueBytes = encode(Objects.requireNonNull(value, "value"), "a value");
        node.call(handle -> {
            Native.cachePut(handle, id, keyBytes, valueBytes);
            return null;
        });
        near.remove(key);
    }

    /** @throws ClusterException if the node is closed or has panicked */
    @Override
    public void remove(K key) {
        byte[] keyBytes = encode(Objects.requireNonNull(key, "key"), "a key");
        node.call(handle -> {
            Native.cacheRemove(handle, id, keyBytes);
            return null;
        });
        near.remove(key);
    }

    /**
     * Drops every entry written before now, here and on every member.
     *
     * @throws ClusterException if the node is closed or has panicked
     */
    @Override
    public void clear() {
        node.call(handle -> {
            Native.cacheClear(handle, id);
            return null;
        });
        near.clear();
    }

    /**
     * Whether {@link #get} finds a value: false for a value whose class is refused, as get returns
     * null for it. A value found is kept in the near cache, for the get that usually follows.
     *
     * @throws ClusterException as {@link #get} does
     */
    @Override
    public boolean containsKey(K key) {
        return nearHit(key) != null || load(key) != null;
    }

    /** Entries this node's store holds; expired ones not yet swept may count. */
    @Override
    public long size() {
        return node.call(handle -> Native.cacheSize(handle, id));
    }

    /** @throws ClusterException if the node is closed, or a key cannot be decoded here */
    @Override
    @SuppressWarnings("unchecked")
    public Set<K> keys() {
        byte[][] found = node.call(handle -> Native.cacheKeys(handle, id, Integer.MAX_VALUE));
        Set<K> keys = new HashSet<K>(found.length * 2);
        for (byte[] bytes : found) {
            try {
                keys.add((K) codec.decode(bytes, 0, bytes.length));
            } catch (RefusedClassException refused) {
                // Left out, as get returns null for a refused class.
            } catch (RuntimeException e) {
                throw unreadable("a key", e);
            }
        }
        return Collections.unmodifiableSet(keys);
    }

    @Override
    public String toString() {
        return "ClusterCache{'" + name + "' on node '" + node.name() + "', " + options + "}";
    }

    /**
     * Drops what an invalidation of the library names: the key encoded in {@code entry} from
     * {@code offset} on, or every key when nothing follows. A key this codec cannot decode drops
     * every key, as the one it names cannot be told apart.
     */
    void invalidate(byte[] entry, int offset) {
        if (entry.length == offset) {
            near.clear();
            return;
        }
        Object key;
        try {
            key = codec.decode(entry, offset, entry.length - offset);
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "an invalidated key of cache '" + name + "' cannot be decoded; its near cache is"
                    + " cleared instead", e);
            near.clear();
            return;
        }
        forget(key);
    }

    /** Drops the key's decoded value, so that the next get reads the store. */
    void forget(Object key) {
        near.remove(key);
    }

    /** Forgets every decoded value: after the node closed, or when invalidations may have been missed. */
    void dropNearCache() {
        near.clear();
    }

    /** The unexpired value the near cache holds for {@code key}, or null. */
    private Held nearHit(K key) {
        Object held = near.get(Objects.requireNonNull(key, "key"));
        if (!(held instanceof Held)) {
            return null;
        }
        Held hit = (Held) held;
        if (expiring && System.currentTimeMillis() >= hit.expiresAt) {
            near.remove(key, hit);
            return null;
        }
        node.ensureOpen();
        return hit;
    }

    /** The near cache's value, else the store's; counts nothing. */
    @SuppressWarnings("unchecked")
    private V read(K key) {
        Held held = nearHit(key);
        return held != null ? (V) held.value : load(key);
    }

    private V counted(V value) {
        (value == null ? misses : hits).increment();
        return value;
    }

    /** Reads until the value a lock holder loaded has arrived, or {@value #LOAD_ARRIVAL_MS} ms passed. */
    private V awaitLoaded(K key) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LOAD_ARRIVAL_MS);
        while (true) {
            V found = read(key);
            if (found != null || System.nanoTime() - deadline >= 0) {
                return found;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(LOAD_POLL_MS));
        }
    }

    /** Reads the store, and keeps what it read unless the key was dropped meanwhile. */
    @SuppressWarnings("unchecked")
    private V load(K key) {
        byte[] keyBytes = encode(key, "a key");
        Reservation reservation = reserve(key);
        Held loaded = null;
        try {
            loaded = held(node.call(handle -> Native.cacheGet(handle, id, keyBytes)));
        } finally {
            settle(key, reservation, loaded);
        }
        return loaded == null ? null : (V) loaded.value;
    }

    /** As {@link #load} for each key, in one crossing; puts what it found into {@code found}. */
    @SuppressWarnings("unchecked")
    private void loadAll(List<K> keys, Map<K, V> found) {
        byte[][] keyBytes = new byte[keys.size()][];
        for (int i = 0; i < keyBytes.length; i++) {
            keyBytes[i] = encode(keys.get(i), "a key");
        }
        Reservation[] reservations = new Reservation[keyBytes.length];
        Held[] loaded = new Held[keyBytes.length];
        try {
            for (int i = 0; i < keyBytes.length; i++) {
                reservations[i] = reserve(keys.get(i));
            }
            byte[][] answers = node.call(handle -> Native.cacheGetAll(handle, id, keyBytes));
            for (int i = 0; i < answers.length; i++) {
                loaded[i] = held(answers[i]);
                if (loaded[i] != null) {
                    found.put(keys.get(i), (V) loaded[i].value);
                }
            }
        } finally {
            for (int i = 0; i < keyBytes.length; i++) {
                settle(keys.get(i), reservations[i], loaded[i]);
            }
        }
    }

    /**
     * Marks the key as being read, so that a drop meanwhile is noticed; null when it cannot be
     * (another read holds the key, or it is an array, whose equals is its identity: a decoded
     * invalidation would never match it).
     */
    private Reservation reserve(K key) {
        Reservation reservation = new Reservation();
        return !key.getClass().isArray() && near.putIfAbsent(key, reservation) == null ? reservation : null;
    }

    /** Installs what a read found in place of its reservation, unless a drop removed that. */
    private void settle(K key, Reservation reservation, Held loaded) {
        if (reservation != null && (loaded == null || !near.replace(key, reservation, loaded))) {
            near.remove(key, reservation);
        }
    }

    /** What the store answered, decoded; null when absent or refused. */
    private Held held(byte[] found) {
        Object value = found == null ? null : decodeValue(found);
        return value == null ? null : new Held(value, ByteBuffer.wrap(found, 0, EXPIRY_BYTES).getLong());
    }

    private byte[] encode(Object object, String role) {
        try {
            return codec.encode(object);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(role + " of cache '" + name + "' cannot be encoded: " + e.getMessage(), e);
        }
    }

    /** The value of {@code found}; null if it names a class the allow-list refuses (logged once per class). */
    private Object decodeValue(byte[] found) {
        try {
            return codec.decode(found, EXPIRY_BYTES, found.length - EXPIRY_BYTES);
        } catch (RefusedClassException refused) {
            return null;
        } catch (RuntimeException e) {
            throw unreadable("a value", e);
        }
    }

    private ClusterException unreadable(String role, RuntimeException e) {
        return new ClusterException(role + " of cache '" + name + "' cannot be read on node '" + node.name()
                + "' (" + e.getMessage() + "): make its class visible to the thread's context class loader,"
                + " or give every node the same codec", e);
    }

    /** A value read from the store, and when it expires (epoch ms; Long.MAX_VALUE for never). */
    private static final class Held {
        final Object value;
        final long expiresAt;

        Held(Object value, long expiresAt) {
            this.value = value;
            this.expiresAt = expiresAt;
        }
    }

    /** Marks a key as being read; each read's token is its own, so a drop is told from a later read. */
    private static final class Reservation {
    }
}
