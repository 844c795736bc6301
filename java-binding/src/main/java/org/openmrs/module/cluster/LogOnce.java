package org.openmrs.module.cluster;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Logs a warning the first time each key comes up and at FINE after that, so that a peer sending
 * the same bad input over and over cannot flood the log. At most {@value #MAX_KEYS} keys are
 * remembered: a flood of distinct keys gets one more warning saying that later ones are logged at
 * FINE only, and the memory stays bounded. Thread-safe.
 */
final class LogOnce {

    static final int MAX_KEYS = 256;

    private final Logger log;
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean full = new AtomicBoolean();

    LogOnce(Logger log) {
        this.log = log;
    }

    /** Logs {@code message} as a warning if {@code key} is new, else at FINE. */
    void warn(String key, Supplier<String> message) {
        if (seen.contains(key)) {
            log.log(Level.FINE, message);
        } else if (seen.size() < MAX_KEYS) {
            log.log(seen.add(key) ? Level.WARNING : Level.FINE, message);
        } else if (full.compareAndSet(false, true)) {
            log.log(Level.WARNING, message.get() + "; " + MAX_KEYS + " kinds were logged already, so every"
                    + " later new one is logged at FINE only");
        } else {
            log.log(Level.FINE, message);
        }
    }
}
