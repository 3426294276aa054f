package io.sluice.bench.latency;

/**
 * A fixed-size log-linear histogram of nanosecond values in the manner of HdrHistogram, allocated
 * once: {@link #record} never allocates. Values below 256 ns have their own bucket; above, each
 * power of two is split into 128 buckets, so a reported value is within 1/128 (0.8 %) of the true
 * one. Range: up to 2^46 ns (about 19 hours); larger values land in the last bucket. The exact
 * maximum and count are kept beside the buckets.
 */
final class LatencyHistogram {
    private static final int LINEAR = 256;
    private static final int SUB = 128;
    private static final int MAX_EXP = 46;
    private final long[] counts = new long[LINEAR + (MAX_EXP - 7) * SUB];
    private long total;
    private long max;

    static int index(long v) {
        if (v < LINEAR) return (int) Math.max(0, v);
        int shift = 63 - Long.numberOfLeadingZeros(v) - 7;      // v >>> shift is in [128, 256)
        int idx = LINEAR + (shift - 1) * SUB + (int) ((v >>> shift) - SUB);
        return Math.min(idx, LINEAR + (MAX_EXP - 7) * SUB - 1);
    }

    /** The highest value that maps to bucket {@code idx}. */
    static long highest(int idx) {
        if (idx < LINEAR) return idx;
        int shift = (idx - LINEAR) / SUB + 1;
        long mant = SUB + (idx - LINEAR) % SUB;
        return ((mant + 1) << shift) - 1;
    }

    void record(long v) {
        counts[index(v)]++;
        total++;
        if (v > max) max = v;
    }

    long count() { return total; }

    long max() { return max; }

    /**
     * The value at quantile {@code q} (0..1]: the highest value of the bucket holding the
     * ceil(q * count)-th smallest recorded value (never above the exact maximum); -1 when empty.
     */
    long quantile(double q) {
        if (total == 0) return -1;
        long rank = Math.max(1, (long) Math.ceil(q * total));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) return Math.min(highest(i), max);
        }
        return max;
    }
}
