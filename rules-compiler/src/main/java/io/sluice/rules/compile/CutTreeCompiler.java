package io.sluice.rules.compile;

import io.sluice.rules.table.Classifier;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles a {@link FlatRules} list into a {@link Classifier}: rules are split into partitions
 * by how "large" they are in the address dimensions (EffiCuts), and each partition becomes one
 * HiCuts-style decision tree with equal power-of-two cuts on one dimension per node, child
 * sharing, covered-rule pruning and leaves of at most {@link Params#binth()} rules (see
 * docs/rules-compiler.md). Stateless and thread-safe.
 */
public final class CutTreeCompiler {

    /**
     * Tuning knobs.
     *
     * @param binth maximum rules in a leaf (larger leaves only when no cut separates them)
     * @param spfac space factor: a node may cut while the sum of child rule counts stays below spfac x rules
     * @param maxCutBits at most 2^maxCutBits children per node
     * @param largeBits an address range is "large" when it spans at least 2^(width - largeBits) values
     */
    public record Params(int binth, double spfac, int maxCutBits, int largeBits) {
        /** Defaults tuned on the ClassBench 1K/10K sets. */
        public static Params defaults() { return new Params(8, 8.0, 16, 4); }
    }

    private final Params params;

    /** A compiler with default parameters. */
    public CutTreeCompiler() { this(Params.defaults()); }

    /** A compiler with the given parameters. */
    public CutTreeCompiler(Params params) { this.params = params; }

    /** Compiles all rules from scratch. */
    public Classifier compile(FlatRules rules) {
        checkShape(rules);
        List<int[]> parts = new ArrayList<>(partitions(rules));
        parts.removeIf(m -> m.length == 0);
        parts.sort((a, b) -> Integer.compare(a[0], b[0]));
        IntList nodes = new IntList(1024), leaves = new IntList(1024);
        int[][] tops = new int[parts.size()][];
        int[] rootDim = new int[parts.size()], minPrio = new int[parts.size()];
        for (int t = 0; t < parts.size(); t++) {
            Build b = new Build(rules, params, nodes, leaves, false, true);
            int root = b.node(parts.get(t), parts.get(t).length, b.fullRegionLo(), b.fullRegionHi(), 0);
            tops[t] = b.top(root);
            rootDim[t] = root < 0 ? 0 : root & 15;
            minPrio[t] = parts.get(t)[0];
        }
        checkSize(nodes.size());
        return new Classifier(rules.dims(), nodes.toArray(), leaves.toArray(), tops, rootDim, minPrio, rules.actionArray().clone(), rules.idArray().clone());
    }

    /**
     * A 5-dimension table stores fixed leaf entries with its last three dimensions packed 16 bits
     * each (ports, protocol): those must be at most 16 bits wide.
     */
    static void checkShape(FlatRules rules) {
        if (rules.dims() != Classifier.FIXED_DIMS) return;
        for (int d = 2; d < Classifier.FIXED_DIMS; d++) {
            if (rules.dimBits(d) > 16) throw new IllegalArgumentException("a 5-dimension rule list is an IPv4 5-tuple: dimension " + d + " is " + rules.dimBits(d) + " bits wide, at most 16 allowed");
        }
    }

    /** References hold a node offset in 27 bits. */
    static void checkSize(int nodeInts) {
        if (nodeInts >= 1 << 27) throw new IllegalStateException("compiled table too large: " + nodeInts + " node slots");
    }

    /** Number of partition classes for rules of this shape. */
    public int partitionCount(FlatRules rules) { return params.largeBits() < 0 ? 1 : 1 << rules.partitionDimCount(); }

    /** Partition class of rule {@code r}: one bit per partition dimension in which it is large. */
    public int partitionOf(FlatRules rules, int r) {
        int c = 0;
        if (params.largeBits() < 0) return 0;
        for (int i = 0; i < rules.partitionDimCount(); i++) {
            int d = rules.partitionDim(i);
            long span = Integer.toUnsignedLong(rules.hi(r, d)) - Integer.toUnsignedLong(rules.lo(r, d)) + 1;
            int bits = rules.dimBits(d);
            if (span >= (1L << Math.max(0, bits - params.largeBits()))) c |= 1 << i;
        }
        return c;
    }

