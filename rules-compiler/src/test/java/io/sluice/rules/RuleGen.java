package io.sluice.rules;

import io.sluice.rules.compile.FlatRules;

/**
 * Decodes QuickTheories-generated int arrays into rules and keys biased toward edges: codes
 * near 0 (what shrinking moves toward) give wildcards, single values and prefixes near 0 and the
 * maximum; keys are taken at rule corners and one past them.
 */
public final class RuleGen {
    private RuleGen() {}

    /** Interesting values of a {@code bits}-wide dimension. */
    static long value(int code, int bits) {
        long max = (1L << bits) - 1;
        int c = Math.floorMod(code, 1 << 20);
        return switch (c % 8) {
            case 0 -> 0;
            case 1 -> max;
            case 2 -> 1;
            case 3 -> max - 1;
            case 4 -> (1L << ((c >>> 3) % bits)) & max;
            case 5 -> ((1L << ((c >>> 3) % bits)) - 1) & max;
            default -> (((long) (c >>> 3) * 0x9E3779B1L) ^ (c * 31L)) & max;
        };
    }

    /** Decodes a range of a {@code bits}-wide dimension from two codes. */
    static long[] range(int a, int b, int bits) {
        long max = (1L << bits) - 1;
        int kind = Math.floorMod(a, 6);
        long v = value(b, bits);
        return switch (kind) {
            case 0 -> new long[] {0, max};
            case 1 -> new long[] {v, v};
            case 2 -> { // prefix
                int len = Math.floorMod(a >>> 3, bits + 1);
                long mask = len == 0 ? 0 : (max << (bits - len)) & max;
                yield new long[] {v & mask, (v & mask) | (~mask & max)};
            }
            case 3 -> {
                long w = value(a >>> 3, bits);
                yield new long[] {Math.min(v, w), Math.max(v, w)};
            }
            case 4 -> new long[] {0, v};
            default -> new long[] {v, max};
        };
    }

    /** Builds rules from {@code codes} (2 codes per dimension per rule; trailing codes ignored). */
    public static FlatRules rules(int[] codes, int[] dimBits, int[] partDims, byte[] actions) {
        int dims = dimBits.length;
        FlatRules.Builder b = FlatRules.builder(dimBits, partDims);
        int[] lo = new int[dims], hi = new int[dims];
        for (int r = 0; (r + 1) * 2 * dims <= codes.length; r++) {
            for (int d = 0; d < dims; d++) {
                long[] x = range(codes[(r * dims + d) * 2], codes[(r * dims + d) * 2 + 1], dimBits[d]);
                lo[d] = (int) x[0];
                hi[d] = (int) x[1];
            }
            b.add(lo, hi, actions == null ? FlatRules.ALLOW : actions[r % actions.length], 1000 + r);
        }
        return b.build();
    }

    /** Builds {@code count} keys, each dimension at a rule corner, one past it, or an interesting value. */
    public static int[] keys(FlatRules rules, int[] codes, int count) {
        int dims = rules.dims();
        int[] k = new int[count * dims];
        for (int i = 0; i < count; i++) {
            for (int d = 0; d < dims; d++) {
                int c = codes.length == 0 ? i * 7 + d : codes[(i * dims + d) % codes.length] + i * 13 + d;
                long max = (1L << rules.dimBits(d)) - 1;
                long v;
                int r = rules.size() == 0 ? -1 : Math.floorMod(c >>> 3, rules.size());
                int kind = Math.floorMod(c, 6);
                if (r < 0 || kind == 5) v = value(c >>> 3, rules.dimBits(d));
                else {
                    long lo = Integer.toUnsignedLong(rules.lo(r, d)), hi = Integer.toUnsignedLong(rules.hi(r, d));
                    v = switch (kind) {
                        case 0 -> lo;
                        case 1 -> hi;
                        case 2 -> Math.max(0, lo - 1);
                        case 3 -> Math.min(max, hi + 1);
                        default -> lo + (hi - lo) / 2;
                    };
                }
                k[i * dims + d] = (int) v;
            }
        }
        return k;
    }
}
