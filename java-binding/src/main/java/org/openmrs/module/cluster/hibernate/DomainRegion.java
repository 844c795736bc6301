package org.openmrs.module.cluster.hibernate;

import java.util.List;

import org.hibernate.cache.CacheException;
import org.hibernate.cache.cfg.spi.DomainDataCachingConfig;
import org.hibernate.cache.cfg.spi.DomainDataRegionConfig;
import org.hibernate.cache.spi.DomainDataRegion;
import org.hibernate.cache.spi.RegionFactory;
import org.hibernate.cache.spi.access.CollectionDataAccess;
import org.hibernate.cache.spi.access.EntityDataAccess;
import org.hibernate.cache.spi.access.NaturalIdDataAccess;
import org.hibernate.engine.spi.SharedSessionContractImplementor;
import org.hibernate.metamodel.model.domain.NavigableRole;

/**
 * A region of entities, collections and natural ids. Values stay on the node that loaded them
 * (they are Hibernate's disassembled state, full of application classes); only invalidations
 * travel.
 */
final class DomainRegion implements DomainDataRegion, Invalidations.Target {

    private final DomainDataRegionConfig config;
    private final RegionFactory factory;
    private final Invalidations invalidations;
    private final LocalStore store;

    DomainRegion(DomainDataRegionConfig config, RegionFactory factory, Invalidations invalidations, long maxEntries) {
        this.config = config;
        this.factory = factory;
        this.invalidations = invalidations;
        this.store = new LocalStore(maxEntries);
        invalidations.register(getName(), this);
    }

    @Override
    public EntityDataAccess getEntityDataAccess(NavigableRole rootEntityRole) {
        return new EntityAccess(this, find(config.getEntityCaching(), rootEntityRole).getAccessType());
    }

    /**
     * @throws CacheException on Hibernate 6 and later, whose natural-id access has other
     *                        signatures than this class (built on Hibernate 5.6) implements; at
     *                        the session factory's start, not in a user's transaction
     */
    @Override
    public NaturalIdDataAccess getNaturalIdDataAccess(NavigableRole rootEntityRole) {
        if (!NaturalIdAccess.SIGNATURES_MATCH) {
            throw new CacheException("region '" + getName() + "': natural-id caching (@NaturalIdCache on "
                    + rootEntityRole.getFullPath() + ") is supported on Hibernate 5.6 only; remove it");
        }
        return new NaturalIdAccess(this, find(config.getNaturalIdCaching(), rootEntityRole).getAccessType());
    }

    @Override
    public CollectionDataAccess getCollectionDataAccess(NavigableRole collectionRole) {
        return new CollectionAccess(this, find(config.getCollectionCaching(), collectionRole).getAccessType());
    }

    private <T extends DomainDataCachingConfig> T find(List<T> configs, NavigableRole role) {
        for (T candidate : configs) {
            if (candidate.getNavigableRole().equals(role)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("region '" + getName() + "' has no caching configured for " + role);
    }

    @Override
    public String getName() {
        return config.getRegionName();
    }

    @Override
    public RegionFactory getRegionFactory() {
        return factory;
    }

    @Override
    public void clear() {
        invalidateAllEverywhere();
    }

    @Override
    public void destroy() {
        invalidations.unregister(getName(), this);
        store.invalidateAll(LocalClock.now());
    }

    Object get(RegionKey key) {
        return invalidations.serving() ? store.get(key) : null;
    }

    boolean putFromLoad(RegionKey key, Object value, SharedSessionContractImplementor session) {
        ClusterTransaction transaction = ClusterTransaction.of(session);
        return transaction != null && invalidations.serving() && store.putFromLoad(key, value, transaction.began());
    }

    void invalidateHere(RegionKey key) {
        store.invalidate(key, LocalClock.now());
    }

    void invalidateAllHere() {
        store.invalidateAll(LocalClock.now());
    }

    /** From a transaction's completion (or, with a null session, from outside one). */
    void invalidateEverywhere(SharedSessionContractImplementor session, RegionKey key) {
        ClusterTransaction.invalidate(session, invalidations, getName(), key.bytes());
    }

    void invalidateAllEverywhere() {
        invalidations.invalidate(getName(), null);
    }

    @Override
    public void invalidated(byte[] key, long now) {
        if (key == null) {
            store.invalidateAll(now);
        } else {
            store.invalidate(RegionKey.wrap(key), now);
        }
    }

    @Override
    public void stopServing() {
        store.invalidateAll(LocalClock.now());
    }
}
