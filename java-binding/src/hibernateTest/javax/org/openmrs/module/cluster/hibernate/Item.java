package org.openmrs.module.cluster.hibernate;

import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

import javax.persistence.Cacheable;
import javax.persistence.CollectionTable;
import javax.persistence.Column;
import javax.persistence.ElementCollection;
import javax.persistence.Entity;
import javax.persistence.Id;
import javax.persistence.JoinColumn;
import javax.persistence.Table;
import javax.persistence.Version;

import org.hibernate.annotations.Cache;
import org.hibernate.annotations.CacheConcurrencyStrategy;

/**
 * The row the stale-read test updates: a counter, and a collection that holds the counter's value
 * too, both cached READ_WRITE, under optimistic locking (the version is the entity's).
 */
@Entity
@Table(name = "item")
@Cacheable
@Cache(usage = CacheConcurrencyStrategy.READ_WRITE, region = "items")
public class Item {

    @Id
    private Integer id;

    @Version
    private int version;

    @Column(name = "counter")
    private int counter;

    @ElementCollection
    @CollectionTable(name = "item_mark", joinColumns = @JoinColumn(name = "item_id"))
    @Column(name = "mark")
    @Cache(usage = CacheConcurrencyStrategy.READ_WRITE, region = "items")
    private Set<Integer> marks = new HashSet<>();

    protected Item() {
    }

    Item(int id) {
        this.id = id;
    }

    int counter() {
        return counter;
    }

    /**
     * The collection's greatest value, or 0 while it is empty. A writer replaces the collection's
     * value with the counter's, but Hibernate writes only the difference from what it loaded: a
     * writer that loaded the collection from a node's cache in the moments before that node heard
     * of another commit (which its commit's wait allows) deletes an old value and leaves the
     * newer one beside its own. The greatest is always the last one committed.
     */
    int mark() {
        return marks.isEmpty() ? 0 : Collections.max(marks);
    }

    /** Sets the counter and the collection to {@code value}. */
    void set(int value) {
        counter = value;
        marks.clear();
        marks.add(value);
    }
}
