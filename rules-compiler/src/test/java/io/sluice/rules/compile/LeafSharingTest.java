package io.sluice.rules.compile;

import io.sluice.rules.classbench.ClassBenchGen;
import io.sluice.rules.table.Classifier;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Leaves with equal entries are stored once per tree: in every tree of a compiled table, and
 * still after one-rule changes, each leaf content sits at one offset behind one stub, and some
 * leaves do share (on the generated sets, far fewer contents than leaves). That the shared table
 * answers as the oracle does and equals a compile from scratch is IncrementalUpdateTest's and
 * ClassifierProperties' part.
 */
class LeafSharingTest {
    @Test
    void equalLeavesAreStoredOnceBeforeAndAfterUpdates() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (ClassBenchGen.Kind kind : ClassBenchGen.Kind.values()) {
            FlatRules rules = ClassBenchGen.rules(kind, 1_000, 2);
            IncrementalClassifier inc = new IncrementalClassifier(new CutTreeCompiler(), rules);
            int[] shared = check(inc, kind + " compiled");
            assertTrue(shared[1] < shared[0], kind + ": some leaves share their entries (" + shared[1] + " contents for " + shared[0] + " leaves)");
            for (int u = 0; u < 20; u++) {
                rules = ClassBenchGen.withOneRuleChanged(rules, rnd.nextInt(rules.size()), rnd);
                inc.update(rules);
                check(inc, kind + " update " + u);
            }
        }
    }

    /** Asserts one offset and one stub per leaf content in each tree; returns {leaf records, distinct contents} over all trees. */
    private static int[] check(IncrementalClassifier inc, String what) {
        int[] la = inc.leafArray();
        int dims = 5, records = 0, contents = 0;
        for (BNode root : inc.roots()) {
            List<BNode> leaves = new ArrayList<>();
            collect(root, leaves, new IdentityHashMap<>());
            Map<String, int[]> byContent = new HashMap<>();
            for (BNode l : leaves) {
                int p = l.leafAt + 1;
                for (int i = 0; i < la[l.leafAt]; i++) p += Classifier.entryInts(dims, la, p);
                String key = Arrays.toString(Arrays.copyOfRange(la, l.leafAt, p));
                int[] first = byContent.putIfAbsent(key, new int[] {l.leafAt, l.ref});
                if (first != null) {
                    assertEquals(first[0], l.leafAt, what + ": equal leaves at one offset");
                    assertEquals(first[1], l.ref, what + ": equal leaves behind one stub");
                }
            }
            records += leaves.size();
            contents += byContent.size();
        }
        return new int[] {records, contents};
    }

    private static void collect(BNode b, List<BNode> out, Map<BNode, Boolean> seen) {
        if (b.kind == BNode.EMPTY || seen.put(b, true) != null) return;
        if (b.kind == BNode.LEAF) out.add(b);
        else for (BNode k : b.kids) collect(k, out, seen);
    }
}
