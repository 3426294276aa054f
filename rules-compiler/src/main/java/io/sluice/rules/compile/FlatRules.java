package io.sluice.rules.compile;

import java.util.Arrays;

/**
 * An ordered list of hyper-rectangle rules over {@code dims} unsigned 32-bit dimensions, the
 * common input of the compiler and of the reference classifier.
 *
 * <p>Rule {@code i} has priority {@code i} (lower wins), an inclusive unsigned range
 * {@code [lo(i,d), hi(i,d)]} per dimension, an action ({@link #ALLOW} or {@link #DENY}) and an
 * external id reported on a match (for hit counters). Immutable once built; build it with
 * {@link Builder}.
 */
public final class FlatRules {
    /** Action: the packet is allowed. */
    public static final byte ALLOW = 1;
    /** Action: the packet is denied. */
    public static final byte DENY = 0;

    private final int dims;
    private final int[] dimBits;
    private final int[] partitionDims;
    private final int[] lo;
    private final int[] hi;
    private final byte[] action;
    private final int[] id;
    private final int size;

    private FlatRules(int dims, int[] dimBits, int[] partitionDims, int[] lo, int[] hi, byte[] action, int[] id, int size) {
        this.dims = dims;
        this.dimBits = dimBits;
        this.partitionDims = partitionDims;
        this.lo = lo;
        this.hi = hi;
        this.action = action;
        this.id = id;
        this.size = size;
    }

    /** Number of dimensions. */
    public int dims() { return dims; }
    /** Number of rules. */
    public int size() { return size; }
    /** Width in bits of dimension {@code d} (1..32). */
    public int dimBits(int d) { return dimBits[d]; }
    /** Dimensions used to partition rules by "largeness" (source and destination address). */
    public int[] partitionDims() { return partitionDims.clone(); }
    int partitionDim(int i) { return partitionDims[i]; }
    int partitionDimCount() { return partitionDims.length; }
    /** Lower bound (unsigned) of rule {@code r} in dimension {@code d}. */
    public int lo(int r, int d) { return lo[r * dims + d]; }
    /** Upper bound (unsigned, inclusive) of rule {@code r} in dimension {@code d}. */
    public int hi(int r, int d) { return hi[r * dims + d]; }
    /** Action of rule {@code r}. */
    public byte action(int r) { return action[r]; }
    /** External id of rule {@code r}. */
    public int id(int r) { return id[r]; }

    /** True if both lists hold the same rules (ranges, actions, ids) in the same order. */
    public boolean sameRules(FlatRules o) {
        return o != null && dims == o.dims && size == o.size && Arrays.equals(dimBits, o.dimBits) && Arrays.equals(lo, o.lo)
                && Arrays.equals(hi, o.hi) && Arrays.equals(action, o.action) && Arrays.equals(id, o.id);
    }

    /**
     * Positions whose box differs between {@code a} and {@code b} (lists of the same size and
     * shape), ascending, at most {@code max + 1} of them (more: there are more than {@code max}).
     * One vectorized compare of the bound arrays from each difference on.
     */
    static int[] changedBoxes(FlatRules a, FlatRules b, int max) {
        IntList changed = new IntList(4);
        int dims = a.dims, len = a.size * dims;
        for (int i = 0; i < len && changed.size() <= max; ) {
            int x = Arrays.mismatch(a.lo, i, len, b.lo, i, len), y = Arrays.mismatch(a.hi, i, len, b.hi, i, len);
            int m = x < 0 ? y : y < 0 ? x : Math.min(x, y);
            if (m < 0) break;
            int r = (i + m) / dims;
            changed.add(r);
            i = (r + 1) * dims;
        }
        return changed.toArray();
    }

    int[] loArray() { return lo; }
    int[] hiArray() { return hi; }
    byte[] actionArray() { return action; }
    int[] idArray() { return id; }
    int[] dimBitsArray() { return dimBits; }

    /** Returns a builder for rules of the given dimension widths. */
    public static Builder builder(int[] dimBits, int[] partitionDims) { return new Builder(dimBits, partitionDims); }

    /** A builder with room for about {@code rules} rules (it grows past them). */
    public static Builder builder(int[] dimBits, int[] partitionDims, int rules) {
        Builder b = new Builder(dimBits, partitionDims);
        int n = Math.max(1, rules);
        b.lo = new int[n * b.dims];
        b.hi = new int[n * b.dims];
        b.action = new byte[n];
        b.id = new int[n];
        return b;
    }

