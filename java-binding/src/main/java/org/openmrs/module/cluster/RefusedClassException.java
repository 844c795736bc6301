package org.openmrs.module.cluster;

/**
 * Bytes from another node that were not read because they named a class outside the allow-list
 * ({@link AllowedClasses}) or went past a limit of the input ({@link InputLimits}). An
 * {@link IllegalArgumentException}, as {@link CacheCodec#decode} throws for bytes it cannot read.
 */
final class RefusedClassException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String className;

    RefusedClassException(String className, String why) {
        super("class " + className + " refused: " + why);
        this.className = className;
    }

    /** The class the refusal concerns, cleaned for logs. */
    String className() {
        return className;
    }
}