    /** Rule priorities per partition class, ascending. */
    public List<int[]> partitions(FlatRules rules) {
        int k = partitionCount(rules);
        IntList[] lists = new IntList[k];
        for (int c = 0; c < k; c++) lists[c] = new IntList(16);
        for (int r = 0; r < rules.size(); r++) lists[partitionOf(rules, r)].add(r);
        List<int[]> out = new ArrayList<>(k);
        for (IntList l : lists) out.add(l.toArray());
        return out;
    }

    Params params() { return params; }

    /** State of one tree build. */
    static final class Build {
        static final int MAX_DEPTH = 40;
        static final int NO_PROGRESS_DEPTH = Integer.getInteger("sluice.rules.noProgressDepth", 12);
        /** Nodes with at least this many live rules keep sorted keys and span sums for incremental updates. */
        static final int STATS_MIN = 256;
        final int dims;
        final int[] bits;
        final long[] lo;
        final long[] hi;
        final Params p;
        final IntList nodes;
        final IntList leaves;
        /** The root node goes here (the tree's own array), not into {@code nodes}. */
        final IntList top = new IntList(16);
        final long budget;
        final boolean record;
        final int sizeBase;
        /** Offset of this tree's empty leaf (count 0) in {@code leaves}. */
        int emptyLeaf;
        int emptyRef;
        boolean budgetHit;
        /** With {@code record}: the record of the node the last {@link #node} call built. */
        BNode made;
        /**
         * This tree's leaves by content: a leaf whose entries equal an earlier one's is not written
         * again, its stub is shared (a leaf's entries do not depend on where it sits).
         */
        final LeafIndex leafIndex;

        /** A build that adds nodes to an existing tree appended to {@code nodes}/{@code leaves}: no budget. */
        Build(FlatRules rules, long[][] bounds, Params p, IntList nodes, IntList leaves, int emptyLeaf, int emptyRef, LeafIndex leafIndex) {
            this(rules, bounds, p, nodes, leaves, true, false, emptyLeaf, emptyRef, leafIndex);
        }

        /**
         * A build appending to {@code nodes}/{@code leaves} (absolute references); {@code record}
         * keeps a {@link BNode} per node; {@code withBudget} applies the per-tree memory budget
         * counted from the current sizes (a new tree: the caller adds its empty leaf after this).
         */
        Build(FlatRules rules, Params p, IntList nodes, IntList leaves, boolean record, boolean withBudget) {
            this(rules, bounds(rules), p, nodes, leaves, record, withBudget, -1, 0, new LeafIndex());
        }

        /** The rules' bounds as unsigned values: {lo, hi}, {@code r * dims + d}. */
        static long[][] bounds(FlatRules rules) {
            int[] l = rules.loArray(), h = rules.hiArray();
            long[] lo = new long[l.length], hi = new long[h.length];
            for (int i = 0; i < l.length; i++) { lo[i] = Integer.toUnsignedLong(l[i]); hi[i] = Integer.toUnsignedLong(h[i]); }
            return new long[][] {lo, hi};
        }

        private Build(FlatRules rules, long[][] bounds, Params p, IntList nodes, IntList leaves, boolean record, boolean withBudget, int emptyLeaf, int emptyRef,
                LeafIndex leafIndex) {
            this.p = p;
            this.leafIndex = leafIndex;
            this.dims = rules.dims();
            this.bits = rules.dimBitsArray();
            this.lo = bounds[0];
            this.hi = bounds[1];
            this.nodes = nodes;
            this.leaves = leaves;
            this.record = record;
            this.sizeBase = nodes.size() + leaves.size();
            if (emptyLeaf < 0) { // a new tree: its empty leaf first
                this.emptyLeaf = leaves.size();
                leaves.add(0);
            } else {
                this.emptyLeaf = emptyLeaf;
                this.emptyRef = emptyRef;
            }
            this.budget = withBudget ? budgetFor(rules) : Long.MAX_VALUE;
        }

