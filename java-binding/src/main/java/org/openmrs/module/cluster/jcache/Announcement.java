package org.openmrs.module.cluster.jcache;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/** The changes one operation made to a cache, published to the listeners of the other nodes. */
final class Announcement implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The cache instance that made them: it told its own listeners already. */
    final String sender;
    final ArrayList<Change> changes;

    Announcement(String sender, List<Change> changes) {
        this.sender = sender;
        this.changes = new ArrayList<Change>(changes);
    }
}
