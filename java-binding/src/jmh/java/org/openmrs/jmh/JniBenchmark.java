package org.openmrs.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openmrs.module.cluster.internal.Native;

/** The bare cost of a call from Java into the native library and back. */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class JniBenchmark {

    @Benchmark
    public void nativeNoop() {
        Native.noop();
    }
}
