package org.openmrs.module.cluster;

/**
 * Turns the keys and values of a {@link ClusterCache} into bytes and back, for a cache configured
 * with {@link CacheOptions.Builder#codec(CacheCodec)}. Without one, a cache encodes strings,
 * integers, longs, booleans, UUIDs and byte arrays compactly and everything else with Java
 * serialization (so it must be {@code Serializable}).
 *
 * <p>The cluster compares keys by their bytes, and a node's near cache of decoded values by
 * {@code equals}, so a codec must keep both views in agreement:
 * <ul>
 * <li>equal keys must encode to equal bytes (a key whose encoding depends on, say, the iteration
 * order of a hash set would be stored twice);</li>
 * <li>{@code decode(encode(key))} must equal {@code key}, with the same {@code hashCode}, on every
 * node, so that a change made elsewhere reaches the copy this node holds.</li>
 * </ul>
 * Every node of a cluster must use the same codec for a cache. Implementations must be
 * thread-safe: every thread of the application and the library's invalidation thread call them.
 */
public interface CacheCodec {

    /**
     * The bytes of a key or a value, never null.
     *
     * @throws IllegalArgumentException if the object cannot be encoded
     */
    byte[] encode(Object object);

    /**
     * The key or value whose encoding is {@code bytes[offset]} to {@code bytes[offset + length - 1]}.
     *
     * @throws IllegalArgumentException if the bytes cannot be decoded here (such as a class this
     *                                  node cannot load)
     */
    Object decode(byte[] bytes, int offset, int length);
}
