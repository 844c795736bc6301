package org.openmrs.module.cluster.hibernate;

import org.hibernate.cache.spi.DomainDataRegion;
import org.hibernate.cache.spi.access.AccessType;
import org.hibernate.cache.spi.access.CachedDomainDataAccess;
import org.hibernate.cache.spi.access.SoftLock;
import org.hibernate.engine.spi.SharedSessionContractImplementor;

/**
 * Access to a region in invalidation mode, whatever the access type asked for (it is stronger
 * than each): a value enters the cache only from a database read (put-from-load), and every
 * change ends, after the transaction, in an invalidation on every node that returns once each
 * has dropped the key ({@link Invalidations}). Hibernate calls {@link #unlockItem} or an
 * {@code afterUpdate} in the transaction's completion, before its commit call returns.
 */
abstract class RegionAccess implements CachedDomainDataAccess {

    final DomainRegion region;
    private final AccessType accessType;

    RegionAccess(DomainRegion region, AccessType accessType) {
        this.region = region;
        this.accessType = accessType;
    }

    @Override
    public DomainDataRegion getRegion() {
        return region;
    }

    @Override
    public AccessType getAccessType() {
        return accessType;
    }

    @Override
    public Object get(SharedSessionContractImplementor session, Object key) {
        return region.get((RegionKey) key);
    }

    @Override
    public boolean putFromLoad(SharedSessionContractImplementor session, Object key, Object value, Object version) {
        return region.putFromLoad((RegionKey) key, value, session);
    }

    @Override
    public boolean putFromLoad(SharedSessionContractImplementor session, Object key, Object value, Object version,
            boolean minimalPutOverride) {
        return region.putFromLoad((RegionKey) key, value, session);
    }

    /** Nothing to do before the write: readers are refused by the invalidation that follows it. */
    @Override
    public SoftLock lockItem(SharedSessionContractImplementor session, Object key, Object version) {
        return null;
    }

    /** After a delete, a collection change or a rollback: the row may have changed. */
    @Override
    public void unlockItem(SharedSessionContractImplementor session, Object key, SoftLock lock) {
        region.invalidateEverywhere(session, (RegionKey) key);
    }

    @Override
    public void remove(SharedSessionContractImplementor session, Object key) {
        region.invalidateHere((RegionKey) key);
    }

    @Override
    public void removeAll(SharedSessionContractImplementor session) {
        region.invalidateAllHere();
    }

    @Override
    public void evict(Object key) {
        region.invalidateEverywhere(null, (RegionKey) key);
    }

    @Override
    public void evictAll() {
        region.invalidateAllEverywhere();
    }

    @Override
    public SoftLock lockRegion() {
        return null;
    }

    /** After a bulk update or delete (HQL), in the transaction's completion. */
    @Override
    public void unlockRegion(SoftLock lock) {
        region.invalidateAllEverywhere();
    }

    @Override
    public boolean contains(Object key) {
        return region.get((RegionKey) key) != null;
    }
}