        static long budgetFor(FlatRules rules) {
            return Math.min(32_000_000L, 1_000_000L + 300L * rules.size() * rules.dims()); // int slots; beyond it, nodes become leaves
        }

        /** The tree's root array for the reference {@link #node} returned at depth 0. */
        int[] top(int rootRef) { return rootRef < 0 ? leafTop(rootRef) : top.toArray(); }

        /** The root array of a tree whose root is the leaf stub {@code stubRef}: a one-child node. */
        static int[] leafTop(int stubRef) {
            int[] kids = {stubRef}, a = new int[Classifier.nodeInts(kids, 0)];
            Classifier.encodeNode(a, 0, 0, kids, 0, 0);
            return a;
        }

        long[] fullRegionLo() { return new long[dims]; }

        long[] fullRegionHi() {
            long[] r = new long[dims];
            for (int d = 0; d < dims; d++) r[d] = (1L << bits[d]) - 1;
            return r;
        }

        boolean covers(int r, int d, long[] rlo, long[] rhi) {
            return lo[r * dims + d] <= rlo[d] && hi[r * dims + d] >= rhi[d];
        }

        boolean coversAll(int r, long[] rlo, long[] rhi) {
            for (int d = 0; d < dims; d++) if (!covers(r, d, rlo, rhi)) return false;
            return true;
        }

        /** Rules of {@code rs[0..n)} that can win in the region: up to and including the first covering one. */
        int live(int[] rs, int n, long[] rlo, long[] rhi) {
            for (int i = 0; i < n; i++) if (coversAll(rs[i], rlo, rhi)) return i + 1;
            return n;
        }

        /**
         * With {@link #record}: a subtree of the previous tree that may be reused (see
         * {@link #reusable}), and the rule whose box changed (a subtree holding it is never reused).
         */
        BNode reuseFrom;
        int reuseSkip = -1;
        /** Subtrees reused so far. */
        int reusedSubtrees;

