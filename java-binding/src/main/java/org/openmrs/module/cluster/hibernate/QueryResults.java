package org.openmrs.module.cluster.hibernate;

import java.util.concurrent.ConcurrentHashMap;

import org.hibernate.cache.spi.QueryResultsRegion;
import org.hibernate.cache.spi.RegionFactory;
import org.hibernate.cache.spi.support.AbstractRegion;
import org.hibernate.engine.spi.SharedSessionContractImplementor;

/**
 * Cached query results, kept on the node that ran the query. Hibernate stores each with the
 * start of its transaction ({@link LocalClock}) and serves it only while no table it read was
 * invalidated since ({@link Timestamps}), so nothing here needs to travel.
 */
final class QueryResults extends AbstractRegion implements QueryResultsRegion {

    private final Invalidations invalidations;
    private final long maxEntries;
    private final ConcurrentHashMap<Object, Object> results = new ConcurrentHashMap<Object, Object>();

    QueryResults(String name, RegionFactory factory, Invalidations invalidations, long maxEntries) {
        super(name, factory);
        this.invalidations = invalidations;
        this.maxEntries = maxEntries;
    }

    @Override
    public Object getFromCache(Object key, SharedSessionContractImplementor session) {
        return invalidations.serving() ? results.get(key) : null;
    }

    @Override
    public void putIntoCache(Object key, Object value, SharedSessionContractImplementor session) {
        if (invalidations.serving() && (results.size() < maxEntries || results.containsKey(key))) {
            results.put(key, value);
        }
    }

    @Override
    public void clear() {
        results.clear();
    }

    @Override
    public void destroy() {
        results.clear();
    }
}
