package org.openmrs.module.cluster;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How a {@link ClusterCache} behaves: its {@link CacheMode}, an optional bound on the entries
 * each node holds, and an optional time to live of each entry. Immutable.
 */
public final class CacheOptions {

    private static final CacheOptions DEFAULTS = new CacheOptions(CacheMode.REPLICATED, null, null);

    private final CacheMode mode;
    private final Long maxEntries;
    private final Duration timeToLive;

    private CacheOptions(CacheMode mode, Long maxEntries, Duration timeToLive) {
        this.mode = mode;
        this.maxEntries = maxEntries;
        this.timeToLive = timeToLive;
    }

    /** {@link CacheMode#REPLICATED}, no size bound, no expiry. */
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

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CacheOptions)) {
            return false;
        }
        CacheOptions other = (CacheOptions) o;
        return mode == other.mode && Objects.equals(maxEntries, other.maxEntries)
                && Objects.equals(timeToLive, other.timeToLive);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, maxEntries, timeToLive);
    }

    @Override
    public String toString() {
        return "CacheOptions{mode=" + mode
                + ", maxEntries=" + (maxEntries == null ? "unbounded" : maxEntries)
                + ", timeToLive=" + (timeToLive == null ? "none" : timeToLive) + "}";
    }

    /** Collects options; each setter rejects a bad value at once with IllegalArgumentException. */
    public static final class Builder {

        private CacheMode mode = CacheMode.REPLICATED;
        private Long maxEntries;
        private Duration timeToLive;

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

        public CacheOptions build() {
            return new CacheOptions(mode, maxEntries, timeToLive);
        }
    }
}
