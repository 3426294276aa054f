package io.sluice.rules;

import io.sluice.rules.classbench.ClassBenchGen;
import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.DeferredClassifier;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.reference.LinearClassifier;
import io.sluice.rules.table.Classifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.intArrays;
import static org.quicktheories.generators.SourceDSL.integers;

/**
 * Deferred tree updates: the table {@link DeferredClassifier#update} publishes answers for the new
 * list exactly (the linear oracle), whatever the folds have done so far (trees of an older list
 * with the changed rules beside them, or the plain trees); once settled, the trees are the compile
 * from scratch (same trees, byte-identical laid out again).
 */
@Timeout(600)
class DeferredClassifierTest {
    /** Runs folds on a real thread, or holds them back while paused (the overlay then spans several edits). */
    private static final class PausableFolder implements Executor {
        final ExecutorService real = DeferredClassifier.folderThread("test-fold");
        final List<Runnable> held = new ArrayList<>();
        boolean paused;

        @Override
        public synchronized void execute(Runnable r) {
            if (paused) held.add(r);
            else real.execute(r);
        }

        synchronized void pause(boolean p) {
            paused = p;
            if (!p) {
                held.forEach(real::execute);
                held.clear();
            }
        }
    }

    private static void checkExact(Classifier t, FlatRules rules, int[] keys, String what) {
        LinearClassifier oracle = new LinearClassifier(rules);
        int n = keys.length / 5;
        int[] out = new int[n];
        t.classifyBurst(keys, 0, n, out);
        for (int i = 0; i < n; i++) {
            int o = i * 5;
            int want = oracle.firstMatch(keys, o);
            if (out[i] != want) throw new AssertionError(what + ": key " + i + " burst " + out[i] + ", oracle " + want);
            int v4 = t.classifyV4(keys[o], keys[o + 1], keys[o + 2], keys[o + 3], keys[o + 4]);
            if (v4 != want) throw new AssertionError(what + ": key " + i + " classifyV4 " + v4 + ", oracle " + want);
            if (t.classify(keys, o) != want) throw new AssertionError(what + ": key " + i + " classify");
            if (want >= 0 && (t.ruleId(want) != rules.id(want) || t.allows(want) != (rules.action(want) == FlatRules.ALLOW))) {
                throw new AssertionError(what + ": key " + i + " action or id of rule " + want);
            }
        }
    }

