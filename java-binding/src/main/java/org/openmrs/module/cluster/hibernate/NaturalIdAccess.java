package org.openmrs.module.cluster.hibernate;

import org.hibernate.cache.spi.access.AccessType;
import org.hibernate.cache.spi.access.NaturalIdDataAccess;
import org.hibernate.cache.spi.access.SoftLock;
import org.hibernate.engine.spi.SharedSessionContractImplementor;
import org.hibernate.persister.entity.EntityPersister;

/** Natural ids (Hibernate 5 signatures): as entities, under a role of their own in the region. */
final class NaturalIdAccess extends RegionAccess implements NaturalIdDataAccess {

    /** False on Hibernate 6 and later, where natural ids are one {@code Object}, not an array. */
    static final boolean SIGNATURES_MATCH = returnsArray();

    NaturalIdAccess(DomainRegion region, AccessType accessType) {
        super(region, accessType);
    }

    @Override
    public Object generateCacheKey(Object[] naturalIdValues, EntityPersister rootEntityDescriptor,
            SharedSessionContractImplementor session) {
        return RegionKey.of("natural-id:" + rootEntityDescriptor.getRootEntityName(), session.getTenantIdentifier(),
                naturalIdValues);
    }

    @Override
    public Object[] getNaturalIdValues(Object cacheKey) {
        return (Object[]) ((RegionKey) cacheKey).id();
    }

    @Override
    public boolean insert(SharedSessionContractImplementor session, Object key, Object value) {
        return false;
    }

    @Override
    public boolean afterInsert(SharedSessionContractImplementor session, Object key, Object value) {
        return false;
    }

    @Override
    public boolean update(SharedSessionContractImplementor session, Object key, Object value) {
        return false;
    }

    @Override
    public boolean afterUpdate(SharedSessionContractImplementor session, Object key, Object value, SoftLock lock) {
        region.invalidateEverywhere(session, (RegionKey) key);
        return false;
    }

    private static boolean returnsArray() {
        try {
            return NaturalIdDataAccess.class.getMethod("getNaturalIdValues", Object.class).getReturnType()
                    == Object[].class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}
