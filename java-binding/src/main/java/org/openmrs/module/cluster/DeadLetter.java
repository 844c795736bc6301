package org.openmrs.module.cluster;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * An item of a {@link ClusterQueue} that the node which claimed it could not read, set aside so
 * that the items behind it are not held up: its class is outside that node's allow-list of
 * classes other nodes may send ({@link ClusterConfig#serializationAllow()}), or unknown there, or
 * its bytes are not a serialized object. An operator reads dead letters with
 * {@link ClusterQueue#deadLetters()} and removes them with {@link ClusterQueue#removeDeadLetter(long)}
 * or {@link ClusterQueue#clearDeadLetters()}. Immutable.
 */
public final class DeadLetter {

    private final long id;
    private final Instant time;
    private final String node;
    private final String reason;
    private final byte[] bytes;

    private DeadLetter(long id, Instant time, String node, String reason, byte[] bytes) {
        this.id = id;
        this.time = time;
        this.node = node;
        this.reason = reason;
        this.bytes = bytes;
    }

    /** Reads the form of {@code Native.queueDeadLetters}: id, time, node, reason, item. */
    static DeadLetter fromNative(byte[] letter) {
        ByteBuffer in = ByteBuffer.wrap(letter);
        long id = in.getLong();
        Instant time = Instant.ofEpochMilli(in.getLong());
        String node = text(in);
        String reason = text(in);
        byte[] item = new byte[in.remaining()];
        in.get(item);
        return new DeadLetter(id, time, node, reason, item);
    }

    private static String text(ByteBuffer in) {
        byte[] utf8 = new byte[in.getInt()];
        in.get(utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    /** The item's id: ids grow with every offer to the queue, so they order dead letters by offer. */
    public long id() {
        return id;
    }

    /** When the item was set aside, on the clock of the node that did it. */
    public Instant time() {
        return time;
    }

    /** The name of the node that set the item aside. */
    public String node() {
        return node;
    }

    /** Why that node could not read the item. */
    public String reason() {
        return reason;
    }

    /** The item's bytes as offered (its Java serialization); a copy. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** Every field but the item's bytes, which may hold patient data: only their number. */
    @Override
    public String toString() {
        return "DeadLetter{" + id + ", set aside by '" + node + "' at " + time + " (" + reason + "), "
                + bytes.length + " bytes}";
    }
}