        /** Builds the subtree for rules {@code rs[0..n)} in the region; returns its reference. */
        int node(int[] rs, int n, long[] rlo, long[] rhi, int depth) {
            if (reuseFrom != null && depth > reuseFrom.depth) {
                BNode old = reusable(rs, n, rlo, rhi, depth);
                if (old != null) {
                    old.users = 0; // its old parent is being replaced: the new parent counts its uses
                    made = old;
                    reusedSubtrees++;
                    return old.ref;
                }
            }
            int incoming = n;
            n = live(rs, n, rlo, rhi);
            if (n == 0) {
                if (emptyRef == 0) emptyRef = stub(emptyLeaf);
                made = record ? BNode.EMPTY_NODE : null;
                return emptyRef;
            }
            boolean overBudget = nodes.size() + leaves.size() - sizeBase > budget;
            if (overBudget && n > p.binth() && depth < MAX_DEPTH) budgetHit = true;
            if (n <= p.binth() || depth >= MAX_DEPTH || overBudget) return leaf(rs, incoming, n, rlo, rhi, depth);
            long[][] keys = record && n >= STATS_MIN ? new long[dims][] : null;
            int[] distinct = keys == null ? null : new int[dims];
            int dim = chooseDim(rs, n, rlo, rhi, keys, distinct);
            if (dim < 0) return leaf(rs, incoming, n, rlo, rhi, depth);
            long width = rhi[dim] - rlo[dim] + 1;
            int widthBits = 63 - Long.numberOfLeadingZeros(width);
            long[] spanSum = keys == null ? null : spanSums(rs, n, dim, rlo[dim], rhi[dim], widthBits);
            int k = spanSum != null ? cutBitsFromSums(spanSum, n, widthBits) : chooseCutBits(rs, n, dim, rlo[dim], rhi[dim], widthBits);
            int shift = widthBits - k;
            int np = 1 << k;
            // distribute rules to children, keeping priority order
            int[] count = new int[np + 1];
            int base = dim;
            for (int i = 0; i < n; i++) {
                int r = rs[i];
                int a = (int) ((Math.max(lo[r * dims + base], rlo[dim]) - rlo[dim]) >>> shift);
                int b = (int) ((Math.min(hi[r * dims + base], rhi[dim]) - rlo[dim]) >>> shift);
                for (int c = a; c <= b; c++) count[c + 1]++;
            }
            int largest = 0;
            for (int c = 0; c < np; c++) largest = Math.max(largest, count[c + 1]);
            if (largest == n && depth > NO_PROGRESS_DEPTH) return leaf(rs, incoming, n, rlo, rhi, depth); // no child got smaller
            for (int c = 0; c < np; c++) count[c + 1] += count[c];
            int[] flat = new int[count[np]];
            int[] fill = Arrays.copyOf(count, np);
            for (int i = 0; i < n; i++) {
                int r = rs[i];
                int a = (int) ((Math.max(lo[r * dims + base], rlo[dim]) - rlo[dim]) >>> shift);
                int b = (int) ((Math.min(hi[r * dims + base], rhi[dim]) - rlo[dim]) >>> shift);
                for (int c = a; c <= b; c++) flat[fill[c]++] = r;
            }
            BNode me = null;
            if (record) {
                me = inner(rs, incoming, n, rlo, rhi, depth, dim, k, shift);
                me.keys = keys;
                me.distinct = distinct;
                me.spanSum = spanSum;
            }
            int[] kids = new int[np];
            Map<ChildKey, Integer> shared = new HashMap<>();
            // by list, not by reference: leaves with equal entries share a reference but not a record
            Map<ChildKey, BNode> sharedNode = record ? new HashMap<>() : null;
            long[] clo = rlo.clone(), chi = rhi.clone();
            for (int c = 0; c < np; c++) {
                clo[dim] = rlo[dim] + ((long) c << shift);
                chi[dim] = clo[dim] + (1L << shift) - 1;
                int from = count[c], len = count[c + 1] - from;
                int[] list = Arrays.copyOfRange(flat, from, from + len);
                ChildKey key = null;
                if (len > 0 && allCover(list, dim, clo, chi)) {
                    key = new ChildKey(list);
                    Integer ref = shared.get(key);
                    if (ref != null) {
                        kids[c] = ref;
                        if (record) (me.kids[c] = sharedNode.get(key)).users++;
                        continue;
                    }
                }
                int ref = node(list, len, clo, chi, depth + 1);
                kids[c] = ref;
                if (record) {
                    me.kids[c] = made;
                    if (made.kind != BNode.EMPTY) made.users++;
                }
                if (key != null) {
                    shared.put(key, ref);
                    if (record) sharedNode.put(key, made);
                }
            }
            int at = writeNode(depth == 0 ? top : nodes, shift, kids, emptyRef, rlo[dim]); // after its children (post-order)
            if (record) {
                me.ref = (at << 4) | dim;
                me.size = innerSize(me);
                made = me;
            }
            return (at << 4) | dim;
        }

        /**
         * The node of the previous subtree {@link #reuseFrom} with exactly this region, depth and
         * incoming rule list, not holding the changed rule: the subtree a compile from scratch
         * builds here (its arrays are immutable once written), or null. Found by descending the
         * previous subtree along the region, O(depth).
         */
        private BNode reusable(int[] rs, int n, long[] rlo, long[] rhi, int depth) {
            BNode cur = reuseFrom;
            while (cur.kind == BNode.INNER && cur.depth < depth) {
                int d = cur.dim;
                if (rlo[d] < cur.rlo[d] || rhi[d] > cur.rhi[d]) return null;
                int c = (int) ((rlo[d] - cur.rlo[d]) >>> cur.shift);
                if ((rhi[d] - cur.rlo[d]) >>> cur.shift != c) return null; // spans several of its children
                cur = cur.kids[c];
            }
            if (cur.kind == BNode.EMPTY || cur.depth != depth || cur.in.length != n || !Arrays.equals(cur.rlo, rlo) || !Arrays.equals(cur.rhi, rhi)) return null;
            if (!Arrays.equals(cur.in, 0, n, rs, 0, n)) return null;
            if (reuseSkip >= 0 && Arrays.binarySearch(cur.in, reuseSkip) >= 0) return null;
            return cur;
        }

