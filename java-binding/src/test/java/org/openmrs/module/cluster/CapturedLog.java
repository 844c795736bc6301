package org.openmrs.module.cluster;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

import org.junit.rules.ExternalResource;

/** The records one java.util.logging logger publishes during a test. */
public final class CapturedLog extends ExternalResource {

    private final Logger logger;
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    /** Captures the logger {@code name} and those below it. */
    public CapturedLog(String name) {
        this.logger = Logger.getLogger(name);
    }

    @Override
    protected void before() {
        logger.addHandler(handler);
    }

    @Override
    protected void after() {
        logger.removeHandler(handler);
    }

    /** The messages of the warnings so far that contain {@code text}. */
    public List<String> warnings(String text) {
        return records.stream().filter(r -> r.getLevel() == Level.WARNING)
                .map(r -> r.getMessage() == null ? "" : r.getMessage())
                .filter(m -> m.contains(text)).collect(Collectors.toList());
    }
}
