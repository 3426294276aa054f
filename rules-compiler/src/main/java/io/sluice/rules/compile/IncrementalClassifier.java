package io.sluice.rules.compile;

import io.sluice.rules.table.Classifier;

import java.util.ArrayList;
import java.util.List;

/**
 * Keeps the per-partition trees of the last compile and, given the next rule list, rebuilds
 * only the partitions whose rules changed; unchanged partitions are reused (their leaf
 * priorities renamed if rules moved). The result is identical to a compile from scratch.
 * Not thread-safe: one writer (the control thread) owns it; readers use the published
 * {@link Classifier}s.
 */
public final class IncrementalClassifier {
    private final CutTreeCompiler compiler;
    private FlatRules rules;
    private TreeFragment[] fragments = new TreeFragment[0];
    private Classifier table;
    private int rebuilt;
    private int reused;

    /** Starts from an empty rule list of the given shape. */
    public IncrementalClassifier(CutTreeCompiler compiler, FlatRules initial) {
        this.compiler = compiler;
        update(initial);
    }

    /** Moves to {@code next}; returns the new table. */
    public Classifier update(FlatRules next) {
        List<int[]> parts = compiler.partitions(next);
        TreeFragment[] fs = new TreeFragment[parts.size()];
        List<TreeFragment> list = new ArrayList<>();
        rebuilt = 0;
        reused = 0;
        for (int c = 0; c < parts.size(); c++) {
            int[] members = parts.get(c);
            if (members.length == 0) continue;
            TreeFragment old = c < fragments.length ? fragments[c] : null;
            if (old != null && sameRules(rules, old.members(), next, members)) {
                fs[c] = old.relabel(members);
                reused++;
            } else {
                fs[c] = compiler.buildFragment(next, c, members);
                rebuilt++;
            }
            list.add(fs[c]);
        }
        fragments = fs;
        rules = next;
        table = CutTreeCompiler.join(next, list);
        return table;
    }

    /** The current table. */
    public Classifier table() { return table; }
    /** Partitions rebuilt by the last update. */
    public int lastRebuilt() { return rebuilt; }
    /** Partitions reused by the last update. */
    public int lastReused() { return reused; }

    private static boolean sameRules(FlatRules a, int[] am, FlatRules b, int[] bm) {
        if (am.length != bm.length || a.dims() != b.dims()) return false;
        for (int j = 0; j < am.length; j++) {
            for (int d = 0; d < a.dims(); d++) {
                if (a.lo(am[j], d) != b.lo(bm[j], d) || a.hi(am[j], d) != b.hi(bm[j], d)) return false;
            }
        }
        return true;
    }
}
