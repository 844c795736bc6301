package org.openmrs.module.cluster.internal;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Forwards the native library's log records to java.util.logging, on one daemon thread per loaded
 * library. A record of Rust target {@code a::b} goes to the logger
 * {@code org.openmrs.module.cluster.native.a.b}. The system property {@value #LEVEL_PROPERTY}
 * (ERROR, WARN, INFO, DEBUG or TRACE; default INFO) sets the most verbose level forwarded.
 */
final class NativeLog implements Runnable {

    static final String LEVEL_PROPERTY = "openmrs.cluster.log.level";
    private static final String LOGGER_PREFIX = "org.openmrs.module.cluster.native";
    private static final List<String> RUST_LEVELS = Arrays.asList("ERROR", "WARN", "INFO", "DEBUG", "TRACE");
    private static final long POLL_MS = 500;
    private static final Logger LOG = Logger.getLogger(NativeLog.class.getName());

    private final Map<String, Logger> loggers = new HashMap<String, Logger>();

    private NativeLog() {
    }

    /** Sets the native log level and starts the forwarding thread. */
    static void start() {
        Native.logInit(configuredLevel(System.getProperty(LEVEL_PROPERTY)));
        Thread thread = new Thread(new NativeLog(), "openmrs-cluster-native-log");
        thread.setDaemon(true);
        thread.setContextClassLoader(NativeLog.class.getClassLoader());
        thread.start();
    }

    /** The Rust level named by {@code property}, or INFO (with a warning if it names none). */
    static String configuredLevel(String property) {
        if (property == null) {
            return "INFO";
        }
        String level = property.trim().toUpperCase(Locale.ROOT);
        if (!RUST_LEVELS.contains(level)) {
            LOG.warning(LEVEL_PROPERTY + ": must be one of " + RUST_LEVELS + ", got '" + property + "'; using INFO");
            return "INFO";
        }
        return level;
    }

    static Level javaLevel(String rustLevel) {
        switch (rustLevel) {
            case "ERROR":
                return Level.SEVERE;
            case "WARN":
                return Level.WARNING;
            case "DEBUG":
                return Level.FINE;
            case "TRACE":
                return Level.FINEST;
            default:
                return Level.INFO;
        }
    }

    static String loggerName(String rustTarget) {
        return rustTarget.isEmpty() ? LOGGER_PREFIX : LOGGER_PREFIX + "." + rustTarget.replace("::", ".");
    }

    @Override
    public void run() {
        try {
            while (true) {
                String[] records = Native.logPoll(POLL_MS);
                for (int i = 0; i + 2 < records.length; i += 3) {
                    logger(records[i + 1]).logp(javaLevel(records[i]), null, null, records[i + 2]);
                }
            }
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "the native library's log is no longer forwarded", e);
        }
    }

    private Logger logger(String rustTarget) {
        Logger logger = loggers.get(rustTarget);
        if (logger == null) {
            logger = Logger.getLogger(loggerName(rustTarget));
            loggers.put(rustTarget, logger);
        }
        return logger;
    }
}
