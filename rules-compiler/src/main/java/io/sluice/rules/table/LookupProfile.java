package io.sluice.rules.table;

/**
 * Counts the work {@link Classifier#classify} does on a set of keys: trees searched, node steps,
 * leaf entries examined and range checks, per lookup. A deterministic profile of where lookup
 * time goes (this machine exposes no hardware counters), used by the benchmarks' report.
 *
 * @param trees trees searched per lookup
 * @param steps internal nodes visited per lookup (summed over trees)
 * @param entries leaf entries examined per lookup
 * @param checks range checks evaluated per lookup (all checks of each examined entry, as classify does)
 */
public record LookupProfile(double trees, double steps, double entries, double checks) {

    /** Walks {@code count} keys (at {@code i * dims}) the way {@code classify} does and averages the counts. */
    public static LookupProfile of(Classifier c, int[] keys, int count) {
        int[] nd = c.nodesArray(), lv = c.leavesArray(), rootDim = c.rootDimArray(), minPrio = c.rootMinPrioArray();
        int[][] tops = c.topsArray();
        long trees = 0, steps = 0, entries = 0, checks = 0;
        for (int k = 0; k < count; k++) {
            int off = k * c.dims();
            int best = Integer.MAX_VALUE;
            for (int t = 0; t < tops.length; t++) {
                if (minPrio[t] >= best) break;
                trees++;
                int h0 = tops[t][0];
                if (Classifier.children(h0) > 1) steps++; // a real root node (a leaf root sits behind a one-child node)
                int ref = Classifier.step(tops[t], 0, keys[off + rootDim[t]]);
                while (ref >= 0) {
                    steps++;
                    ref = Classifier.step(nd, ref >>> 4, keys[off + (ref & 15)]);
                }
                int p = nd[((ref & Integer.MAX_VALUE) >>> 4) + Classifier.STUB_LEAF];
                int m = lv[p++];
                for (int i = 0; i < m; i++) {
                    int prio = lv[p];
                    if (prio >= best) break;
                    entries++;
                    int end = p + Classifier.entryInts(c.dims(), lv, p);
                    boolean miss = false;
                    if (c.dims() == Classifier.FIXED_DIMS) { // fixed entry: all five dimensions
                        checks += Classifier.FIXED_DIMS;
                        miss = !Classifier.fixedMatch(lv, p, keys[off], keys[off + 1], keys[off + 2], keys[off + 3], keys[off + 4]);
                    } else {
                        for (int q = p + 2; q < end; q += 3) { // classify evaluates every check of an entry (no branch per check)
                            checks++;
                            miss |= ((keys[off + lv[q]] - lv[q + 1]) + Integer.MIN_VALUE) > lv[q + 2];
                        }
                    }
                    if (!miss) {
                        best = prio;
                        break;
                    }
                    p = end;
                }
            }
        }
        double n = Math.max(1, count);
        return new LookupProfile(trees / n, steps / n, entries / n, checks / n);
    }
}
