package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;

import org.junit.Test;

/**
 * OpenMRS gives each module a class loader of its own, and a new one when a module restarts:
 * each must load its own copy of the native library and run its own nodes.
 */
public class ClassLoaderIsolationTest {

    private static final String CLUSTER = "org.openmrs.module.cluster.Cluster";

    @Test(timeout = 60_000)
    public void twoClassLoadersEachRunANodeFromTheJar() throws Exception {
        URL jar = builtFile("openmrs.cluster.test.jar").toURI().toURL();
        try (URLClassLoader first = new URLClassLoader(new URL[] {jar}, ClassLoader.getPlatformClassLoader());
             URLClassLoader second = new URLClassLoader(new URL[] {jar}, ClassLoader.getPlatformClassLoader())) {
            Class<?> firstCluster = first.loadClass(CLUSTER);
            Class<?> secondCluster = second.loadClass(CLUSTER);
            assertNotSame(firstCluster, secondCluster);
            assertNotSame(Cluster.class, firstCluster);

            Object a = firstCluster.getMethod("embedded").invoke(null);
            Object b = secondCluster.getMethod("embedded").invoke(null);
            try {
                assertEquals(1, ((List<?>) call(a, "members")).size());
                assertEquals(1, ((List<?>) call(b, "members")).size());
                assertEquals(a, firstCluster.getMethod("current").invoke(null));
                assertEquals(b, secondCluster.getMethod("current").invoke(null));
            } finally {
                call(b, "close");
                call(a, "close");
            }
        }
    }

    @Test(timeout = 60_000)
    public void locksWorkFromTheJarWithoutShedLockOnTheClassPath() throws Exception {
        URL jar = builtFile("openmrs.cluster.test.jar").toURI().toURL();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar}, ClassLoader.getPlatformClassLoader())) {
            assertThrows(ClassNotFoundException.class,
                    () -> loader.loadClass("net.javacrumbs.shedlock.core.LockProvider"));
            Object node = loader.loadClass(CLUSTER).getMethod("embedded").invoke(null);
            try {
                Class<?> lockType = loader.loadClass("org.openmrs.module.cluster.ClusterLock");
                Object lock = node.getClass().getMethod("lock", String.class).invoke(node, "orders");
                assertEquals(true, lockType.getMethod("tryLock").invoke(lock));
                lockType.getMethod("unlock").invoke(lock);
            } finally {
                call(node, "close");
            }
        }
    }

    @Test(timeout = 60_000)
    public void cachesWorkFromTheJarWithoutSpringOnTheClassPath() throws Exception {
        URL jar = builtFile("openmrs.cluster.test.jar").toURI().toURL();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar}, ClassLoader.getPlatformClassLoader())) {
            assertThrows(ClassNotFoundException.class, () -> loader.loadClass("org.springframework.cache.CacheManager"));
            Object node = loader.loadClass(CLUSTER).getMethod("embedded").invoke(null);
            try {
                Class<?> cacheType = loader.loadClass("org.openmrs.module.cluster.ClusterCache");
                Object cache = node.getClass().getMethod("cache", String.class).invoke(node, "concepts");
                cacheType.getMethod("put", Object.class, Object.class).invoke(cache, "weight", "kg");
                assertEquals("kg", cacheType.getMethod("get", Object.class).invoke(cache, "weight"));
            } finally {
                call(node, "close");
            }
        }
    }

    @Test(timeout = 60_000)
    public void aClassPathWithoutTheLibrarySaysHowToBuildIt() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(mainClassDirs(), ClassLoader.getPlatformClassLoader())) {
            try {
                loader.loadClass(CLUSTER).getMethod("embedded").invoke(null);
                throw new AssertionError("expected the start to fail without the native library");
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                assertEquals("org.openmrs.module.cluster.ClusterException", cause.getClass().getName());
                assertTrue(cause.getMessage(), cause.getMessage().contains("is not on the classpath"));
                assertTrue(cause.getMessage(), cause.getMessage().contains("cargo build --release --lib"));
            }
        }
    }

    @Test(timeout = 60_000)
    public void theLibraryPathPropertyLoadsALibraryFromDisk() throws Exception {
        File library = builtFile("openmrs.cluster.test.library");
        System.setProperty("openmrs.cluster.native.path", library.getPath());
        try (URLClassLoader loader = new URLClassLoader(mainClassDirs(), ClassLoader.getPlatformClassLoader())) {
            Object node = loader.loadClass(CLUSTER).getMethod("embedded").invoke(null);
            try {
                assertEquals(1, ((List<?>) call(node, "members")).size());
            } finally {
                call(node, "close");
            }
        } finally {
            System.clearProperty("openmrs.cluster.native.path");
        }
    }

    private static URL[] mainClassDirs() throws MalformedURLException {
        String[] classDirs = System.getProperty("openmrs.cluster.test.mainClasses").split(File.pathSeparator);
        URL[] urls = new URL[classDirs.length];
        for (int i = 0; i < classDirs.length; i++) {
            urls[i] = new File(classDirs[i]).toURI().toURL();
        }
        return urls;
    }

    private static Object call(Object target, String method) throws ReflectiveOperationException {
        return target.getClass().getMethod(method).invoke(target);
    }

    private static File builtFile(String property) {
        String path = System.getProperty(property);
        assertTrue("system property " + property + " is not set: run this test through Gradle", path != null);
        File file = new File(path);
        assertTrue(file + " does not exist: run 'gradle jar'", file.isFile());
        return file;
    }
}
