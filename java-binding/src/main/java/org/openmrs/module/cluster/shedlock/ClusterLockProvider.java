package org.openmrs.module.cluster.shedlock;

import java.util.Objects;
import java.util.Optional;

import net.javacrumbs.shedlock.core.AbstractSimpleLock;
import net.javacrumbs.shedlock.core.ClockProvider;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.LockProvider;
import net.javacrumbs.shedlock.core.SimpleLock;

import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.ClusterException;
import org.openmrs.module.cluster.internal.Native;
import org.openmrs.module.cluster.internal.NativeNode;

/**
 * A ShedLock {@link LockProvider} whose locks hold across the whole cluster. Registered as the
 * Spring bean {@code lockProvider}, it makes OpenMRS's {@code @Mutex} and
 * {@code @ScheduledWithLock} cluster-wide. ShedLock's promises hold: {@link #lock} returns empty
 * while the name is held anywhere in the cluster; {@code lockAtMostFor} ends a hold even if its
 * holder never unlocks (its node died, say); an unlock before {@code lockAtLeastFor} has passed
 * keeps the name held until then. A hold belongs to this node, not to a thread; the times are
 * this node's clock ({@link ClockProvider}), so the nodes' clocks must agree to well within the
 * shortest {@code lockAtLeastFor}, as with ShedLock's database providers. Extending a lock is not
 * supported. Thread-safe.
 */
public final class ClusterLockProvider implements LockProvider {

    private final NativeNode node;

    /** A provider whose locks are held by {@code cluster}'s node. */
    public ClusterLockProvider(Cluster cluster) {
        this.node = NativeNode.of(Objects.requireNonNull(cluster, "cluster"));
    }

    /**
     * Holds the name until {@code lockAtMostUntil} if it is free, or its last hold has expired.
     *
     * @return the lock to unlock when the task ends; empty if the name is held anywhere in the cluster
     * @throws ClusterException if this node is closed or has lost contact with the majority
     */
    @Override
    public Optional<SimpleLock> lock(LockConfiguration config) {
        String name = config.getName();
        long now = ClockProvider.now().toEpochMilli();
        long until = config.getLockAtMostUntil().toEpochMilli();
        boolean locked = node.call(handle -> Native.shedLock(handle, name, now, until));
        return locked ? Optional.<SimpleLock>of(new ClusterSimpleLock(config)) : Optional.<SimpleLock>empty();
    }

    @Override
    public String toString() {
        return "ClusterLockProvider{node '" + node.name() + "'}";
    }

    /** A granted hold; unlocked once, at the later of now and {@code lockAtLeastUntil}. */
    private final class ClusterSimpleLock extends AbstractSimpleLock {

        ClusterSimpleLock(LockConfiguration config) {
            super(config);
        }

        @Override
        protected void doUnlock() {
            String name = lockConfiguration.getName();
            long unlockAt = lockConfiguration.getUnlockTime().toEpochMilli();
            node.call(handle -> {
                Native.shedUnlock(handle, name, unlockAt);
                return null;
            });
        }
    }
}
