package org.openmrs.module.cluster.it;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.spring.ClusterCacheManager;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Spring caching on the node open in this JVM, as a deployment declares it: the bean
 * {@code apiCacheManager} is a {@link ClusterCacheManager} (INVALIDATION mode), and a service's
 * annotations do the rest.
 */
@Configuration
@EnableCaching
public class CachingConfig {

    @Bean
    public ClusterCacheManager apiCacheManager() {
        return new ClusterCacheManager(Cluster.current());
    }

    @Bean
    public CachedNameService cachedNameService() {
        return new CachedNameService();
    }
}
