package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

import org.junit.Test;

public class CacheOptionsTest {

    @Test
    public void defaultsAreReplicatedUnboundedAndNeverExpire() {
        CacheOptions defaults = CacheOptions.defaults();
        assertEquals(CacheMode.REPLICATED, defaults.mode());
        assertEquals(OptionalLong.empty(), defaults.maxEntries());
        assertEquals(Optional.empty(), defaults.timeToLive());
        assertEquals(Optional.empty(), defaults.codec());
        assertEquals(defaults, CacheOptions.builder().build());
    }

    @Test
    public void builderKeepsEverySetting() {
        CacheOptions options = CacheOptions.builder()
                .mode(CacheMode.INVALIDATION)
                .maxEntries(1000)
                .timeToLive(Duration.ofMinutes(5))
                .build();
        assertEquals(CacheMode.INVALIDATION, options.mode());
        assertEquals(OptionalLong.of(1000), options.maxEntries());
        assertEquals(Optional.of(Duration.ofMinutes(5)), options.timeToLive());
        assertFalse(options.equals(CacheOptions.defaults()));
        assertTrue(options.toString(), options.toString().contains("INVALIDATION"));
    }

    @Test
    public void aCodecIsKeptAndTellsOptionsApart() {
        CacheCodec codec = new DefaultCodec(null);
        CacheOptions withCodec = CacheOptions.builder().codec(codec).build();
        assertEquals(Optional.of(codec), withCodec.codec());
        assertEquals(withCodec, CacheOptions.builder().codec(codec).build());
        assertEquals(withCodec.hashCode(), CacheOptions.builder().codec(codec).build().hashCode());
        assertFalse(withCodec.equals(CacheOptions.defaults()));
        assertFalse(withCodec.equals(CacheOptions.builder().codec(new DefaultCodec(null)).build()));
        assertTrue(withCodec.toString(), withCodec.toString().contains("codec=" + codec));
        assertTrue(CacheOptions.defaults().toString().contains("codec=default"));
    }

    @Test
    public void badValuesAreRefusedNamingTheSetting() {
        assertMessageStarts("maxEntries:", assertThrows(IllegalArgumentException.class,
                () -> CacheOptions.builder().maxEntries(0)));
        assertMessageStarts("maxEntries:", assertThrows(IllegalArgumentException.class,
                () -> CacheOptions.builder().maxEntries(-1)));
        assertMessageStarts("timeToLive:", assertThrows(IllegalArgumentException.class,
                () -> CacheOptions.builder().timeToLive(Duration.ZERO)));
        assertMessageStarts("timeToLive:", assertThrows(IllegalArgumentException.class,
                () -> CacheOptions.builder().timeToLive(Duration.ofSeconds(-1))));
        assertMessageStarts("timeToLive:", assertThrows(IllegalArgumentException.class,
                () -> CacheOptions.builder().timeToLive(null)));
        assertMessageStarts("mode:", assertThrows(IllegalArgumentException.class,
                () -> CacheOptions.builder().mode(null)));
        assertMessageStarts("codec:", assertThrows(IllegalArgumentException.class,
                () -> CacheOptions.builder().codec(null)));
    }

    private static void assertMessageStarts(String prefix, Exception e) {
        assertTrue(e.getMessage(), e.getMessage().startsWith(prefix));
    }
}
