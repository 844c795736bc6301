package org.openmrs.module.cluster.jcache;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import javax.cache.CacheException;

/**
 * Store-by-value for the values a cache hands out: a node's near cache serves every get of a key
 * the same decoded object, so each caller gets a copy of it unless its class is immutable. A copy
 * is a Java serialization round trip of an object this node already holds (it passed the
 * allow-list when it was decoded), not of a peer's bytes.
 */
final class Copies {

    private static final Set<Class<?>> IMMUTABLE = new HashSet<Class<?>>(Arrays.<Class<?>>asList(
            String.class, Integer.class, Long.class, Short.class, Byte.class, Character.class, Boolean.class,
            Double.class, Float.class, BigInteger.class, BigDecimal.class, UUID.class));

    private Copies() {
    }

    @SuppressWarnings("unchecked")
    static <T> T of(T object) {
        if (object == null || IMMUTABLE.contains(object.getClass()) || object instanceof Enum
                || object.getClass().getName().startsWith("java.time.")) {
            return object;
        }
        ClassLoader loader = object.getClass().getClassLoader();
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(object);
            }
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray())) {
                @Override
                protected Class<?> resolveClass(ObjectStreamClass described)
                        throws IOException, ClassNotFoundException {
                    try {
                        return Class.forName(described.getName(), false, loader);
                    } catch (ClassNotFoundException e) {
                        return super.resolveClass(described);
                    }
                }
            }) {
                return (T) in.readObject();
            }
        } catch (IOException | ClassNotFoundException e) {
            throw new CacheException("an object of " + object.getClass().getName() + " cannot be copied: " + e, e);
        }
    }
}
