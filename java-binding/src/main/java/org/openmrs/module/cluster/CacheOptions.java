package org.openmrs.module.cluster;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How a {@link ClusterCache} behaves: its {@link CacheMode}, an optional bound on the entries
 * each node holds, an optional time to live of each entry, and an optional {@link CacheCodec}.
 * Immutable. Two options are equal when all four are; codecs compare with their own
 * {@code equals} (for most, the same instance).
 */
public final class CacheOptions {

    private static final CacheOptions DEFAULTS = new CacheOptions(CacheMode.REPLICATED, null, null, null);

    private final CacheMode mode;
    private final Long maxEntries;
    private final Duration timeToLive;
    private final CacheCodec codec;

    private CacheOptions(CacheMode mode, Long maxEntries, Duration timeToLive, CacheCodec codec) {
        this.mode = mode;
        this.maxEntries = maxEntries;
        this.timeToLive = timeToLive;
        this.codec = codec;
    }

    /** {@link CacheMode#REPLICATED}, no size bound, no expiry, the default codec. */
    public static CacheOptions defaults() {
        return DEFAULTS;
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    public CacheMode mode() {
        return mode;
    }

    /** The most entries each node holds; empty when unbounded. */
    public OptionalLong maxEntries() {
        return maxEntries == null ? OptionalLong.empty() : OptionalLong.of(maxEntries);
    }

    /** How long an entry lives after it was written; empty when entries never expire. */
    public Optional<Duration> timeToLive() {
        return Optional.ofNullable(timeToLive);
    }

    /** The codec of keys and values; empty for the default one (see {@link CacheCodec}). */
    public Optional<CacheCodec> codec() {
        return Optional.ofNullable(codec);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CacheOptions)) {
            return false;
        }
        CacheOptions other = (CacheOptions) o;
        return mode == other.mode && Objects.equals(maxEntries, other.maxEntries)
                && Objects.equals(timeToLive, other.timeToLive) && Objects.equals(codec, other.codec);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, maxEntries, timeToLive, codec);
    }

    @Override
    public String toString() {
        return "CacheOptions{mode=" + mode
                + ", maxEntries=" + (maxEntries == null ? "unbounded" : maxEntries)
                + ", timeToLive=" + (timeToLive == null ? "none" : timeToLive)
                + ", codec=" + (codec == null ? "default" : codec) + "}";
    }

    /** Collects options; each setter rejects a bad value at once with IllegalArgumentException. */
    public static final class Builder {

        private CacheMode mode = CacheMode.REPLICATED;
        private Long maxEntries;
        private Duration timeToLive;
        private CacheCodec codec;

        private Builder() {
        }

        public Builder mode(CacheMode mode) {
            if (mode == null) {
                throw new IllegalArgumentException("mode: must not be null");
            }
            this.mode = mode;
            return this;
        }

        /** Bounds the entries each node holds; must be positive. */
        public Builder maxEntries(long maxEntries) {
            if (maxEntries <= 0) {
                throw new IllegalArgumentException("maxEntries: must be positive, got " + maxEntries);
            }
            this.maxEntries = maxEntries;
            return this;
        }

        /** Makes each entry expire this long after it was written; must be positive. */
        public Builder timeToLive(Duration timeToLive) {
            if (timeToLive == null || timeToLive.isZero() || timeToLive.isNegative()) {
                throw new IllegalArgumentException("timeToLive: must be a positive duration, got " + timeToLive);
            }
            this.timeToLive = timeToLive;
            return this;
        }

        /** Encodes keys and values with {@code codec} instead of the default (see {@link CacheCodec}). */
        public Builder codec(CacheCodec codec) {
            if (codec == null) {
                throw new IllegalArgumentException("codec: must not be null");
            }
            this.codec = codec;
            return this;
        }

        public CacheOptions build() {
            return new CacheOptions(mode, maxEntries, timeToLive, codec);
        }
    }
}
