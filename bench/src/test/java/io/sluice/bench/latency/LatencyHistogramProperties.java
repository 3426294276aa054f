package io.sluice.bench.latency;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * {@link LatencyHistogram} against its reference twin: the sorted array of every recorded value,
 * whose exact quantile is the ceil(q * n)-th smallest value. The histogram's answer must be at
 * least the exact value and within its bucket width (1/128 of the value above 256 ns, exact below).
 */
class LatencyHistogramProperties {
    private static long exact(long[] sorted, double q) {
        return sorted[(int) Math.max(0, Math.ceil(q * sorted.length) - 1)];
    }

    @Test
    void quantilesMatchTheSortedReference() {
        qt().withExamples(300).forAll(
                lists().of(longs().between(0, 5_000_000_000L)).ofSizeBetween(1, 400),
                doubles().between(0.001, 1.0)).checkAssert((values, q) -> {
            LatencyHistogram h = new LatencyHistogram();
            for (long v : values) h.record(v);
            long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
            long want = exact(sorted, q), got = h.quantile(q);
            assertTrue(got >= want, "q=" + q + " got " + got + " < exact " + want);
            assertTrue(got - want <= Math.max(0, want / 128), "q=" + q + " got " + got + " exact " + want + " (more than one bucket above)");
            assertEquals(sorted[sorted.length - 1], h.max());
            assertEquals(sorted.length, h.count());
        });
    }

    @Test
    void everyValueMapsToABucketWhoseRangeHoldsIt() {
        qt().withExamples(2000).forAll(longs().between(0, 1L << 45)).checkAssert(v -> {
            int i = LatencyHistogram.index(v);
            assertTrue(v <= LatencyHistogram.highest(i), v + " above its bucket's highest " + LatencyHistogram.highest(i));
            assertTrue(i == 0 || v > LatencyHistogram.highest(i - 1), v + " fits the bucket below");
        });
    }

    @Test
    void emptyAndTinyHistograms() {
        LatencyHistogram h = new LatencyHistogram();
        assertEquals(-1, h.quantile(0.5));
        for (long v : List.of(3L, 1L, 2L)) h.record(v);
        assertEquals(2, h.quantile(0.5));
        assertEquals(3, h.quantile(0.999));
        assertEquals(1, h.quantile(0.01));
        long[] big = {1_000_000L, 1_000_001L};
        LatencyHistogram b = new LatencyHistogram();
        for (long v : big) b.record(v);
        assertTrue(Arrays.stream(big).allMatch(v -> b.quantile(1.0) == 1_000_001L));
    }
}
