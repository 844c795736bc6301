package org.openmrs.module.cluster.jcache;

import java.lang.management.ManagementFactory;

import javax.cache.CacheException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Registers a cache's configuration and statistics beans in the platform MBean server under the
 * names JSR-107 gives them: {@code javax.cache:type=CacheConfiguration|CacheStatistics,
 * CacheManager=<uri>,Cache=<name>}.
 */
final class MBeans {

    enum Kind { CacheConfiguration, CacheStatistics }

    private MBeans() {
    }

    static void register(Object bean, Kind kind, String managerUri, String cacheName) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = name(kind, managerUri, cacheName);
        try {
            if (!server.isRegistered(name)) {
                server.registerMBean(bean, name);
            }
        } catch (JMException e) {
            throw new CacheException("cannot register " + name + ": " + e.getMessage(), e);
        }
    }

    static void unregister(Kind kind, String managerUri, String cacheName) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = name(kind, managerUri, cacheName);
        try {
            if (server.isRegistered(name)) {
                server.unregisterMBean(name);
            }
        } catch (JMException e) {
            throw new CacheException("cannot unregister " + name + ": " + e.getMessage(), e);
        }
    }

    private static ObjectName name(Kind kind, String managerUri, String cacheName) {
        String text = "javax.cache:type=" + kind + ",CacheManager=" + safe(managerUri) + ",Cache=" + safe(cacheName);
        try {
            return new ObjectName(text);
        } catch (JMException e) {
            throw new CacheException("no MBean can be named " + text + ": " + e.getMessage(), e);
        }
    }

    /** JMX gives these characters a meaning in names; JSR-107's implementations turn them into dots. */
    private static String safe(String part) {
        return part.replaceAll("[,:=\n]", ".");
    }
}