    private static void checkSettled(DeferredClassifier dc, CutTreeCompiler cc, FlatRules rules, String what) {
        Classifier t = dc.settle();
        assertNull(t.overlay(), what + ": settled table checks no overlay");
        Classifier scratch = cc.compile(rules);
        assertTrue(t.sameTrees(scratch), what + ": settled, the same trees as a compile from scratch");
        assertTrue(dc.compacted().sameStructure(scratch), what + ": laid out again, byte-identical to a compile from scratch");
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** One random edit: boxes (one or two rules), insert, remove, an action flip, or (rarely) two removals (not described: waits). */
    private static FlatRules edit(FlatRules r, SplittableRandom rnd, int[] kindOut) {
        int kind = rnd.nextInt(20);
        kindOut[0] = kind;
        int n = r.size();
        int[] lo = new int[5], hi = new int[5];
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        if (kind < 8 && n > 0) {
            FlatRules x = ClassBenchGen.withOneRuleChanged(r, rnd.nextInt(n), rnd);
            return kind < 6 ? x : ClassBenchGen.withOneRuleChanged(x, rnd.nextInt(n), rnd);
        }
        int at = rnd.nextInt(n + 1), at2 = n > 1 ? rnd.nextInt(n) : -1;
        for (int i = 0; i <= n; i++) {
            if (i == at && kind < 13) { // insert a copy of a random rule with a new destination port
                int src = n == 0 ? -1 : rnd.nextInt(n);
                for (int d = 0; d < 5; d++) { lo[d] = src < 0 ? 0 : r.lo(src, d); hi[d] = src < 0 ? -1 : r.hi(src, d); }
                if (src < 0) { hi[2] = hi[3] = 65535; hi[4] = 255; }
                int p = rnd.nextInt(65536);
                lo[3] = hi[3] = p;
                b.add(lo, hi, (byte) rnd.nextInt(2), 5000 + rnd.nextInt(1000));
            }
            if (i == n) break;
            if (kind >= 13 && kind < 18 && i == Math.min(at, n - 1)) continue; // remove
            if (kind == 19 && (i == Math.min(at, n - 1) || i == at2)) continue; // remove two: not one described edit
            for (int d = 0; d < 5; d++) { lo[d] = r.lo(i, d); hi[d] = r.hi(i, d); }
            byte act = r.action(i);
            if (kind == 18 && i == Math.min(at, n - 1)) act = (byte) (1 - act);
            b.add(lo, hi, act, r.id(i));
        }
        return b.build();
    }

    private static void randomSequence(int[] rc, int[] ec, int knob) {
        int k = Math.floorMod(knob, 4);
        CutTreeCompiler cc = new CutTreeCompiler(new CutTreeCompiler.Params(1 + k, 2.0 + k, 1 + k * 3, k == 3 ? -1 : 4 + 4 * k));
        FlatRules rules = RuleGen.rules(rc, FlatRules.v4Dims(), FlatRules.v4PartitionDims(), new byte[] {1, 0});
        PausableFolder folder = new PausableFolder();
        try {
            DeferredClassifier dc = new DeferredClassifier(cc, rules, folder, null);
            SplittableRandom rnd = new SplittableRandom(ec[0]);
            int[] kind = new int[1];
            for (int e = 0; e < ec.length; e++) {
                FlatRules next = edit(rules, rnd, kind);
                folder.pause(kind[0] != 19 && rnd.nextInt(3) != 0); // a barrier (two removals) must be able to fold
                Classifier t = dc.update(next);
                int[] keys = concat(RuleGen.keys(rules, ec, 24), RuleGen.keys(next, ec, 24)); // corners of the old boxes and the new
                checkExact(t, next, keys, "edit " + e + " kind " + kind[0] + " (overlay " + (t.overlay() != null) + ")");
                rules = next;
                if (rnd.nextInt(4) == 0) folder.pause(false);
            }
            folder.pause(false);
            checkSettled(dc, cc, rules, "after " + ec.length + " edits");
            checkExact(dc.table(), rules, RuleGen.keys(rules, ec, 32), "settled");
        } finally {
            folder.real.shutdownNow();
        }
    }

    /** Random small lists, random edit sequences (boxes, inserts, removes, actions), folds held back at random: always exact, settled equals scratch. */
    @Test
    void randomEditSequencesAreExactAtEveryStepAndSettleToScratch() {
        qt().withExamples(400).forAll(intArrays(integers().between(10, 400), integers().between(0, 1 << 20)),
                        intArrays(integers().between(1, 25), integers().between(0, 1 << 20)), integers().between(0, 3))
                .checkAssert(DeferredClassifierTest::randomSequence);
    }

    /** A 10k-rule list: one-rule changes, inserts and removals take effect at once (overlay tables), exact on the trace; settled, the compile from scratch. */
    @Test
    void tenThousandRulesChangesTakeEffectBeforeTheTreesAreRebuilt() {
        FlatRules rules = ClassBenchGen.rules(ClassBenchGen.Kind.FW, 10_000, 5);
        CutTreeCompiler cc = new CutTreeCompiler();
        PausableFolder folder = new PausableFolder();
        List<Classifier> published = new ArrayList<>();
        try {
            DeferredClassifier dc = new DeferredClassifier(cc, rules, folder, x -> { synchronized (published) { published.add(x); } });
            SplittableRandom rnd = new SplittableRandom(23);
            int overlays = 0;
            int[] kind = new int[1];
            for (int u = 0; u < 24; u++) {
                kind[0] = -1;
                FlatRules next = u % 4 == 3 ? edit(rules, rnd, kind) : ClassBenchGen.withOneRuleChanged(rules, rnd.nextInt(rules.size()), rnd);
                folder.pause(u % 8 < 5 && kind[0] != 19);
                Classifier t = dc.update(next);
                if (t.overlay() != null) overlays++;
                boolean seen = false;
                synchronized (published) { for (Classifier x : published) seen |= x == t; }
                assertTrue(seen, "update returns a table it published (the folds may have published a newer one since)");
                int[] keys = java.util.Arrays.copyOf(ClassBenchGen.trace(next, 1, u), 5 * 1_500);
                checkExact(t, next, concat(keys, java.util.Arrays.copyOf(ClassBenchGen.trace(rules, 1, u + 100), 5 * 500)), "update " + u);
                rules = next;
                if (u % 8 == 5) folder.pause(false);
            }
            folder.pause(false);
            assertTrue(overlays >= 12, "changes took effect through overlays: " + overlays + " of 24");
            checkSettled(dc, cc, rules, "fw1-like 10k");
            assertSame(dc.table(), published.get(published.size() - 1), "the plain table was published last");
            long[] c = dc.counts();
            assertTrue(c[1] >= 1 && c[2] >= overlays, "folds " + c[1] + ", overlays published " + c[2]);
        } finally {
            folder.real.shutdownNow();
        }
    }

    /** The IPv6 value lookup checks the overlay too (11 dimensions). */
    @Test
    void ipv6ValueLookupSeesTheOverlay() {
        FlatRules.Builder b = FlatRules.builder(FlatRules.v6Dims(), FlatRules.v6PartitionDims());
        int[] lo = new int[11], hi = new int[11];
        for (int r = 0; r < 40; r++) {
            java.util.Arrays.fill(lo, 0);
            java.util.Arrays.fill(hi, -1);
            hi[8] = hi[9] = 65535;
            hi[10] = 255;
            lo[0] = hi[0] = 0x20010db8;
            lo[7] = hi[7] = r; // one host each
            lo[9] = hi[9] = 80 + r;
            b.add(lo, hi, FlatRules.ALLOW, r);
        }
        FlatRules rules = b.build();
        PausableFolder folder = new PausableFolder();
        try {
            folder.pause(true);
            DeferredClassifier dc = new DeferredClassifier(new CutTreeCompiler(), rules, folder, null);
            // rule 5 moves from port 85 to 443; a rule for host 77 port 22 is inserted first
            FlatRules.Builder nb = FlatRules.builder(FlatRules.v6Dims(), FlatRules.v6PartitionDims());
            java.util.Arrays.fill(lo, 0);
            java.util.Arrays.fill(hi, -1);
            hi[8] = 65535;
            hi[10] = 255;
            lo[0] = hi[0] = 0x20010db8;
            lo[7] = hi[7] = 77;
            lo[9] = hi[9] = 22;
            nb.add(lo, hi, FlatRules.DENY, 999);
            for (int r = 0; r < 40; r++) {
                int[] l = new int[11], h = new int[11];
                for (int d = 0; d < 11; d++) { l[d] = rules.lo(r, d); h[d] = rules.hi(r, d); }
                if (r == 5) l[9] = h[9] = 443;
                nb.add(l, h, FlatRules.ALLOW, r);
            }
            FlatRules next = nb.build();
            FlatRules.Builder ib = FlatRules.builder(FlatRules.v6Dims(), FlatRules.v6PartitionDims());
            ib.add(lo, hi, FlatRules.DENY, 999);
            for (int r = 0; r < 40; r++) {
                int[] l = new int[11], h = new int[11];
                for (int d = 0; d < 11; d++) { l[d] = rules.lo(r, d); h[d] = rules.hi(r, d); }
                ib.add(l, h, FlatRules.ALLOW, r);
            }
            dc.update(ib.build()); // two described edits, folds held back: the overlay answers
            dc.update(next);
            Classifier t = dc.table();
            assertNotNull(t.overlay(), "the trees were not rebuilt yet");
            long hiA = 0x20010db8L << 32;
            assertEquals(6, t.classifyV6(hiA, 0, 0, 5, 1000, 443, 6), "rule 5 at its new port (position 6 after the insert)");
            assertEquals(Classifier.NO_MATCH, t.classifyV6(hiA, 0, 0, 5, 1000, 85, 6), "rule 5 no longer at its old port");
            assertEquals(0, t.classifyV6(hiA, 0, 0, 77, 1000, 22, 6), "the inserted rule");
            assertEquals(8, t.classifyV6(hiA, 0, 0, 7, 1000, 87, 6), "an unchanged rule at its new position");
            folder.pause(false);
            Classifier s = dc.settle();
            assertNull(s.overlay());
            assertEquals(6, s.classifyV6(hiA, 0, 0, 5, 1000, 443, 6));
            assertEquals(Classifier.NO_MATCH, s.classifyV6(hiA, 0, 0, 5, 1000, 85, 6));
            assertTrue(s.sameTrees(new CutTreeCompiler().compile(next)));
        } finally {
            folder.real.shutdownNow();
        }
    }
}
