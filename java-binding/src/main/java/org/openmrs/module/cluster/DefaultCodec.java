package org.openmrs.module.cluster;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The codec of event messages, and of a cache configured without one: a one-byte tag, then a compact form for the types
 * most keys are (String as UTF-8, Integer, Long, Boolean, UUID, byte[]), and Java serialization
 * for any other {@code Serializable}. A type always takes the same path, so equal keys of these
 * types encode to equal bytes. Serialized classes are read with the thread's context class
 * loader, then with a fallback loader: that of the code that first opened the cache, or of an
 * event's listener; only classes of the node's allow-list are read at all (see
 * {@link ItemSerializer}).
 */
final class DefaultCodec implements CacheCodec {

    private static final byte SERIALIZED = 0;
    private static final byte STRING = 1;
    private static final byte INTEGER = 2;
    private static final byte LONG = 3;
    private static final byte BYTES = 4;
    private static final byte BOOLEAN = 5;
    private static final byte UUID_BITS = 6;

    private final ClassLoader creatorLoader;
    private final AllowedClasses allowed;
    /** What the bytes belong to, such as "cache 'x'", for the log of a refusal. */
    private final String source;

    /** A codec that reads only the default allow-list's classes; enough for one that only encodes. */
    DefaultCodec(ClassLoader creatorLoader) {
        this(creatorLoader, AllowedClasses.defaults(), "a default codec");
    }

    DefaultCodec(ClassLoader creatorLoader, AllowedClasses allowed, String source) {
        this.creatorLoader = creatorLoader;
        this.allowed = allowed;
        this.source = source;
    }

    @Override
    public byte[] encode(Object object) {
        if (object instanceof String) {
            byte[] utf8 = ((String) object).getBytes(StandardCharsets.UTF_8);
            return tagged(STRING, utf8.length).put(utf8).array();
        }
        if (object instanceof Integer) {
            return tagged(INTEGER, Integer.BYTES).putInt((Integer) object).array();
        }
        if (object instanceof Long) {
            return tagged(LONG, Long.BYTES).putLong((Long) object).array();
        }
        if (object instanceof byte[]) {
            byte[] bytes = (byte[]) object;
            return tagged(BYTES, bytes.length).put(bytes).array();
        }
        if (object instanceof Boolean) {
            return tagged(BOOLEAN, 1).put((byte) ((Boolean) object ? 1 : 0)).array();
        }
        if (object instanceof UUID) {
            UUID uuid = (UUID) object;
            return tagged(UUID_BITS, 2 * Long.BYTES).putLong(uuid.getMostSignificantBits())
                    .putLong(uuid.getLeastSignificantBits()).array();
        }
        if (!(object instanceof Serializable)) {
            throw new IllegalArgumentException("class " + object.getClass().getName()
                    + " does not implement java.io.Serializable; make it Serializable or configure a CacheCodec");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write(SERIALIZED);
        return ItemSerializer.toBytes(bytes, (Serializable) object, "a " + object.getClass().getName());
    }

    /**
     * @throws RefusedClassException    if the bytes name a class outside the allow-list, or go
     *                                  past a limit of {@link InputLimits} (logged once per class)
     * @throws IllegalArgumentException if they cannot be read here for another reason
     */
    @Override
    public Object decode(byte[] bytes, int offset, int length) {
        if (length < 1) {
            throw new IllegalArgumentException("no bytes to decode");
        }
        ByteBuffer body = ByteBuffer.wrap(bytes, offset + 1, length - 1);
        switch (bytes[offset]) {
            case STRING:
                return new String(bytes, offset + 1, length - 1, StandardCharsets.UTF_8);
            case INTEGER:
                return body.getInt();
            case LONG:
                return body.getLong();
            case BYTES:
                byte[] copy = new byte[length - 1];
                body.get(copy);
                return copy;
            case BOOLEAN:
                return body.get() != 0;
            case UUID_BITS:
                return new UUID(body.getLong(), body.getLong());
            case SERIALIZED:
                try {
                    return ItemSerializer.fromBytes(bytes, offset + 1, length - 1, creatorLoader, allowed, source);
                } catch (IOException | ClassNotFoundException e) {
                    throw new IllegalArgumentException("cannot read a serialized object (" + e
                            + "); is its class visible to the thread's context class loader?", e);
                }
            default:
                throw new IllegalArgumentException("unknown tag " + bytes[offset]
                        + ": written by another codec or another version of this library?");
        }
    }

    private static ByteBuffer tagged(byte tag, int bodyLength) {
        return ByteBuffer.allocate(1 + bodyLength).put(tag);
    }
}
