package org.openmrs.module.cluster.internal;

import static org.junit.Assert.assertEquals;

import java.util.logging.Level;

import org.junit.Test;

public class NativeLogTest {

    @Test
    public void rustTargetsBecomeLoggerNames() {
        assertEquals("org.openmrs.module.cluster.native.openmrs_cluster.node.membership",
                NativeLog.loggerName("openmrs_cluster::node::membership"));
        assertEquals("org.openmrs.module.cluster.native.foca", NativeLog.loggerName("foca"));
        assertEquals("org.openmrs.module.cluster.native", NativeLog.loggerName(""));
    }

    @Test
    public void rustLevelsBecomeJavaLevels() {
        assertEquals(Level.SEVERE, NativeLog.javaLevel("ERROR"));
        assertEquals(Level.WARNING, NativeLog.javaLevel("WARN"));
        assertEquals(Level.INFO, NativeLog.javaLevel("INFO"));
        assertEquals(Level.FINE, NativeLog.javaLevel("DEBUG"));
        assertEquals(Level.FINEST, NativeLog.javaLevel("TRACE"));
    }

    @Test
    public void theLevelPropertyDefaultsToInfo() {
        assertEquals("INFO", NativeLog.configuredLevel(null));
        assertEquals("DEBUG", NativeLog.configuredLevel(" debug "));
        assertEquals("INFO", NativeLog.configuredLevel("verbose"));
    }
}
