package io.sluice.rules;

import io.sluice.rules.classbench.ClassBenchGen;
import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.compile.IncrementalClassifier;
import io.sluice.rules.reference.LinearClassifier;
import io.sluice.rules.table.Classifier;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.intArrays;
import static org.quicktheories.generators.SourceDSL.integers;

/**
 * A one-rule change updates only the nodes it touches, and the result is the compile from
 * scratch: the same trees ({@link Classifier#sameTrees}), byte-identical once laid out again
 * ({@link IncrementalClassifier#compacted}), and the same answers as the linear oracle.
 */
class IncrementalUpdateTest {
    private static void checkAgainstScratch(IncrementalClassifier inc, FlatRules rules, int[] keys, String what) {
        Classifier scratch = new CutTreeCompiler().compile(rules);
        Classifier t = inc.table();
        assertTrue(t.sameTrees(scratch), what + ": same trees as a compile from scratch");
        Classifier c = inc.compacted();
        assertTrue(c.sameStructure(scratch), what + ": laid out again, byte-identical to a compile from scratch");
        LinearClassifier oracle = new LinearClassifier(rules);
        int n = keys.length / 5;
        int[] out = new int[n];
        t.classifyBurst(keys, 0, n, out);
        for (int i = 0; i < n; i++) assertEquals(oracle.firstMatch(keys, i * 5), out[i], what + ": key " + i);
    }

    @Test
    void oneRuleChangesAtOneAndTenThousandRulesEqualScratch() {
        SplittableRandom rnd = new SplittableRandom(11);
        long reusedSubtrees = 0;
        for (ClassBenchGen.Kind kind : ClassBenchGen.Kind.values()) {
            for (int size : new int[] {1_000, 10_000}) {
                FlatRules rules = ClassBenchGen.rules(kind, size, 3);
                IncrementalClassifier inc = new IncrementalClassifier(new CutTreeCompiler(), rules);
                int local = 0;
                int updates = size >= 10_000 ? 6 : 25;
                for (int u = 0; u < updates; u++) {
                    FlatRules next = ClassBenchGen.withOneRuleChanged(rules, rnd.nextInt(size), rnd);
                    inc.update(next);
                    if (inc.lastWasLocal()) local++;
                    reusedSubtrees += inc.lastCost().reusedSubtrees;
                    rules = next;
                    int[] keys = ClassBenchGen.trace(rules, 1, u);
                    if (size >= 10_000) keys = java.util.Arrays.copyOf(keys, 5 * 2_000);
                    checkAgainstScratch(inc, rules, keys, kind + " " + size + " update " + u);
                }
                assertTrue(local >= updates / 2, kind + " " + size + ": most one-rule changes update in place, " + local + " of " + updates);
            }
        }
        // a node whose cut flipped reuses the old subtrees a compile from scratch meets again: that path ran and stayed exact
        assertTrue(reusedSubtrees > 0, "some flipped node reused an old subtree");
    }

    @Test
    void insertsDeletesAndActionChangesEqualScratch() {
        FlatRules rules = ClassBenchGen.rules(ClassBenchGen.Kind.IPC, 1_000, 4);
        IncrementalClassifier inc = new IncrementalClassifier(new CutTreeCompiler(), rules);
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        int[] lo = new int[5], hi = new int[5];
        for (int i = 0; i < rules.size(); i++) {
            if (i == 500) continue; // delete one
            for (int d = 0; d < 5; d++) { lo[d] = rules.lo(i, d); hi[d] = rules.hi(i, d); }
            b.add(lo, hi, i == 7 ? FlatRules.DENY : rules.action(i), rules.id(i));
        }
        FlatRules next = b.build();
        inc.update(next);
        checkAgainstScratch(inc, next, ClassBenchGen.trace(next, 2, 1), "delete");
        FlatRules same = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims()).build();
        inc.update(same);
        assertEquals(0, inc.table().size());
        assertEquals(Classifier.NO_MATCH, inc.table().classify(new int[5], 0), "empty list: no rule matches");
        inc.update(next);
        checkAgainstScratch(inc, next, ClassBenchGen.trace(next, 2, 2), "from empty");
        assertTrue(inc.table().allows(0) == (next.action(0) == FlatRules.ALLOW));
        assertArrayEquals(new int[] {next.id(7)}, new int[] {inc.table().ruleId(7)});
    }

    /**
     * A case the random sequences below found (2026-12-06): with leaves of equal entries sharing one
     * stub, the compiler's record of children shared by rule list was looked up by reference, so a
     * shared child slot got the record of another leaf with the same entries; the next one-rule
     * change then updated the wrong region.
     */
    @Test
    void sharedLeafReferencesKeepTheirOwnRecords() {
        int[] rc = new int[379];
        int[] nonZero = {10, 1, 26, 1, 44, 1, 56, 1, 57, 1, 66, 1, 82, 1, 90, 1, 106, 8, 110, 8, 120, 1, 138, 1, 140, 1, 150, 1, 166, 1, 170, 1, 184, 1, 192, 1, 200, 1, 201, 1, 220, 1, 234, 26, 235, 14, 238, 1, 246, 1, 256, 1, 264, 1, 276, 1, 286, 1, 290, 1, 304, 1}; // (index, value) pairs of the generator's input
        for (int i = 0; i < nonZero.length; i += 2) rc[nonZero[i]] = nonZero[i + 1];
        editsEqualScratch(rc, new int[] {3425, 3, 7, 0, 2}, 3);
    }

    private static void editsEqualScratch(int[] rc, int[] ec, int knob) {
        int k = Math.floorMod(knob, 4);
        CutTreeCompiler cc = new CutTreeCompiler(new CutTreeCompiler.Params(1 + k, 2.0 + k, 1 + k * 3, k == 3 ? -1 : 4 + 4 * k));
        FlatRules rules = RuleGen.rules(rc, FlatRules.v4Dims(), FlatRules.v4PartitionDims(), new byte[] {1, 0});
        if (rules.size() == 0) return;
        IncrementalClassifier inc = new IncrementalClassifier(cc, rules);
        SplittableRandom rnd = new SplittableRandom(ec[0]);
        for (int e = 0; e < ec.length; e++) {
            rules = ClassBenchGen.withOneRuleChanged(rules, Math.floorMod(ec[e], rules.size()), rnd);
            inc.update(rules);
            Classifier scratch = cc.compile(rules);
            if (!inc.table().sameTrees(scratch)) throw new AssertionError("edit " + e + ": trees differ from scratch");
            if (!inc.compacted().sameStructure(scratch)) throw new AssertionError("edit " + e + ": layout differs from scratch");
            int[] keys = RuleGen.keys(rules, ec, 32);
            LinearClassifier oracle = new LinearClassifier(rules);
            for (int i = 0; i < 32; i++) {
                if (inc.table().classify(keys, i * 5) != oracle.firstMatch(keys, i * 5)) throw new AssertionError("edit " + e + ": key " + i);
            }
        }
    }

    /** Random small rule lists and random one-rule edits, with random compiler parameters: the table always equals scratch. */
    @Test
    void randomEditSequencesEqualScratch() {
        qt().withExamples(1_000).forAll(intArrays(integers().between(10, 400), integers().between(0, 1 << 20)),
                        intArrays(integers().between(1, 30), integers().between(0, 1 << 20)), integers().between(0, 3))
                .checkAssert(IncrementalUpdateTest::editsEqualScratch);
    }
}
