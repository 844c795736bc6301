package org.openmrs.module.cluster;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Bounds on what one Java-serialized payload may make this JVM build, which the class allow-list
 * alone cannot give: allowed classes nested deep enough to overflow the reading thread's stack,
 * or an array declared far longer than the bytes that follow it, allocated before they are read.
 * Checked by the JDK's deserialization filter before each object, array and reference of one
 * stream: {@code java.io.ObjectInputFilter} on Java 9 and later, {@code sun.misc.ObjectInputFilter}
 * on Java 8u121 and later, both reached by reflection (main sources compile for Java 8) through a
 * {@link Proxy}. On an older JVM without either, only the allow-list applies.
 *
 * <ul>
 * <li>Depth: at most {@value #MAX_DEPTH} objects nested in one another.</li>
 * <li>Arrays: their lengths added up (those of collections' internal tables included) at most the
 * payload's length plus {@value #ARRAY_SLACK}. An honest stream spends at least a byte on every
 * element it declares, so only a lie goes past it.</li>
 * <li>References and bytes need no check of their own: the stream is a byte array as long as the
 * payload (which the library bounds), and every object read costs some of its bytes.</li>
 * </ul>
 * A filter set on the JVM ({@code jdk.serialFilter}) is consulted first: setting a stream's filter
 * replaces the JVM's for that stream. One instance per stream; not thread-safe.
 */
final class InputLimits implements InvocationHandler {

    /**
     * Deeper than any value worth sending, and well inside a thread's stack: 500 lists nested in
     * one another were read on a 1 MiB stack here, 1000 were not.
     */
    static final long MAX_DEPTH = 200;
    /** Room for the smallest tables of collections: an empty HashMap asks for 16 entries. */
    static final long ARRAY_SLACK = 1024;

    private static final FilterApi API = FilterApi.find();

    private final long arrayBudget;
    private final Object jvmFilter;
    private long arrayElements;
    private String rejectedClass;
    private String rejection;

    private InputLimits(long arrayBudget, Object jvmFilter) {
        this.arrayBudget = arrayBudget;
        this.jvmFilter = jvmFilter;
    }

    /**
     * The limits of a payload of {@code length} bytes, installed on {@code in} before anything is
     * read from it.
     *
     * @throws IOException if the JVM refuses the filter (a filter factory of its own did)
     */
    static InputLimits install(ObjectInputStream in, int length) throws IOException {
        if (API == null) {
            return new InputLimits(Long.MAX_VALUE, null);
        }
        try {
            InputLimits limits = new InputLimits(length + ARRAY_SLACK, API.jvmWide.invoke(null));
            API.install(in, Proxy.newProxyInstance(InputLimits.class.getClassLoader(),
                    new Class<?>[] {API.filterType}, limits));
            return limits;
        } catch (InvocationTargetException e) {
            throw new IOException("cannot set a deserialization filter on the stream: " + e.getCause(), e.getCause());
        } catch (IllegalAccessException e) {
            throw new IOException("cannot set a deserialization filter on the stream: " + e, e);
        }
    }

    /** Why this stream's filter refused it, or null if it did not. */
    String rejection() {
        return rejection;
    }

    /** The class the filter was checking when it refused, or a word for a reference or the JVM's filter. */
    String rejectedClass() {
        return rejectedClass;
    }

    /** The filter's {@code checkInput(FilterInfo)}, and the methods every object has. */
    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws ReflectiveOperationException {
        if (method.getDeclaringClass() == Object.class) {
            switch (method.getName()) {
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                default:
                    return "openmrs-cluster input limits";
            }
        }
        Object info = args[0];
        if (jvmFilter != null && API.checkInput.invoke(jvmFilter, info) == API.rejected) {
            return reject(info, "the JVM's deserialization filter (jdk.serialFilter) refused it");
        }
        long depth = (Long) API.depth.invoke(info);
        if (depth > MAX_DEPTH) {
            return reject(info, "objects nested " + depth + " deep, past the limit of " + MAX_DEPTH);
        }
        long arrayLength = (Long) API.arrayLength.invoke(info);
        if (arrayLength > 0) {
            arrayElements += arrayLength;
            if (arrayElements > arrayBudget) {
                return reject(info, "arrays of " + arrayElements + " elements in all, more than a payload of "
                        + (arrayBudget - ARRAY_SLACK) + " bytes can hold");
            }
        }
        return API.undecided;
    }

    private Object reject(Object info, String why) throws ReflectiveOperationException {
        Class<?> checked = (Class<?>) API.serialClass.invoke(info);
        rejectedClass = checked == null ? "(a reference)" : checked.getName();
        rejection = why;
        return API.rejected;
    }

    /** The filter interface of this JVM and what it takes to use it, found once. */
    private static final class FilterApi {

        final Class<?> filterType;
        final Method checkInput;
        final Method serialClass;
        final Method depth;
        final Method arrayLength;
        final Object rejected;
        final Object undecided;
        final Method jvmWide;
        /**
         * Java 9: {@code ObjectInputStream.setObjectInputFilter(filter)}; 8: the static
         * {@code Config.setObjectInputFilter(in, filter)}.
         */
        final Method setter;
        final boolean onStream;

        private FilterApi(String filterClass, boolean onStream) throws ReflectiveOperationException {
            this.filterType = Class.forName(filterClass);
            Class<?> info = Class.forName(filterClass + "$FilterInfo");
            Class<?> status = Class.forName(filterClass + "$Status");
            Class<?> config = Class.forName(filterClass + "$Config");
            this.checkInput = filterType.getMethod("checkInput", info);
            this.serialClass = info.getMethod("serialClass");
            this.depth = info.getMethod("depth");
            this.arrayLength = info.getMethod("arrayLength");
            this.rejected = status.getField("REJECTED").get(null);
            this.undecided = status.getField("UNDECIDED").get(null);
            this.jvmWide = config.getMethod("getSerialFilter");
            this.onStream = onStream;
            this.setter = onStream ? ObjectInputStream.class.getMethod("setObjectInputFilter", filterType)
                    : config.getMethod("setObjectInputFilter", ObjectInputStream.class, filterType);
        }

        /** The JVM's filter API, or null if it has none. */
        static FilterApi find() {
            try {
                return new FilterApi("java.io.ObjectInputFilter", true);
            } catch (ReflectiveOperationException notJava9) {
                try {
                    return new FilterApi("sun.misc.ObjectInputFilter", false);
                } catch (ReflectiveOperationException olderThan8u121) {
                    return null;
                }
            }
        }

        void install(ObjectInputStream in, Object filter) throws IllegalAccessException, InvocationTargetException {
            if (onStream) {
                setter.invoke(in, filter);
            } else {
                setter.invoke(null, in, filter);
            }
        }
    }
}
