package org.openmrs.module.cluster.hibernate;

import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.hibernate.boot.spi.SessionFactoryOptions;
import org.hibernate.cache.CacheException;
import org.hibernate.cache.cfg.spi.DomainDataRegionBuildingContext;
import org.hibernate.cache.cfg.spi.DomainDataRegionConfig;
import org.hibernate.cache.spi.CacheTransactionSynchronization;
import org.hibernate.cache.spi.DomainDataRegion;
import org.hibernate.cache.spi.QueryResultsRegion;
import org.hibernate.cache.spi.RegionFactory;
import org.hibernate.cache.spi.TimestampsRegion;
import org.hibernate.cache.spi.access.AccessType;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.hibernate.engine.spi.SharedSessionContractImplementor;
import org.openmrs.module.cluster.Cluster;

/**
 * Hibernate's second-level cache on the cluster ({@code hibernate.cache.region.factory_class}),
 * for Hibernate ORM 5.6 (docs/hibernate.md). Entity, collection and natural-id regions are in
 * invalidation mode: values stay on the node that loaded them, and a transaction that changed a
 * row returns from its commit only once every node has dropped the row's entry and refuses
 * values read before it received that news ({@link Invalidations}, {@link LocalStore}). Cached
 * queries are checked against the tables' last changes as each node received them
 * ({@link Timestamps}). Each node compares only readings of its own monotonic clock, so clock skew
 * between nodes does not matter. A node that panicked serves nothing from the cache.
 *
 * <p>The node: {@link Cluster#current()}, else one started from Hibernate's properties by
 * {@link Cluster#startFromProperties(Properties)} (a member when they hold {@code cluster.*} keys,
 * else an embedded node); a node this factory started is closed by {@link #stop()}.
 */
public class ClusterRegionFactory implements RegionFactory {

    /**
     * How long a peer that stopped answering must have been unreachable before a commit goes on
     * without it: at least the node's {@code cluster.panic.timeout.ms} plus 2000 ms, the time a
     * cut-off peer takes to notice its panic with room to spare, which is the default (7000 with
     * the default panic timeout). A shorter value fails the start, naming this key.
     */
    public static final String UNREACHABLE_WAIT_MS = "hibernate.cache.cluster.unreachable_wait_ms";
    /** How long a starting factory waits for the members to answer its announcement (default 2000). */
    public static final String JOIN_WAIT_MS = "hibernate.cache.cluster.join_wait_ms";
    /** Entries a region (and the query results) hold on a node at most (default 100000). */
    public static final String MAX_ENTRIES = "hibernate.cache.cluster.max_entries";

    private static final long serialVersionUID = 1L;
    /** What a cut-off peer takes past its panic timeout to notice the panic (a keepalive), with room. */
    private static final long PANIC_NOTICE_MS = 2000;

    private transient Cluster cluster;
    private transient boolean ownsCluster;
    private transient Invalidations invalidations;
    private String regionPrefix;
    private long maxEntries;

    @Override
    @SuppressWarnings("rawtypes")
    public void start(SessionFactoryOptions settings, Map configValues) {
        regionPrefix = settings.getCacheRegionPrefix();
        maxEntries = setting(configValues, MAX_ENTRIES, 100_000);
        long joinWaitMs = setting(configValues, JOIN_WAIT_MS, 2000);
        try {
            findNode(configValues);
            long panicMs = cluster.panicTimeout().toMillis();
            long unreachableWaitMs = setting(configValues, UNREACHABLE_WAIT_MS, panicMs + PANIC_NOTICE_MS);
            if (unreachableWaitMs < panicMs + PANIC_NOTICE_MS) {
                throw new IllegalArgumentException(UNREACHABLE_WAIT_MS + ": must be at least cluster.panic.timeout.ms ("
                        + panicMs + ") plus " + PANIC_NOTICE_MS + " ms, so that a peer no longer waited for has"
                        + " panicked and serves nothing; got " + unreachableWaitMs);
            }
            invalidations = Invalidations.acquire(cluster, joinWaitMs, unreachableWaitMs);
        } catch (RuntimeException e) {
            stop();
            throw new CacheException("the cluster's second-level cache could not start: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("rawtypes")
    private void findNode(Map configValues) {
        try {
            cluster = Cluster.current();
            return;
        } catch (IllegalStateException none) {
            // Start one below.
        }
        Properties clusterKeys = new Properties();
        for (Object entry : configValues.entrySet()) {
            Map.Entry setting = (Map.Entry) entry;
            if (setting.getKey() instanceof String && ((String) setting.getKey()).startsWith("cluster.")
                    && setting.getValue() != null) {
                clusterKeys.setProperty((String) setting.getKey(), setting.getValue().toString());
            }
        }
        cluster = Cluster.startFromProperties(clusterKeys);
        ownsCluster = true;
    }

    @SuppressWarnings("rawtypes")
    private static long setting(Map configValues, String key, long defaultValue) {
        Object value = configValues.get(key);
        if (value == null) {
            return defaultValue;
        }
        try {
            long parsed = Long.parseLong(value.toString().trim());
            if (parsed > 0) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // Reported below.
        }
        throw new IllegalArgumentException(key + ": must be a positive whole number, got '" + value + "'");
    }

    @Override
    public void stop() {
        if (invalidations != null) {
            invalidations.release();
            invalidations = null;
        }
        if (ownsCluster && cluster != null) {
            cluster.close();
        }
        cluster = null;
        ownsCluster = false;
    }

    @Override
    public boolean isMinimalPutsEnabledByDefault() {
        return false;
    }

    @Override
    public AccessType getDefaultAccessType() {
        return AccessType.READ_WRITE;
    }

    @Override
    public String qualify(String regionName) {
        return regionPrefix == null || regionPrefix.isEmpty() ? regionName : regionPrefix + '.' + regionName;
    }

    @Override
    public CacheTransactionSynchronization createTransactionContext(SharedSessionContractImplementor session) {
        return new ClusterTransaction(started());
    }

    /** This node's {@link LocalClock}; compared only with other readings of it. */
    @Override
    public long nextTimestamp() {
        return LocalClock.now();
    }

    /** A minute in {@link #nextTimestamp()}'s unit (nanoseconds): how long a pre-invalidation lasts. */
    @Override
    public long getTimeout() {
        return TimeUnit.MINUTES.toNanos(1);
    }

    @Override
    public DomainDataRegion buildDomainDataRegion(DomainDataRegionConfig regionConfig,
            DomainDataRegionBuildingContext buildingContext) {
        return new DomainRegion(regionConfig, this, started(), maxEntries);
    }

    @Override
    public QueryResultsRegion buildQueryResultsRegion(String regionName, SessionFactoryImplementor sessionFactory) {
        return new QueryResults(regionName, this, started(), maxEntries);
    }

    @Override
    public TimestampsRegion buildTimestampsRegion(String regionName, SessionFactoryImplementor sessionFactory) {
        return new Timestamps(regionName, this, started());
    }

    private Invalidations started() {
        if (invalidations == null) {
            throw new IllegalStateException("the region factory is not started");
        }
        return invalidations;
    }
}
