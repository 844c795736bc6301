package org.openmrs.module.cluster.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import org.junit.Test;
import org.junit.function.ThrowingRunnable;

/**
 * A value passed to {@link Native} as a node handle that is not one (made up, or the handle of a
 * closed node) throws {@link IllegalStateException}; it never crashes the JVM, as dereferencing it
 * did when a handle was a raw pointer.
 */
public class NativeHandlesTest {

    @Test(timeout = 30_000)
    public void madeUpHandlesThrowInsteadOfCrashingTheJvm() {
        List<Long> madeUp = new ArrayList<>();
        madeUp.add(4096L);
        madeUp.add(-1L);
        madeUp.add(1L);
        madeUp.add(Long.MIN_VALUE);
        madeUp.add(Long.MAX_VALUE);
        Random random = new Random(14);
        for (int i = 0; i < 50; i++) {
            madeUp.add(random.nextLong());
        }
        for (long handle : madeUp) {
            String message = assertUnknown(() -> Native.nodeName(handle));
            assertTrue(message, message.contains(Long.toString(handle)));
            assertUnknown(() -> Native.nodeAddress(handle));
            assertUnknown(() -> Native.nodeMembers(handle));
            assertUnknown(() -> Native.lockTry(handle, "l", 1));
            assertUnknown(() -> Native.queueOffer(handle, "q", new byte[] {1}));
            assertUnknown(() -> Native.cachePut(handle, 1, new byte[] {1}, new byte[] {2}));
            assertUnknown(() -> Native.nodeClose(handle));
        }
    }

    @Test(timeout = 60_000)
    public void aClosedNodesHandleThrows() {
        long handle = Native.nodeStart("handles-" + UUID.randomUUID(), "h", "127.0.0.1:0", "",
                "a secret of sixteen characters or more", null, "unversioned", 15_000, 1, 5_000);
        assertEquals("h", Native.nodeName(handle));
        Native.nodeClose(handle);
        Native.nodeClose(handle);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Native.nodeName(handle));
        assertEquals("the node behind this handle is closed", e.getMessage());
        assertThrows(IllegalStateException.class, () -> Native.lockTry(handle, "l", 1));
        assertThrows(IllegalStateException.class, () -> Native.queueOffer(handle, "q", new byte[] {1}));
    }

    private static String assertUnknown(ThrowingRunnable call) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        assertTrue(e.getMessage(), e.getMessage().endsWith("is not the handle of a node started by this copy of the library"));
        return e.getMessage();
    }
}
