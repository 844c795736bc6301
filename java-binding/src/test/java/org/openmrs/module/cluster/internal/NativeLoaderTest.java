package org.openmrs.module.cluster.internal;

import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.junit.Test;
import org.openmrs.module.cluster.ClusterException;

public class NativeLoaderTest {

    @Test
    public void linuxX8664IsSupported() {
        NativeLoader.checkPlatform("Linux", "amd64");
        NativeLoader.checkPlatform("Linux", "x86_64");
    }

    @Test
    public void otherPlatformsAreNamedInTheError() {
        String message = assertThrows(ClusterException.class,
                () -> NativeLoader.checkPlatform("Mac OS X", "aarch64")).getMessage();
        assertTrue(message, message.contains("Mac OS X/aarch64"));
        assertTrue(message, message.contains("openmrs.cluster.native.path"));
        message = assertThrows(ClusterException.class,
                () -> NativeLoader.checkPlatform("Linux", "aarch64")).getMessage();
        assertTrue(message, message.contains("Linux/aarch64"));
    }
}
