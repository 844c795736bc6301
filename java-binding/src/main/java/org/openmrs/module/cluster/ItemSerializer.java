package org.openmrs.module.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;

/**
 * Java serialization of queue items and of cache keys and values. Classes are resolved with the
 * class loader of the calling module (the thread's context class loader), then with a fallback
 * loader (that of the code that created the queue or cache): in OpenMRS each module has a loader
 * of its own, and an item's class is rarely visible to this library's. Not part of the public API.
 */
final class ItemSerializer {

    private ItemSerializer() {
    }

    /**
     * The item's bytes.
     *
     * @throws IllegalArgumentException if the item, or an object it refers to, cannot be serialized
     */
    static byte[] toBytes(Serializable item, String what) {
        return toBytes(new ByteArrayOutputStream(), item, what);
    }

    /**
     * What {@code bytes} holds already (such as a tag), followed by the item's bytes.
     *
     * @throws IllegalArgumentException if the item, or an object it refers to, cannot be serialized
     */
    static byte[] toBytes(ByteArrayOutputStream bytes, Serializable item, String what) {
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(item);
        } catch (NotSerializableException e) {
            throw new IllegalArgumentException(what + " cannot be serialized: class " + e.getMessage()
                    + " does not implement java.io.Serializable", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " cannot be serialized: " + e, e);
        }
        return bytes.toByteArray();
    }

    /**
     * Reads the object serialized in the {@code length} bytes of {@code bytes} from {@code offset} on.
     *
     * @throws IOException            if the bytes are not a serialized object
     * @throws ClassNotFoundException if its class is visible neither to the context class loader
     *                                nor to {@code fallback}
     */
    static Object fromBytes(byte[] bytes, int offset, int length, ClassLoader fallback)
            throws IOException, ClassNotFoundException {
        InputStream in = new ByteArrayInputStream(bytes, offset, length);
        try (ObjectInputStream objects = new LoaderObjectInputStream(in,
                Thread.currentThread().getContextClassLoader(), fallback)) {
            return objects.readObject();
        }
    }

    /** Resolves classes with the given loaders, in order, then as ObjectInputStream does. */
    private static final class LoaderObjectInputStream extends ObjectInputStream {

        private final ClassLoader[] loaders;

        LoaderObjectInputStream(InputStream in, ClassLoader... loaders) throws IOException {
            super(in);
            this.loaders = loaders;
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass description) throws IOException, ClassNotFoundException {
            for (ClassLoader loader : loaders) {
                if (loader != null) {
                    try {
                        return Class.forName(description.getName(), false, loader);
                    } catch (ClassNotFoundException notThere) {
                        // Try the next loader.
                    }
                }
            }
            return super.resolveClass(description);
        }
    }
}
