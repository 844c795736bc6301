package org.openmrs.module.cluster;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

import org.junit.Test;

/** The default codec alone: its compact forms, Java serialization for the rest, and what it refuses. */
public class DefaultCodecTest {

    private final CacheCodec codec = new DefaultCodec(DefaultCodecTest.class.getClassLoader());

    @Test
    public void commonKeyTypesTakeACompactTaggedForm() {
        assertEquals(1 + 3, codec.encode("abc").length);
        assertEquals(1 + 5, codec.encode("été").length);
        assertEquals(1 + 4, codec.encode(42).length);
        assertEquals(1 + 8, codec.encode(42L).length);
        assertEquals(1 + 1, codec.encode(true).length);
        assertEquals(1 + 16, codec.encode(UUID.randomUUID()).length);
        assertEquals(1 + 2, codec.encode(new byte[] {7, 8}).length);
        for (Object value : Arrays.asList("abc", "", "été", 42, -1, 42L, Long.MIN_VALUE, true, false, UUID.randomUUID())) {
            assertEquals(value, roundTrip(value));
        }
        assertArrayEquals(new byte[] {7, 8}, (byte[]) roundTrip(new byte[] {7, 8}));
    }

    @Test
    public void typesThatAreEqualInNoWayEncodeApart() {
        assertTrue(!Arrays.equals(codec.encode(42), codec.encode(42L)));
        assertTrue(!Arrays.equals(codec.encode("42"), codec.encode(42)));
        assertEquals(Integer.class, roundTrip(42).getClass());
        assertEquals(Long.class, roundTrip(42L).getClass());
    }

    @Test
    public void equalKeysEncodeToEqualBytes() {
        assertArrayEquals(codec.encode(new String("key")), codec.encode("key"));
        assertArrayEquals(codec.encode(new Point(1, 2)), codec.encode(new Point(1, 2)));
        assertArrayEquals(codec.encode(Arrays.asList("a", 1)), codec.encode(Arrays.asList("a", 1)));
    }

    @Test
    public void otherSerializablesTravelJavaSerializedAndComeBackEqualButNotTheSame() {
        Point point = new Point(3, 4);
        Object back = roundTrip(point);
        assertEquals(point, back);
        assertNotSame(point, back);
        List<Object> nested = Arrays.asList("x", 1, new Point(5, 6));
        assertEquals(nested, roundTrip(nested));
    }

    @Test
    public void decodesASliceOfALargerArray() {
        byte[] encoded = codec.encode("slice");
        byte[] padded = new byte[encoded.length + 10];
        System.arraycopy(encoded, 0, padded, 8, encoded.length);
        assertEquals("slice", codec.decode(padded, 8, encoded.length));
        byte[] serialized = codec.encode(new Point(7, 8));
        padded = new byte[serialized.length + 8];
        System.arraycopy(serialized, 0, padded, 8, serialized.length);
        assertEquals(new Point(7, 8), codec.decode(padded, 8, serialized.length));
    }

    @Test
    public void refusesWhatIsNotSerializableNamingTheClass() {
        IllegalArgumentException top = assertThrows(IllegalArgumentException.class, () -> codec.encode(new Object()));
        assertTrue(top.getMessage(), top.getMessage().contains("class java.lang.Object does not implement java.io.Serializable"));
        IllegalArgumentException nested = assertThrows(IllegalArgumentException.class,
                () -> codec.encode(Arrays.asList(new Object())));
        assertTrue(nested.getMessage(), nested.getMessage().contains("java.lang.Object"));
    }

    @Test
    public void refusesBytesItDidNotWrite() {
        assertThrows(IllegalArgumentException.class, () -> codec.decode(new byte[] {99, 1}, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> codec.decode(new byte[0], 0, 0));
        assertThrows(IllegalArgumentException.class, () -> codec.decode(new byte[] {0, 1, 2, 3}, 0, 4));
    }

    private Object roundTrip(Object value) {
        byte[] bytes = codec.encode(value);
        return codec.decode(bytes, 0, bytes.length);
    }

    /** A value object of an application, Serializable. */
    static final class Point implements Serializable {
        private static final long serialVersionUID = 1L;
        final int x;
        final int y;

        Point(int x, int y) {
            this.x = x;
            this.y = y;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Point && ((Point) o).x == x && ((Point) o).y == y;
        }

        @Override
        public int hashCode() {
            return Objects.hash(x, y);
        }
    }
}
