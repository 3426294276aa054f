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
        public static Params defaults() { return new Params(8, 4.0, 12, 8); }
    }

    private final Params params;

    /** A compiler with default parameters. */
    public CutTreeCompiler() { this(Params.defaults()); }

    /** A compiler with the given parameters. */
    public CutTreeCompiler(Params params) { this.params = params; }

    /** Compiles all rules from scratch. */
    public Classifier compile(FlatRules rules) {
        return join(rules, buildAll(rules));
    }

    /** Builds one fragment per non-empty partition. */
    public List<TreeFragment> buildAll(FlatRules rules) {
        List<int[]> parts = partitions(rules);
        List<TreeFragment> out = new ArrayList<>();
        for (int c = 0; c < parts.size(); c++) {
            if (parts.get(c).length > 0) out.add(buildFragment(rules, c, parts.get(c)));
        }
        return out;
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

    /** Builds the tree for the given rules (ascending priorities) of one partition. */
    public TreeFragment buildFragment(FlatRules rules, int partition, int[] members) {
        Build b = new Build(rules, params);
        int root = b.node(members, members.length, b.fullRegionLo(), b.fullRegionHi(), 0);
        return new TreeFragment(partition, members, b.nodes.toArray(), b.leaves.toArray(), root);
    }

    /** Concatenates fragments into one classifier, ordered by their best priority. */
    public static Classifier join(FlatRules rules, List<TreeFragment> fragments) {
        List<TreeFragment> fs = new ArrayList<>(fragments);
        fs.removeIf(f -> f.members().length == 0);
        fs.sort((a, b) -> Integer.compare(a.members()[0], b.members()[0]));
        int nodeTotal = 0, leafTotal = 0;
        for (TreeFragment f : fs) { nodeTotal += f.nodes().length; leafTotal += f.leaves().length; }
        if (nodeTotal >= 1 << 27) throw new IllegalStateException("compiled table too large: " + nodeTotal + " node slots");
        int[] nodes = new int[nodeTotal];
        int[] leaves = new int[leafTotal];
        int[] roots = new int[fs.size()];
        int[] minPrio = new int[fs.size()];
        int nb = 0, lb = 0;
        for (int t = 0; t < fs.size(); t++) {
            TreeFragment f = fs.get(t);
            int[] fn = f.nodes();
            System.arraycopy(fn, 0, nodes, nb, fn.length);
            int p = 0;
            while (p < fn.length) {
                int cnt = (fn[p] >>> 5) + 1;
                for (int i = 0; i < cnt; i++) nodes[nb + p + 1 + i] = relocate(fn[p + 1 + i], nb, lb);
                p += 1 + cnt;
            }
            System.arraycopy(f.leaves(), 0, leaves, lb, f.leaves().length);
            roots[t] = relocate(f.root(), nb, lb);
            minPrio[t] = f.members()[0];
            nb += fn.length;
            lb += f.leaves().length;
        }
        byte[] action = new byte[rules.size()];
        int[] ids = new int[rules.size()];
        for (int r = 0; r < rules.size(); r++) { action[r] = rules.action(r); ids[r] = rules.id(r); }
        return new Classifier(rules.dims(), nodes, leaves, roots, minPrio, action, ids);
    }

    private static int relocate(int ref, int nodeBase, int leafBase) {
        return ref >= 0 ? (((ref >>> 4) + nodeBase) << 4) | (ref & 15) : ~(~ref + leafBase);
    }

    /** State of one tree build. */
    private static final class Build {
        private static final int MAX_DEPTH = 40;
        final int dims;
        final int[] bits;
        final long[] lo;
        final long[] hi;
        final Params p;
        final IntList nodes = new IntList(1024);
        final IntList leaves = new IntList(1024);
        final long budget;

        Build(FlatRules rules, Params p) {
            this.p = p;
            this.dims = rules.dims();
            this.bits = rules.dimBitsArray();
            int[] l = rules.loArray(), h = rules.hiArray();
            this.lo = new long[l.length];
            this.hi = new long[h.length];
            for (int i = 0; i < l.length; i++) { lo[i] = Integer.toUnsignedLong(l[i]); hi[i] = Integer.toUnsignedLong(h[i]); }
            leaves.add(0); // shared empty leaf at offset 0
            this.budget = Math.min(32_000_000L, 1_000_000L + 300L * rules.size() * dims); // int slots; beyond it, nodes become leaves
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

        /** Builds the subtree for rules {@code rs[0..n)} in the region; returns its reference. */
        int node(int[] rs, int n, long[] rlo, long[] rhi, int depth) {
            for (int i = 0; i < n; i++) {
                if (coversAll(rs[i], rlo, rhi)) { n = i + 1; break; }
            }
            if (n == 0) return ~0;
            if (n <= p.binth() || depth >= MAX_DEPTH || nodes.size() + leaves.size() > budget) return leaf(rs, n, rlo, rhi);
            int dim = chooseDim(rs, n, rlo, rhi);
            if (dim < 0) return leaf(rs, n, rlo, rhi);
            long width = rhi[dim] - rlo[dim] + 1;
            int widthBits = 63 - Long.numberOfLeadingZeros(width);
            int k = chooseCutBits(rs, n, dim, rlo[dim], rhi[dim], widthBits);
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
            if (largest == n && depth > 0 && (n <= 4 * p.binth() || depth > 16)) return leaf(rs, n, rlo, rhi); // no child got smaller
            for (int c = 0; c < np; c++) count[c + 1] += count[c];
            int[] flat = new int[count[np]];
            int[] fill = Arrays.copyOf(count, np);
            for (int i = 0; i < n; i++) {
                int r = rs[i];
                int a = (int) ((Math.max(lo[r * dims + base], rlo[dim]) - rlo[dim]) >>> shift);
                int b = (int) ((Math.min(hi[r * dims + base], rhi[dim]) - rlo[dim]) >>> shift);
                for (int c = a; c <= b; c++) flat[fill[c]++] = r;
            }
            int at = nodes.reserve(1 + np);
            nodes.set(at, shift | ((np - 1) << 5));
            Map<ChildKey, Integer> shared = new HashMap<>();
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
                    if (ref != null) { nodes.set(at + 1 + c, ref); continue; }
                }
                int ref = node(list, len, clo, chi, depth + 1);
                nodes.set(at + 1 + c, ref);
                if (key != null) shared.put(key, ref);
            }
            return (at << 4) | dim;
        }

        private boolean allCover(int[] list, int dim, long[] clo, long[] chi) {
            for (int r : list) if (!covers(r, dim, clo, chi)) return false;
            return true;
        }

        /** The dimension with the most distinct clipped ranges, or -1 if none separates the rules. */
        private int chooseDim(int[] rs, int n, long[] rlo, long[] rhi) {
            int best = -1, bestCount = 1;
            long[] keys = new long[n];
            for (int d = 0; d < dims; d++) {
                if (rhi[d] == rlo[d]) continue;
                for (int i = 0; i < n; i++) {
                    int r = rs[i];
                    long a = Math.max(lo[r * dims + d], rlo[d]) - rlo[d];
                    long b = Math.min(hi[r * dims + d], rhi[d]) - rlo[d];
                    keys[i] = a * 0x9E3779B97F4A7C15L ^ b; // distinct ranges -> (almost surely) distinct keys
                }
                Arrays.sort(keys, 0, n);
                int distinct = 1;
                for (int i = 1; i < n; i++) if (keys[i] != keys[i - 1]) distinct++;
                if (distinct > bestCount) { bestCount = distinct; best = d; }
            }
            return best;
        }

        private int chooseCutBits(int[] rs, int n, int dim, long rlo, long rhi, int widthBits) {
            int maxK = Math.min(Math.min(widthBits, p.maxCutBits()), 24);
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

        /** Emits a leaf: redundant rules dropped, per rule only the dimensions it does not cover, narrowest first. */
        private int leaf(int[] rs, int n, long[] rlo, long[] rhi) {
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
            return ~at;
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

    /** Identity of a child's rule list, for sharing identical children. */
    private record ChildKey(int[] rules) {
        @Override public boolean equals(Object o) { return o instanceof ChildKey k && Arrays.equals(rules, k.rules); }
        @Override public int hashCode() { return Arrays.hashCode(rules); }
    }
}
