package org.openmrs.module.cluster.hibernate;

import javax.persistence.Cacheable;
import javax.persistence.Entity;
import javax.persistence.Id;
import javax.persistence.Table;

import org.hibernate.annotations.Cache;
import org.hibernate.annotations.CacheConcurrencyStrategy;
import org.hibernate.annotations.NaturalId;
import org.hibernate.annotations.NaturalIdCache;

/** A row found by a mutable natural id whose resolution is cached (Hibernate 5.6 only). */
@Entity
@Table(name = "code")
@Cacheable
@NaturalIdCache(region = "codes")
@Cache(usage = CacheConcurrencyStrategy.READ_WRITE, region = "codes")
public class Code {

    @Id
    private Integer id;

    @NaturalId(mutable = true)
    private String code;

    protected Code() {
    }

    Code(int id, String code) {
        this.id = id;
        this.code = code;
    }

    Integer id() {
        return id;
    }

    void rename(String to) {
        code = to;
    }
}
