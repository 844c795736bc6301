package org.openmrs.module.cluster;

/**
 * Thrown by every method of this library that fails for a cluster reason: a join refused or
 * timed out, a version or secret mismatch, a node already closed. The message says what
 * happened in words a person can act on.
 */
public class ClusterException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ClusterException(String message) {
        super(message);
    }

    public ClusterException(String message, Throwable cause) {
        super(message, cause);
    }
}