        /** Appends the node with children {@code kids} to {@code out}, not storing the empty leaf {@code emptyRef} at its ends; returns its offset. */
        static int writeNode(IntList out, int shift, int[] kids, int emptyRef, long regionLo) {
            int at = out.reserve(Classifier.nodeInts(kids, emptyRef));
            Classifier.encodeNode(out.array(), at, shift, kids, emptyRef, regionLo);
            return at;
        }

        static BNode record(int kind, int[] rs, int incoming, int n, long[] rlo, long[] rhi, int depth) {
            BNode b = new BNode();
            b.kind = kind;
            b.in = incoming == rs.length ? rs : Arrays.copyOf(rs, incoming);
            b.live = n;
            b.rlo = rlo.clone();
            b.rhi = rhi.clone();
            b.depth = depth;
            return b;
        }

        BNode inner(int[] rs, int incoming, int n, long[] rlo, long[] rhi, int depth, int dim, int k, int shift) {
            BNode b = record(BNode.INNER, rs, incoming, n, rlo, rhi, depth);
            b.dim = dim;
            b.bits = k;
            b.shift = shift;
            b.kids = new BNode[1 << k];
            return b;
        }

        /** Ints of a node with these children: header plus the children between the first and the last non-empty one. */
        static int ownInts(BNode[] kids) {
            int lo = 0, hi = kids.length - 1;
            while (lo <= hi && kids[lo].kind == BNode.EMPTY) lo++;
            while (hi >= lo && kids[hi].kind == BNode.EMPTY) hi--;
            return Classifier.NODE_HEADER + hi - lo + 1;
        }

        /** The node's own ints (header, the children between the first and last non-empty one) plus each distinct non-empty child's subtree once. */
        static int innerSize(BNode b) {
            int e = BNode.nextMark();
            int s = ownInts(b.kids);
            for (BNode k : b.kids) {
                if (k.kind == BNode.EMPTY || k.mark == e) continue;
                k.mark = e;
                s += k.size;
            }
            return s;
        }

        boolean allCover(int[] list, int dim, long[] clo, long[] chi) {
            for (int r : list) if (!covers(r, dim, clo, chi)) return false;
            return true;
        }

        /** Key of rule {@code r}'s range clipped to the region in {@code d}: distinct ranges give (almost surely) distinct keys. */
        long key(int r, int d, long[] rlo, long[] rhi) {
            long a = Math.max(lo[r * dims + d], rlo[d]) - rlo[d];
            long b = Math.min(hi[r * dims + d], rhi[d]) - rlo[d];
            return a * 0x9E3779B97F4A7C15L ^ b;
        }

        /**
         * The dimension with the most distinct clipped ranges, or -1 if none separates the rules.
         * With {@code save}, keeps each considered dimension's sorted keys and distinct count.
         */
        int chooseDim(int[] rs, int n, long[] rlo, long[] rhi, long[][] save, int[] distinctOut) {
            int best = -1, bestCount = 1;
            long[] keys = new long[n];
            for (int d = 0; d < dims; d++) {
                if (rhi[d] == rlo[d]) continue;
                for (int i = 0; i < n; i++) keys[i] = key(rs[i], d, rlo, rhi);
                Arrays.sort(keys, 0, n);
                int distinct = 1;
                for (int i = 1; i < n; i++) if (keys[i] != keys[i - 1]) distinct++;
                if (save != null) { save[d] = keys.clone(); distinctOut[d] = distinct; }
                if (distinct > bestCount) { bestCount = distinct; best = d; }
            }
            return best;
        }

        /** {@link #chooseDim} from kept distinct counts. */
        int chooseDimFromStats(BNode b) {
            int best = -1, bestCount = 1;
            for (int d = 0; d < dims; d++) {
                if (b.rhi[d] == b.rlo[d]) continue;
                if (b.distinct[d] > bestCount) { bestCount = b.distinct[d]; best = d; }
            }
            return best;
        }

        int maxCutBits(int widthBits) { return Math.min(Math.min(widthBits, p.maxCutBits()), 24); }

