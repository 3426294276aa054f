package io.sluice.rules.compile;

import io.sluice.rules.classbench.ClassBenchGen;
import io.sluice.rules.reference.LinearClassifier;
import io.sluice.rules.table.Classifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fold that fails (the folder's tree update throws: out of memory, a size check) must not leave
 * the list stuck: the table published for that list still answers for it exactly, and the next
 * {@link DeferredClassifier#update} starts over from a compile from scratch of its list, whether it
 * was a described edit or a change that waits for the folds.
 */
@Timeout(120)
class DeferredRecoveryTest {
    private final ExecutorService folder = DeferredClassifier.folderThread("test-recovery");

    @AfterEach
    void stop() {
        folder.shutdownNow();
    }

    private static void checkExact(Classifier t, FlatRules rules, String what) {
        LinearClassifier oracle = new LinearClassifier(rules);
        int[] keys = ClassBenchGen.trace(rules, 1, 3);
        for (int o = 0; o + 5 <= keys.length; o += 5) {
            int want = oracle.firstMatch(keys, o);
            if (t.classify(keys, o) != want) throw new AssertionError(what + ": key at " + o + " got " + t.classify(keys, o) + ", oracle " + want);
        }
    }

    private static void checkScratch(DeferredClassifier dc, FlatRules rules, String what) {
        Classifier t = dc.settle();
        assertNull(t.overlay(), what + ": settled, no overlay");
        assertTrue(dc.compacted().sameStructure(new CutTreeCompiler().compile(rules)), what + ": byte-identical to a compile from scratch");
    }

    @Test
    void aDescribedEditAfterAFailedFoldStartsOverFromScratch() {
        SplittableRandom rnd = new SplittableRandom(11);
        FlatRules v0 = ClassBenchGen.rules(ClassBenchGen.Kind.ACL, 1_500, 7);
        DeferredClassifier dc = new DeferredClassifier(new CutTreeCompiler(), v0, folder, null);
        FlatRules v1 = ClassBenchGen.withOneRuleChanged(v0, 40, rnd, 1);
        dc.beforeFold = r -> {
            if (r == v1) throw new IllegalStateException("injected: the fold of v1 fails");
        };
        checkExact(dc.update(v1), v1, "v1 published before its fold");
        IllegalStateException e = assertThrows(IllegalStateException.class, dc::settle);
        assertTrue(e.getMessage().contains("injected"), e.getMessage());
        checkExact(dc.table(), v1, "v1 after its fold failed: the overlay table stays and answers for v1");

        FlatRules v2 = ClassBenchGen.withOneRuleChanged(v1, 900, rnd, 1);
        checkExact(dc.update(v2), v2, "v2, the update after the failure");
        assertEquals(1, dc.counts()[3], "one restart");
        checkScratch(dc, v2, "v2");
        FlatRules v3 = ClassBenchGen.withOneRuleChanged(v2, 3, rnd, 1); // and the folds go on as before
        checkExact(dc.update(v3), v3, "v3");
        checkScratch(dc, v3, "v3");
        assertEquals(1, dc.counts()[3], "no further restart");
    }

    @Test
    void aWriterWaitingForAFoldThatFailsGetsATableForItsList() {
        SplittableRandom rnd = new SplittableRandom(12);
        FlatRules v0 = ClassBenchGen.rules(ClassBenchGen.Kind.FW, 1_200, 8);
        DeferredClassifier dc = new DeferredClassifier(new CutTreeCompiler(), v0, folder, null);
        // two rules removed at once is not a described edit: the update waits for its own fold, which fails
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        int[] lo = new int[5], hi = new int[5];
        for (int r = 0; r < v0.size(); r++) {
            if (r == 10 || r == 500) continue;
            for (int d = 0; d < 5; d++) { lo[d] = v0.lo(r, d); hi[d] = v0.hi(r, d); }
            b.add(lo, hi, v0.action(r), b.size());
        }
        FlatRules v1 = b.build();
        dc.beforeFold = r -> {
            if (r == v1) throw new IllegalStateException("injected: the fold of v1 fails");
        };
        Classifier t = dc.update(v1);
        checkExact(t, v1, "v1 after its own fold failed: compiled from scratch");
        assertEquals(1, dc.counts()[3], "one restart");
        checkScratch(dc, v1, "v1");
        FlatRules v2 = ClassBenchGen.withOneRuleChanged(v1, 77, rnd, 1);
        checkExact(dc.update(v2), v2, "v2");
        checkScratch(dc, v2, "v2");
    }
}
