package org.openmrs.module.cluster.hibernate;

import java.util.Collections;
import java.util.Map;

import org.hibernate.SessionFactory;
import org.hibernate.cfg.Configuration;

/** Session factories on the test's shared H2 database, with one second-level cache or another. */
final class Databases {

    /** The region factory under test. */
    static final String CLUSTER = "cluster";
    /** hibernate-jcache over Caffeine's JCache, a cache of each JVM's own: the baseline. */
    static final String JCACHE = "jcache";
    /**
     * Infinispan's clustered region in invalidation mode, as OpenMRS 2.8+ ships it; only the
     * benchmarks' classpath has it (JGroups' stack: {@code hibernate.cache.infinispan.jgroups_cfg}).
     */
    static final String INFINISPAN = "infinispan";
    /** No second-level cache: for creating the schema, and the benchmarks' database baseline. */
    static final String NONE = "none";

    private Databases() {
    }

    static SessionFactory open(String url, String cache) {
        return open(url, cache, Collections.emptyMap());
    }

    /** As {@link #open(String, String)}, with more Hibernate settings and entities. */
    static SessionFactory open(String url, String cache, Map<String, String> settings, Class<?>... entities) {
        Configuration config = new Configuration().addAnnotatedClass(Item.class);
        for (Class<?> entity : entities) {
            config.addAnnotatedClass(entity);
        }
        config.setProperty("hibernate.connection.driver_class", "org.h2.Driver");
        config.setProperty("hibernate.connection.url", url);
        config.setProperty("hibernate.connection.username", "sa");
        config.setProperty("hibernate.connection.password", "");
        config.setProperty("hibernate.connection.pool_size", "8");
        // READ COMMITTED, as OpenMRS runs on MySQL/MariaDB.
        config.setProperty("hibernate.connection.isolation", "2");
        config.setProperty("hibernate.dialect", "org.hibernate.dialect.H2Dialect");
        config.setProperty("hibernate.hbm2ddl.auto", NONE.equals(cache) ? "create" : "none");
        config.setProperty("hibernate.generate_statistics", "true");
        boolean cached = !NONE.equals(cache);
        config.setProperty("hibernate.cache.use_second_level_cache", Boolean.toString(cached));
        config.setProperty("hibernate.cache.use_query_cache", Boolean.toString(cached));
        if (CLUSTER.equals(cache)) {
            config.setProperty("hibernate.cache.region.factory_class", ClusterRegionFactory.class.getName());
        } else if (JCACHE.equals(cache)) {
            config.setProperty("hibernate.cache.region.factory_class", "jcache");
            config.setProperty("hibernate.javax.cache.provider",
                    "com.github.benmanes.caffeine.jcache.spi.CaffeineCachingProvider");
            config.setProperty("hibernate.javax.cache.missing_cache_strategy", "create");
        } else if (INFINISPAN.equals(cache)) {
            config.setProperty("hibernate.cache.region.factory_class", "infinispan");
        }
        settings.forEach(config::setProperty);
        return config.buildSessionFactory();
    }
}
