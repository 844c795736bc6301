package org.openmrs.module.cluster.hibernate;

import org.hibernate.cache.spi.access.AccessType;
import org.hibernate.cache.spi.access.CollectionDataAccess;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.hibernate.persister.collection.CollectionPersister;

/** Collections: Hibernate removes a changed one and unlocks it after the transaction. */
final class CollectionAccess extends RegionAccess implements CollectionDataAccess {

    CollectionAccess(DomainRegion region, AccessType accessType) {
        super(region, accessType);
    }

    @Override
    public Object generateCacheKey(Object id, CollectionPersister collectionDescriptor,
            SessionFactoryImplementor factory, String tenantIdentifier) {
        return RegionKey.of(collectionDescriptor.getRole(), tenantIdentifier, id);
    }

    @Override
    public Object getCacheKeyId(Object cacheKey) {
        return ((RegionKey) cacheKey).id();
    }
}
