package org.openmrs.module.cluster.jcache.tck;

import javax.cache.annotation.BeanProvider;

import com.google.inject.Guice;
import com.google.inject.Injector;

import org.jsr107.ri.annotations.guice.module.CacheAnnotationsModule;

/**
 * What the TCK's annotation tests ask for their beans: Guice with the JSR-107 reference
 * interceptors (cache-annotations-ri-guice), which cache through {@code Caching}'s provider, the
 * jar's. Neither the reference implementation nor the TCK publishes a BeanProvider of its own.
 */
public final class GuiceBeanProvider implements BeanProvider {

    private final Injector injector = Guice.createInjector(new CacheAnnotationsModule());

    @Override
    public <T> T getBeanByType(Class<T> type) {
        return injector.getInstance(type);
    }
}
