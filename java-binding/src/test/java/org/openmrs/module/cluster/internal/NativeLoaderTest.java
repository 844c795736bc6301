package org.openmrs.module.cluster.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;

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

    @Test
    public void theLibraryIsCopiedIntoANewDirectoryOnlyThisUserCanEnter() throws IOException {
        byte[] library = new byte[200_000];
        library[199_999] = 42;
        Path copy = NativeLoader.extract(new ByteArrayInputStream(library));
        Path other = NativeLoader.extract(new ByteArrayInputStream(library));
        try {
            Path directory = copy.getParent();
            assertEquals(Paths.get(System.getProperty("java.io.tmpdir")).toRealPath(),
                    directory.getParent().toRealPath());
            assertNotEquals("each load gets a directory of its own", directory, other.getParent());
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(directory)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copy)));
            assertArrayEquals(library, Files.readAllBytes(copy));
        } finally {
            for (Path path : new Path[] {copy, other}) {
                Files.deleteIfExists(path);
                if (path.getParent().getFileName().toString().startsWith("openmrs-cluster-")) {
                    Files.deleteIfExists(path.getParent());
                }
            }
        }
    }
}
