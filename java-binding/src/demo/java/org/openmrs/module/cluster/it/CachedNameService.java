package org.openmrs.module.cluster.it;

import java.util.concurrent.atomic.AtomicInteger;

import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.CachePut;
import org.springframework.cache.annotation.Cacheable;

/**
 * A stand-in for an OpenMRS service whose reads Spring caches: each call that reaches it counts,
 * so a caller tells a cache hit from a call. Its names carry the node and the call's number.
 */
public class CachedNameService {

    public static final String NAMES = "patientNames";
    public static final String NULLABLE = "nullable";

    private final AtomicInteger calls = new AtomicInteger();

    /** A read, as {@code PatientService.getPatient} would be. */
    @Cacheable(NAMES)
    public String name(String id) {
        return describe(id);
    }

    /** A read that takes a while, loaded once at a time per key ({@code sync}). */
    @Cacheable(cacheNames = NAMES, sync = true)
    public String slowName(String id) throws InterruptedException {
        Thread.sleep(200);
        return describe(id);
    }

    /** A read that finds nothing; the null is cached too. */
    @Cacheable(NULLABLE)
    public String missing(String id) {
        calls.incrementAndGet();
        return null;
    }

    /** A write that stores its result, as a save would. */
    @CachePut(cacheNames = NAMES, key = "#p0")
    public String rename(String id, String name) {
        return name;
    }

    /** A write that drops the cached read, as a void or purge would. */
    @CacheEvict(NAMES)
    public void purge(String id) {
    }

    /** The calls that reached this service (not served by the cache). */
    public int calls() {
        return calls.get();
    }

    private String describe(String id) {
        return "name-of-" + id + "-call-" + calls.incrementAndGet();
    }
}
