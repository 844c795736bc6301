package org.openmrs.module.cluster;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A snapshot of the cluster as one node sees it: the leader and its term, this node's role, and
 * the state of every member known (ALIVE, SUSPECT or DOWN). Immutable.
 */
public final class ClusterStatus {

    private final String role;
    private final String leaderName;
    private final long term;
    private final SortedMap<String, String> memberStates;

    private ClusterStatus(String role, String leaderName, long term, SortedMap<String, String> memberStates) {
        this.role = role;
        this.leaderName = leaderName;
        this.term = term;
        this.memberStates = Collections.unmodifiableSortedMap(memberStates);
    }

    /** Reads {@code role, leaderName ("" if none), term}, then {@code name, state} pairs. */
    static ClusterStatus fromNative(String[] flattened) {
        if (flattened.length < 3 || flattened.length % 2 != 1) {
            throw new IllegalStateException("the native library reported a status of " + flattened.length
                    + " strings; expected role, leader, term and then name, state pairs");
        }
        SortedMap<String, String> states = new TreeMap<String, String>();
        for (int i = 3; i < flattened.length; i += 2) {
            states.put(flattened[i], flattened[i + 1]);
        }
        String leader = flattened[1].isEmpty() ? null : flattened[1];
        return new ClusterStatus(flattened[0], leader, Long.parseLong(flattened[2]), states);
    }

    /** The leader's node name, or null while there is none. */
    public String leaderName() {
        return leaderName;
    }

    /** The leader's term; a new leader always has a greater one. */
    public long term() {
        return term;
    }

    /** This node's role in consensus, as the library names it (such as LEADER or FOLLOWER). */
    public String role() {
        return role;
    }

    /** Every member known, by name in name order, with its state: ALIVE, SUSPECT or DOWN. */
    public Map<String, String> memberStates() {
        return memberStates;
    }

    @Override
    public String toString() {
        return "ClusterStatus{role=" + role + ", leader=" + leaderName + ", term=" + term
                + ", members=" + memberStates + "}";
    }
}