        int chooseCutBits(int[] rs, int n, int dim, long rlo, long rhi, int widthBits) {
            int maxK = maxCutBits(widthBits);
            double budget = p.spfac() * n;
            int k = 1;
            while (k < maxK) {
                int next = k + 1;
                int shift = widthBits - next;
                long sum = 1L << next;
                for (int i = 0; i < n && sum <= budget; i++) {
                    int r = rs[i];
                    long a = (Math.max(lo[r * dims + dim], rlo) - rlo) >>> shift;
                    long b = (Math.min(hi[r * dims + dim], rhi) - rlo) >>> shift;
                    sum += b - a + 1;
                }
                if (sum > budget) break;
                k = next;
            }
            return k;
        }

        /** Adds {@code sign} x the number of children, per cut width k (index k), that the range {@code [a, b]} lands in. */
        void addSpans(long[] sums, long a, long b, long rlo, long rhi, int widthBits, int sign) {
            int maxK = maxCutBits(widthBits);
            long x = Math.max(a, rlo) - rlo, y = Math.min(b, rhi) - rlo;
            for (int k = 2; k <= maxK; k++) {
                int shift = widthBits - k;
                sums[k] += sign * ((y >>> shift) - (x >>> shift) + 1);
            }
        }

        long[] spanSums(int[] rs, int n, int dim, long rlo, long rhi, int widthBits) {
            long[] sums = new long[26];
            for (int i = 0; i < n; i++) addSpans(sums, lo[rs[i] * dims + dim], hi[rs[i] * dims + dim], rlo, rhi, widthBits, 1);
            return sums;
        }

        /** {@link #chooseCutBits} from full span sums (the same answer: the sums only grow). */
        int cutBitsFromSums(long[] sums, int n, int widthBits) {
            int maxK = maxCutBits(widthBits);
            double budget = p.spfac() * n;
            int k = 1;
            while (k < maxK && (1L << (k + 1)) + sums[k + 1] <= budget) k++;
            return k;
        }

        /**
         * Emits a leaf: redundant rules dropped; per rule all five ranges in a 5-dimension table
         * (fixed entries), else only the dimensions it does not cover, narrowest first.
         */
        int leaf(int[] rs, int incoming, int n, long[] rlo, long[] rhi, int depth) {
            int[] keep = new int[n];
            int m = 0;
            outer:
            for (int i = 0; i < n; i++) {
                int r = rs[i];
                for (int j = 0; j < m; j++) if (shadows(keep[j], r, rlo, rhi)) continue outer;
                keep[m++] = r;
            }
            int at = leaves.reserve(1);
            leaves.set(at, m);
            Integer[] order = new Integer[dims];
            for (int i = 0; i < m; i++) {
                int r = keep[i];
                leaves.add(r);
                if (dims == Classifier.FIXED_DIMS) { // fixed entry: every dimension, the rule's own range
                    for (int d = 0; d < dims; d++) {
                        int l = (int) lo[r * dims + d], span = (int) hi[r * dims + d] - l;
                        if (d < 2) {
                            leaves.add(l);
                            leaves.add(span + Integer.MIN_VALUE);
                        } else {
                            leaves.add(l << 16 | span); // 16-bit dimension (checked by compile)
                        }
                    }
                    continue;
                }
                int cnt = 0;
                for (int d = 0; d < dims; d++) if (!covers(r, d, rlo, rhi)) order[cnt++] = d;
                leaves.add(cnt);
                final long[] frac = new long[dims];
                for (int d = 0; d < dims; d++) {
                    long span = Math.min(hi[r * dims + d], rhi[d]) - Math.max(lo[r * dims + d], rlo[d]) + 1;
                    frac[d] = (long) (((double) span / (rhi[d] - rlo[d] + 1)) * (1L << 40));
                }
                Arrays.sort(order, 0, cnt, (x, y) -> Long.compare(frac[x], frac[y]));
                for (int j = 0; j < cnt; j++) {
                    int d = order[j];
                    int l = (int) lo[r * dims + d];
                    int h = (int) hi[r * dims + d];
                    leaves.add(d);
                    leaves.add(l);
                    leaves.add((h - l) + Integer.MIN_VALUE);
                }
            }
            int leafInts = leaves.size() - at;
            long shared = leafIndex.intern(leaves, at, nodes); // the same entries written before: that leaf and its stub
            int ref = (int) (shared >> 32);
            at = (int) shared;
            if (record) {
                BNode b = record(BNode.LEAF, rs, incoming, n, rlo, rhi, depth);
                b.ref = ref;
                b.leafAt = at;
                b.size = Classifier.STUB_INTS + leafInts;
                made = b;
            }
            return ref;
        }

