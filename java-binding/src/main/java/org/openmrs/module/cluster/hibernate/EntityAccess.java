package org.openmrs.module.cluster.hibernate;

import org.hibernate.cache.spi.access.AccessType;
import org.hibernate.cache.spi.access.EntityDataAccess;
import org.hibernate.cache.spi.access.SoftLock;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.hibernate.engine.spi.SharedSessionContractImplementor;
import org.hibernate.persister.entity.EntityPersister;

/** Entities: an insert or update caches nothing; the update's completion invalidates everywhere. */
final class EntityAccess extends RegionAccess implements EntityDataAccess {

    EntityAccess(DomainRegion region, AccessType accessType) {
        super(region, accessType);
    }

    @Override
    public Object generateCacheKey(Object id, EntityPersister rootEntityDescriptor, SessionFactoryImplementor factory,
            String tenantIdentifier) {
        return RegionKey.of(rootEntityDescriptor.getRootEntityName(), tenantIdentifier, id);
    }

    @Override
    public Object getCacheKeyId(Object cacheKey) {
        return ((RegionKey) cacheKey).id();
    }

    @Override
    public boolean insert(SharedSessionContractImplementor session, Object key, Object value, Object version) {
        return false;
    }

    @Override
    public boolean afterInsert(SharedSessionContractImplementor session, Object key, Object value, Object version) {
        return false;
    }

    @Override
    public boolean update(SharedSessionContractImplementor session, Object key, Object value, Object currentVersion,
            Object previousVersion) {
        return false;
    }

    @Override
    public boolean afterUpdate(SharedSessionContractImplementor session, Object key, Object value,
            Object currentVersion, Object previousVersion, SoftLock lock) {
        region.invalidateEverywhere(session, (RegionKey) key);
        return false;
    }
}