    /** Dimension widths of IPv4 5-tuple rules: src, dst, sport, dport, proto. */
    public static int[] v4Dims() { return new int[] {32, 32, 16, 16, 8}; }
    /** Partition dimensions for IPv4 5-tuple rules. */
    public static int[] v4PartitionDims() { return new int[] {0, 1}; }
    /** Dimension widths of IPv6 rules: 4 src words, 4 dst words, sport, dport, proto. */
    public static int[] v6Dims() { return new int[] {32, 32, 32, 32, 32, 32, 32, 32, 16, 16, 8}; }
    /** Partition dimensions for IPv6 rules. */
    public static int[] v6PartitionDims() { return new int[] {0, 4}; }

    /** Accumulates rules; checks each range against the dimension width. */
    public static final class Builder {
        private final int dims;
        private final int[] dimBits;
        private final int[] partitionDims;
        private int[] lo = new int[64];
        private int[] hi = new int[64];
        private byte[] action = new byte[16];
        private int[] id = new int[16];
        private int size;

        private Builder(int[] dimBits, int[] partitionDims) {
            this.dims = dimBits.length;
            if (dims < 1 || dims > 16) throw new IllegalArgumentException("1..16 dimensions, got " + dims);
            this.dimBits = dimBits.clone();
            this.partitionDims = partitionDims.clone();
            for (int b : dimBits) {
                if (b < 1 || b > 32) throw new IllegalArgumentException("dimension width " + b);
            }
        }

        /** Appends a rule (lowest priority so far); {@code los}/{@code his} have one entry per dimension. */
        public Builder add(int[] los, int[] his, byte act, int ruleId) {
            if (los.length != dims || his.length != dims) throw new IllegalArgumentException("expected " + dims + " dimensions");
            ensure(size + 1);
            for (int d = 0; d < dims; d++) {
                long l = Integer.toUnsignedLong(los[d]);
                long h = Integer.toUnsignedLong(his[d]);
                long max = (1L << dimBits[d]) - 1;
                if (l > h) throw new IllegalArgumentException("dimension " + d + ": reversed range " + l + ".." + h);
                if (h > max) throw new IllegalArgumentException("dimension " + d + ": " + h + " exceeds " + max);
                lo[size * dims + d] = los[d];
                hi[size * dims + d] = his[d];
            }
            action[size] = act;
            id[size] = ruleId;
            size++;
            return this;
        }

        /**
         * Appends rules {@code [from, to)} of {@code src} (a list of the same shape) as they are,
         * their ids plus {@code idDelta}.
         */
        public Builder addRange(FlatRules src, int from, int to, int idDelta) {
            if (src.dims != dims || !Arrays.equals(src.dimBits, dimBits)) throw new IllegalArgumentException("a list of another shape");
            int n = to - from;
            if (n <= 0) return this;
            ensure(size + n);
            System.arraycopy(src.lo, from * dims, lo, size * dims, n * dims);
            System.arraycopy(src.hi, from * dims, hi, size * dims, n * dims);
            System.arraycopy(src.action, from, action, size, n);
            for (int i = 0; i < n; i++) id[size + i] = src.id[from + i] + idDelta;
            size += n;
            return this;
        }

        /** Number of rules added so far. */
        public int size() { return size; }

        private void ensure(int n) {
            if (lo == null) throw new IllegalStateException("this builder handed its arrays to a list already");
            if (n > action.length) {
                int cap = Math.max(n, action.length * 2);
                action = Arrays.copyOf(action, cap);
                id = Arrays.copyOf(id, cap);
            }
            if (n * dims > lo.length) {
                int cap = Math.max(n * dims, lo.length * 2);
                lo = Arrays.copyOf(lo, cap);
                hi = Arrays.copyOf(hi, cap);
            }
        }

        /**
         * Returns the immutable rule list. A builder filled to exactly the room it was given hands
         * its arrays over (no copy) and takes no more rules after that.
         */
        public FlatRules build() {
            if (lo == null) throw new IllegalStateException("this builder handed its arrays to a list already");
            if (lo.length == size * dims && hi.length == lo.length && action.length == size && id.length == size) {
                FlatRules r = new FlatRules(dims, dimBits, partitionDims, lo, hi, action, id, size);
                lo = hi = id = null;
                action = null;
                return r;
            }
            return new FlatRules(dims, dimBits, partitionDims, Arrays.copyOf(lo, size * dims), Arrays.copyOf(hi, size * dims),
                    Arrays.copyOf(action, size), Arrays.copyOf(id, size), size);
        }
    }
}
