package org.openmrs.module.cluster.internal;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.logging.Logger;

import org.openmrs.module.cluster.ClusterException;

/**
 * Loads the native library into the class loader that loaded this class, once. The library comes
 * from this jar ({@value #RESOURCE}), or from the file named by the system property
 * {@value #PATH_PROPERTY}. Either way it is first copied to a temporary file of its own, because
 * a JVM lets one class loader load a given library file: so every class loader (an OpenMRS module
 * gets a new one each time it starts) loads its own copy. The copy goes into a directory created
 * for it alone, readable by this user only (0700): in a shared temporary directory another local
 * user could otherwise read or swap the file between the copy and the load, and have this JVM run
 * their code. Not part of the public API.
 */
public final class NativeLoader {

    static final String RESOURCE = "/native/linux-x86_64/libopenmrs_cluster.so";
    static final String PATH_PROPERTY = "openmrs.cluster.native.path";
    /** The directory and the copy: this user's alone; the copy executable, as a mapped library is. */
    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final String LIBRARY_FILE = "libopenmrs_cluster.so";

    private static final Logger LOG = Logger.getLogger(NativeLoader.class.getName());

    /** Whether this class loader loaded the library; guarded by NativeLoader.class. */
    private static boolean loaded;

    private NativeLoader() {
    }

    /**
     * Loads the library unless this class loader already did, and starts forwarding its log.
     *
     * @throws ClusterException saying why the library cannot be loaded and what to do about it
     */
    public static synchronized void load() {
        if (loaded) {
            return;
        }
        String override = System.getProperty(PATH_PROPERTY);
        if (override == null) {
            checkPlatform(System.getProperty("os.name"), System.getProperty("os.arch"));
        }
        try (InputStream library = override == null ? openResource() : openFile(override)) {
            loadCopy(library, override == null ? "the jar's " + RESOURCE : override);
        } catch (IOException e) {
            throw new ClusterException("cannot read the native library: " + e.getMessage(), e);
        }
        loaded = true;
        NativeLog.start();
        LOG.fine("loaded native library " + Native.libraryVersion() + " from " + (override == null ? RESOURCE : override));
    }

    /** Refuses any platform but linux-x86_64, the only one whose library the jar carries. */
    static void checkPlatform(String osName, String osArch) {
        boolean linux = osName != null && osName.startsWith("Linux");
        boolean x86_64 = "amd64".equals(osArch) || "x86_64".equals(osArch);
        if (!linux || !x86_64) {
            throw new ClusterException("this JVM runs on " + osName + "/" + osArch
                    + ", and the openmrs-cluster jar carries a native library for Linux/x86_64 only;"
                    + " build libopenmrs_cluster for this platform (cargo build --release --lib) and point"
                    + " the system property " + PATH_PROPERTY + " at it");
        }
    }

    private static InputStream openResource() {
        InputStream in = NativeLoader.class.getResourceAsStream(RESOURCE);
        if (in == null) {
            throw new ClusterException("the native library " + RESOURCE + " is not on the classpath: build the"
                    + " jar with 'gradle jar' (it runs 'cargo build --release --lib' and packs the library),"
                    + " or point the system property " + PATH_PROPERTY + " at a built libopenmrs_cluster.so");
        }
        return in;
    }

    private static InputStream openFile(String path) {
        File file = new File(path);
        if (!file.isFile() || !file.canRead()) {
            throw new ClusterException(PATH_PROPERTY + ": no readable file at '" + path + "'");
        }
        try {
            return new FileInputStream(file);
        } catch (IOException e) {
            throw new ClusterException(PATH_PROPERTY + ": cannot read '" + path + "': " + e.getMessage(), e);
        }
    }

    private static void loadCopy(InputStream library, String origin) throws IOException {
        Path copy = extract(library);
        try {
            System.load(copy.toString());
        } catch (UnsatisfiedLinkError e) {
            throw new ClusterException("cannot load the native library from " + origin + " (copied to " + copy
                    + "): " + e.getMessage() + "; if the temporary directory is mounted noexec, point"
                    + " -Djava.io.tmpdir elsewhere", e);
        } finally {
            // Linux keeps a loaded library mapped after its file is deleted.
            delete(copy);
            delete(copy.getParent());
        }
    }

    /**
     * Copies {@code library} into a new directory of the temporary directory, created for it alone
     * (it fails rather than reuse one that exists) with {@link #OWNER_ONLY} permissions, the file
     * created inside with the same; on a file system without POSIX permissions, the defaults.
     */
    static Path extract(InputStream library) throws IOException {
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        FileAttribute<?>[] ownerOnly = posix ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                : new FileAttribute<?>[0];
        Path directory = Files.createTempDirectory("openmrs-cluster-", ownerOnly);
        Path copy = directory.resolve(LIBRARY_FILE);
        try (OutputStream out = Files.newOutputStream(Files.createFile(copy, ownerOnly))) {
            byte[] buffer = new byte[64 * 1024];
            int read;
            while ((read = library.read(buffer)) > 0) {
                out.write(buffer, 0, read);
            }
        } catch (IOException e) {
            delete(copy);
            delete(directory);
            throw e;
        }
        return copy;
    }

    private static void delete(Path path) {
        File file = path.toFile();
        if (!file.delete() && file.exists()) {
            file.deleteOnExit();
        }
    }
}
