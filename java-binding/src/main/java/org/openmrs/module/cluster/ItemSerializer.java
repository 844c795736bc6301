package org.openmrs.module.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;

/**
 * Java serialization of queue items, events and of cache keys and values. Classes are resolved
 * with the class loader of the calling module (the thread's context class loader), then with a
 * fallback loader (that of the code that created the queue or cache): in OpenMRS each module has
 * a loader of its own, and an item's class is rarely visible to this library's. Only classes of
 * the node's {@link AllowedClasses} are resolved at all, within {@link InputLimits}. Not part of
 * the public API.
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
     * Reads the object serialized in the {@code length} bytes of {@code bytes} from {@code offset}
     * on, which came from {@code source} (such as "topic 'x'", for the log). Every class the stream
     * names is checked against {@code allowed} before it is loaded, and the stream's shape against
     * {@link InputLimits}; a refusal is logged once per class name.
     *
     * @throws RefusedClassException  if the stream names a class that is not allowed, or goes past
     *                                a limit, or nests deeper than this thread's stack holds
     * @throws IOException            if the bytes are not a serialized object
     * @throws ClassNotFoundException if its class is visible neither to the context class loader
     *                                nor to {@code fallback}
     */
    static Object fromBytes(byte[] bytes, int offset, int length, ClassLoader fallback, AllowedClasses allowed,
            String source) throws IOException, ClassNotFoundException {
        InputStream in = new ByteArrayInputStream(bytes, offset, length);
        try (CheckedObjectInputStream objects = new CheckedObjectInputStream(in, allowed,
                Thread.currentThread().getContextClassLoader(), fallback)) {
            InputLimits limits = InputLimits.install(objects, length);
            Object read;
            try {
                read = objects.readObject();
            } catch (IOException | ClassNotFoundException | RuntimeException e) {
                // A refusal may reach here wrapped, or as the JDK's own exception for a filter's "no".
                objects.throwIfRefused(limits, source);
                throw e;
            } catch (StackOverflowError e) {
                throw allowed.refuse("(nested objects)", "objects nested deeper than this thread's stack holds",
                        source);
            } catch (LinkageError e) {
                objects.throwIfRefused(limits, source);
                throw new ClassNotFoundException("a class of the object cannot be linked here: " + e, e);
            }
            // An allowed class's readObject may have caught a refusal and gone on without that part.
            objects.throwIfRefused(limits, source);
            return read;
        }
    }

    /**
     * Resolves classes with the given loaders, in order, then as ObjectInputStream does; but first
     * refuses, without loading it, any class that is not allowed, and any proxy whose interfaces
     * are not all allowed. Remembers the first refusal, so that it is reported whatever the
     * stream's readers made of the exception.
     */
    private static final class CheckedObjectInputStream extends ObjectInputStream {

        private final AllowedClasses allowed;
        private final ClassLoader[] loaders;
        private String refusedClass;
        private String refusal;

        CheckedObjectInputStream(InputStream in, AllowedClasses allowed, ClassLoader... loaders) throws IOException {
            super(in);
            this.allowed = allowed;
            this.loaders = loaders;
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass description) throws IOException, ClassNotFoundException {
            String name = description.getName();
            check(name, "not on the allow-list of classes other nodes may send (cluster.serialization.allow)");
            for (ClassLoader loader : loaders) {
                if (loader != null) {
                    try {
                        return Class.forName(name, false, loader);
                    } catch (ClassNotFoundException notThere) {
                        // Try the next loader.
                    }
                }
            }
            return super.resolveClass(description);
        }

        @Override
        protected Class<?> resolveProxyClass(String[] interfaces) throws IOException, ClassNotFoundException {
            for (String name : interfaces) {
                check(name, "a proxy whose interface is not on the allow-list of classes other nodes may send"
                        + " (cluster.serialization.allow)");
            }
            return super.resolveProxyClass(interfaces);
        }

        private void check(String name, String why) throws InvalidClassException {
            if (!allowed.allows(name)) {
                if (refusal == null) {
                    refusedClass = name;
                    refusal = why;
                }
                throw new InvalidClassException(PeerText.clean(name), why);
            }
        }

        /** Throws the refusal of the allow-list or of {@code limits}, if either refused this stream. */
        void throwIfRefused(InputLimits limits, String source) {
            if (refusal != null) {
                throw allowed.refuse(refusedClass, refusal, source);
            }
            if (limits.rejection() != null) {
                throw allowed.refuse(limits.rejectedClass(), limits.rejection(), source);
            }
        }
    }
}
