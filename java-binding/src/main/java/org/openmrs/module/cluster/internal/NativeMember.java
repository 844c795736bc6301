package org.openmrs.module.cluster.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

import org.openmrs.module.cluster.ClusterMember;

/** A member as {@link Native#nodeMembers(long)} reported it: an immutable snapshot. */
public final class NativeMember implements ClusterMember {

    private static final int FIELDS = 4;

    private final String name;
    private final String address;
    private final String appVersion;
    private final boolean local;

    private NativeMember(String name, String address, String appVersion, boolean local) {
        this.name = name;
        this.address = address;
        this.appVersion = appVersion;
        this.local = local;
    }

    /** The members in {@code flattened} ({@code name, address, appVersion, isLocal} each), sorted by name. */
    public static List<ClusterMember> listOf(String[] flattened) {
        if (flattened.length % FIELDS != 0) {
            throw new IllegalStateException("the native library reported members in " + flattened.length
                    + " strings, not a multiple of " + FIELDS);
        }
        List<ClusterMember> members = new ArrayList<ClusterMember>(flattened.length / FIELDS);
        for (int i = 0; i < flattened.length; i += FIELDS) {
            members.add(new NativeMember(flattened[i], flattened[i + 1], flattened[i + 2],
                    Boolean.parseBoolean(flattened[i + 3])));
        }
        members.sort(Comparator.comparing(ClusterMember::name));
        return Collections.unmodifiableList(members);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public String appVersion() {
        return appVersion;
    }

    @Override
    public boolean isLocal() {
        return local;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof NativeMember)) {
            return false;
        }
        NativeMember other = (NativeMember) o;
        return name.equals(other.name) && address.equals(other.address)
                && appVersion.equals(other.appVersion) && local == other.local;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, address, appVersion, local);
    }

    @Override
    public String toString() {
        return name + "@" + address + " (app " + appVersion + (local ? ", local)" : ")");
    }
}