        /** Emits the leaf stub node {@code [0, leafOffset, MIN_VALUE, self]}; stepping it stays put, so burst lanes need no branch. */
        int stub(int leafOffset) { return stub(nodes, leafOffset); }

        static int stub(IntList nodes, int leafOffset) {
            int pos = nodes.reserve(Classifier.STUB_INTS);
            return Classifier.encodeStub(nodes.array(), pos, leafOffset);
        }

        /** True if rule {@code a} contains rule {@code b} within the region. */
        private boolean shadows(int a, int b, long[] rlo, long[] rhi) {
            for (int d = 0; d < dims; d++) {
                long al = Math.max(lo[a * dims + d], rlo[d]), ah = Math.min(hi[a * dims + d], rhi[d]);
                long bl = Math.max(lo[b * dims + d], rlo[d]), bh = Math.min(hi[b * dims + d], rhi[d]);
                if (bl < al || bh > ah) return false;
            }
            return true;
        }
    }

    /**
     * A tree's leaves by their ints (count and entries): stub reference and offset. Open
     * addressing over the leaf array itself (no key objects): a slot holds the leaf's offset and
     * length, and its stub reference.
     */
    static final class LeafIndex {
        private int[] at = new int[64], len = new int[64], ref = new int[64];
        private int size;

        /** (stub ref << 32 | offset) of a recorded leaf with the ints {@code a[from, to)}, or 0. */
        long find(int[] a, int from, int to) {
            int n = to - from, mask = len.length - 1;
            for (int i = hash(a, from, to) & mask; len[i] != 0; i = (i + 1) & mask) {
                if (len[i] == n && Arrays.equals(a, at[i], at[i] + n, a, from, to)) return (long) ref[i] << 32 | (at[i] & 0xFFFFFFFFL);
            }
            return 0;
        }

        /**
         * The leaf just written at {@code leaves[at, size)}: if an equal leaf was recorded, the new
         * one is dropped again and that leaf is shared; else a stub for it is appended to
         * {@code nodes} and it is recorded. Returns (stub ref << 32 | offset) of the leaf to use.
         */
        long intern(IntList leaves, int at, IntList nodes) {
            long known = find(leaves.array(), at, leaves.size());
            if (known != 0) {
                leaves.truncate(at);
                return known;
            }
            int ref = Build.stub(nodes, at);
            put(leaves.array(), at, leaves.size() - at, ref);
            return (long) ref << 32 | (at & 0xFFFFFFFFL);
        }

        /** Records the leaf {@code a[from, from + n)} with its stub reference. */
        void put(int[] a, int from, int n, int stubRef) {
            if (2 * (size + 1) > len.length) grow(a);
            int mask = len.length - 1;
            int i = hash(a, from, from + n) & mask;
            while (len[i] != 0) i = (i + 1) & mask;
            at[i] = from;
            len[i] = n;
            ref[i] = stubRef;
            size++;
        }

        private void grow(int[] a) {
            int[] oa = at, ol = len, or = ref;
            at = new int[oa.length * 2];
            len = new int[oa.length * 2];
            ref = new int[oa.length * 2];
            size = 0;
            for (int i = 0; i < oa.length; i++) if (ol[i] != 0) put(a, oa[i], ol[i], or[i]);
        }

        private static int hash(int[] a, int from, int to) {
            int h = 1;
            for (int i = from; i < to; i++) h = 31 * h + a[i];
            return h ^ (h >>> 16);
        }
    }

    /** Identity of a child's rule list, for sharing identical children. */
    record ChildKey(int[] rules) {
        @Override public boolean equals(Object o) { return o instanceof ChildKey k && Arrays.equals(rules, k.rules); }
        @Override public int hashCode() { return Arrays.hashCode(rules); }
    }
}
