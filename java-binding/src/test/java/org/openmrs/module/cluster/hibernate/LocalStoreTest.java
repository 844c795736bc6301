package org.openmrs.module.cluster.hibernate;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.Test;

/** The put-from-load rule of a region's store, with times given by the test. */
public class LocalStoreTest {

    private final LocalStore store = new LocalStore(100_000);
    private final RegionKey key = RegionKey.of("Patient", null, 7);

    @Test
    public void aValueReadByATransactionBegunBeforeTheKeysInvalidationIsRefused() {
        assertTrue(store.putFromLoad(key, "old", 10));
        store.invalidate(key, 20);
        assertNull("the invalidation drops the value", store.get(key));
        assertFalse(store.putFromLoad(key, "read before the commit", 19));
        assertFalse("a tie is refused too", store.putFromLoad(key, "read at the same time", 20));
        assertTrue(store.putFromLoad(key, "read after", 21));
        assertEquals("read after", store.get(key));
    }

    @Test
    public void anInvalidationIsMatchedByTheKeysBytes() {
        assertTrue(store.putFromLoad(key, "old", 10));
        store.invalidate(RegionKey.wrap(RegionKey.of("Patient", null, 7).bytes()), 20);
        assertNull(store.get(key));
        assertTrue(store.putFromLoad(RegionKey.of("Patient", null, 8), "another id", 15));
        assertTrue(store.putFromLoad(RegionKey.of("Patient", "tenant", 7), "another tenant", 15));
    }

    @Test
    public void aRegionInvalidationRefusesEveryTransactionBegunBeforeIt() {
        store.putFromLoad(key, "old", 10);
        store.invalidateAll(20);
        assertNull(store.get(key));
        assertFalse(store.putFromLoad(RegionKey.of("Patient", null, 99), "never seen", 19));
        assertTrue(store.putFromLoad(RegionKey.of("Patient", null, 99), "after", 21));
    }

    @Test
    public void anOldInvalidationForgottenStillRefusesTransactionsBegunBeforeIt() {
        long first = 1_000;
        store.invalidate(key, first);
        long later = first + TimeUnit.SECONDS.toNanos(61);
        for (int i = 0; i < 5000; i++) {
            store.invalidate(RegionKey.of("Patient", null, 1000 + i), later);
        }
        assertFalse("the key's own record may be gone, the floor is not", store.putFromLoad(key, "stale", first - 1));
        assertTrue(store.putFromLoad(key, "fresh", first + 1));
    }

    @Test
    public void pastItsBoundNoNewKeyIsCached() {
        LocalStore small = new LocalStore(2);
        assertTrue(small.putFromLoad(RegionKey.of("Patient", null, 1), "a", 1));
        assertTrue(small.putFromLoad(RegionKey.of("Patient", null, 2), "b", 1));
        assertFalse(small.putFromLoad(RegionKey.of("Patient", null, 3), "c", 1));
        assertTrue("a key it holds may still be replaced",
                small.putFromLoad(RegionKey.of("Patient", null, 2), "b2", 1));
    }
}
