package org.openmrs.module.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The classes that Java serialization may instantiate from bytes another node sent (events, cache
 * keys and values, invalidated keys, queue items): whatever else a stream names is refused before
 * its class is even loaded, since reading an object runs code of its class (and of the classes it
 * refers to) that a sender could chain into running anything. One instance per {@link Cluster}:
 * the defaults, extended by {@code cluster.serialization.allow}. Refusals are logged once per class
 * name. Thread-safe.
 *
 * <p>Allowed by default: primitive types and arrays of allowed types; the package {@code java.lang}
 * itself (not {@code java.lang.reflect} nor {@code java.lang.invoke}); {@code java.util},
 * {@code java.time} and their subpackages; {@code java.math}; {@code org.openmrs} and below (this
 * library's own types are there); {@code org.springframework.cache.interceptor.SimpleKey}, the key
 * of OpenMRS core's cached service methods of several arguments, and
 * {@code org.springframework.cache.support.NullValue}, how a Spring cache stores a null result.
 */
final class AllowedClasses {

    /** Packages allowed with every package below them; each ends with a dot. */
    private static final List<String> DEFAULT_TREES = Collections.unmodifiableList(Arrays.asList(
            "java.util.", "java.time.", "java.math.", "org.openmrs."));
    /** Allowed without their subpackages, which hold reflection and method handles. */
    private static final String JAVA_LANG = "java.lang.";
    private static final List<String> DEFAULT_CLASSES = Collections.unmodifiableList(Arrays.asList(
            "org.springframework.cache.interceptor.SimpleKey", "org.springframework.cache.support.NullValue"));
    private static final Set<String> PRIMITIVES = Collections.unmodifiableSet(new HashSet<String>(Arrays.asList(
            "boolean", "byte", "char", "short", "int", "long", "float", "double", "void")));
    /** The type letters of primitive arrays' element types, as in {@code [I}. */
    private static final String PRIMITIVE_CODES = "ZBCSIJFD";
    private static final Logger LOG = Logger.getLogger(AllowedClasses.class.getName());

    private final String[] trees;
    private final Set<String> classes;
    private final LogOnce refusals = new LogOnce(LOG);

    private AllowedClasses(List<String> trees, Set<String> classes) {
        this.trees = trees.toArray(new String[0]);
        this.classes = classes;
    }

    /** The defaults alone. */
    static AllowedClasses defaults() {
        return with(Collections.<String>emptyList());
    }

    /**
     * The defaults, and {@code entries}: class names ({@code com.example.Dto}, a nested class as
     * {@code com.example.Outer$Dto}) and packages with everything below them ({@code com.example.*}),
     * as {@link ClusterConfig} checked them.
     */
    static AllowedClasses with(List<String> entries) {
        List<String> trees = new ArrayList<String>(DEFAULT_TREES);
        Set<String> classes = new HashSet<String>(DEFAULT_CLASSES);
        for (String entry : entries) {
            if (entry.endsWith(".*")) {
                trees.add(entry.substring(0, entry.length() - 1));
            } else {
                classes.add(entry);
            }
        }
        return new AllowedClasses(trees, classes);
    }

    /** Whether a stream may name the class {@code name} (as {@link Class#getName()} spells it). */
    boolean allows(String name) {
        if (name.startsWith("[")) {
            return allowsArray(name);
        }
        if (classes.contains(name) || PRIMITIVES.contains(name)) {
            return true;
        }
        if (name.startsWith(JAVA_LANG) && name.indexOf('.', JAVA_LANG.length()) < 0) {
            return true;
        }
        for (String tree : trees) {
            if (name.startsWith(tree)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Logs, once per class name, that a serialized object of {@code source} (such as "topic 'x'")
     * was not read because of class {@code className}, and returns the exception that says why.
     */
    RefusedClassException refuse(String className, String why, String source) {
        RefusedClassException refused = new RefusedClassException(PeerText.clean(className), why);
        refusals.warn(refused.className(), () -> "an object of " + source + " was not read: " + refused.getMessage()
                + "; later refusals of this class are logged at FINE only");
        return refused;
    }

    private boolean allowsArray(String name) {
        int dimensions = 0;
        while (dimensions < name.length() && name.charAt(dimensions) == '[') {
            dimensions++;
        }
        String element = name.substring(dimensions);
        if (element.length() == 1) {
            return PRIMITIVE_CODES.indexOf(element.charAt(0)) >= 0;
        }
        return element.length() > 2 && element.startsWith("L") && element.endsWith(";")
                && allows(element.substring(1, element.length() - 1));
    }
}
