package org.openmrs.module.cluster.hibernate;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;

/**
 * A cache key of a region: the entity or collection role, the tenant and the id, as bytes. Two
 * nodes name one row by equal bytes, so an invalidation travels as these bytes and is never
 * deserialized by the receiver (Hibernate's own keys hold application classes). Ids of the common
 * types are written compactly; any other id with Java serialization, so equal ids must serialize
 * to equal bytes (plain value classes do).
 */
final class RegionKey implements Serializable {

    private static final long serialVersionUID = 1L;

    private final byte[] bytes;
    private final int hash;
    /** What Hibernate asks back from the key; not needed to compare keys. */
    private final transient Object id;

    private RegionKey(byte[] bytes, Object id) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
        this.id = id;
    }

    static RegionKey of(String role, String tenant, Object id) {
        byte[] roleBytes = role.getBytes(StandardCharsets.UTF_8);
        byte[] tenantBytes = tenant == null ? new byte[0] : tenant.getBytes(StandardCharsets.UTF_8);
        byte[] idBytes = encode(id);
        ByteBuffer out = ByteBuffer.allocate(8 + roleBytes.length + tenantBytes.length + idBytes.length);
        out.putInt(roleBytes.length).put(roleBytes).putInt(tenantBytes.length).put(tenantBytes).put(idBytes);
        return new RegionKey(out.array(), id);
    }

    /** A key as an invalidation carries it; its id is unknown here. */
    static RegionKey wrap(byte[] bytes) {
        return new RegionKey(bytes, null);
    }

    byte[] bytes() {
        return bytes;
    }

    Object id() {
        return id;
    }

    private static byte[] encode(Object id) {
        if (id instanceof Integer) {
            return ByteBuffer.allocate(5).put((byte) 'I').putInt((Integer) id).array();
        }
        if (id instanceof Long) {
            return ByteBuffer.allocate(9).put((byte) 'L').putLong((Long) id).array();
        }
        if (id instanceof String) {
            byte[] text = ((String) id).getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(1 + text.length).put((byte) 'S').put(text).array();
        }
        if (id instanceof UUID) {
            UUID uuid = (UUID) id;
            return ByteBuffer.allocate(17).put((byte) 'U').putLong(uuid.getMostSignificantBits())
                    .putLong(uuid.getLeastSignificantBits()).array();
        }
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        buffer.write('J');
        try (ObjectOutputStream out = new ObjectOutputStream(buffer)) {
            out.writeObject(id);
        } catch (IOException e) {
            throw new IllegalArgumentException("a cache key's id of " + id.getClass().getName()
                    + " cannot be serialized", e);
        }
        return buffer.toByteArray();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RegionKey && Arrays.equals(bytes, ((RegionKey) other).bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "RegionKey{" + (id != null ? id : bytes.length + " bytes") + "}";
    }
}
