package io.sluice.rules.reference;

import io.sluice.rules.compile.FlatRules;

/**
 * The naive classifier kept as the oracle: checks every rule in priority order and returns the
 * index of the first one whose every range contains the key. Obviously right, O(rules x dims).
 *
 * <p>The rule ranges are copied into one flat array biased so that a signed comparison is an
 * unsigned one; the loop is tight enough to run whole ClassBench traces in tests.
 */
public final class LinearClassifier {
    private final int dims;
    private final int size;
    private final int[] bounds; // per rule, per dim: lo ^ MIN, hi ^ MIN

    /** Builds the oracle over {@code rules}. */
    public LinearClassifier(FlatRules rules) {
        this.dims = rules.dims();
        this.size = rules.size();
        this.bounds = new int[size * dims * 2];
        for (int r = 0; r < size; r++) {
            for (int d = 0; d < dims; d++) {
                bounds[(r * dims + d) * 2] = rules.lo(r, d) ^ Integer.MIN_VALUE;
                bounds[(r * dims + d) * 2 + 1] = rules.hi(r, d) ^ Integer.MIN_VALUE;
            }
        }
    }

    /** Index of the first rule matching {@code key[off..off+dims)}, or -1. */
    public int firstMatch(int[] key, int off) {
        final int[] b = bounds;
        final int n = dims;
        int p = 0;
        for (int r = 0; r < size; r++) {
            boolean ok = true;
            for (int d = 0; d < n; d++, p += 2) {
                int v = key[off + d] ^ Integer.MIN_VALUE;
                if (v < b[p] || v > b[p + 1]) {
                    ok = false;
                    p += (n - d) * 2;
                    break;
                }
            }
            if (ok) return r;
        }
        return -1;
    }

    /** True if rule {@code r} matches the key (used to check a reported deciding rule). */
    public boolean matches(int r, int[] key, int off) {
        int p = r * dims * 2;
        for (int d = 0; d < dims; d++, p += 2) {
            int v = key[off + d] ^ Integer.MIN_VALUE;
            if (v < bounds[p] || v > bounds[p + 1]) return false;
        }
        return true;
    }

    /** True if any rule with the given action matches (allow-union semantics when all rules allow). */
    public boolean anyMatch(int[] key, int off) {
        return firstMatch(key, off) >= 0;
    }
}
