package io.sluice.rules;

import io.sluice.rules.table.Classifier;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

/**
 * A node stores only the children between its first and last non-empty one: every slot still
 * reads back as the child it was given, by slot and by every key of the slot's region (the
 * left-out ends as the empty leaf), the node takes
 * exactly the ints {@code nodeInts} says, and a stub steps to itself whatever the slot.
 */
class NodeEncodingProperties {
    private static final int EMPTY = (77 << 4) | Integer.MIN_VALUE;
    private static final int SENTINEL = 0x5EED5EED;

    /** Children of a node of 2^k slots: runs of the empty leaf (share {@code emptyPct}) and references. */
    private static int[] kids(int k, long seed, int emptyPct) {
        Random r = new Random(seed);
        int[] kids = new int[1 << k];
        for (int c = 0; c < kids.length; c++) {
            if (c > 0 && r.nextInt(4) != 0) kids[c] = kids[c - 1]; // runs, as cuts make them
            else kids[c] = r.nextInt(100) < emptyPct ? EMPTY : r.nextBoolean() ? (r.nextInt(1 << 20) << 4) | r.nextInt(11) : (r.nextInt(1 << 20) << 4) | Integer.MIN_VALUE;
        }
        return kids;
    }

    @Test
    void everySlotReadsBackAndTheNodeTakesWhatItSays() {
        qt().withExamples(5_000).forAll(integers().between(0, 12), integers().all(), integers().between(0, 100), integers().between(0, 40))
                .checkAssert((k, seed, emptyPct, at) -> {
                    int[] kids = kids(k, seed, emptyPct);
                    Random r = new Random(~seed);
                    int shift = r.nextInt(Math.min(31, 32 - k) + 1); // the node cuts a region of 2^(shift + k) values, aligned
                    long regionLo = shift + k == 32 ? 0 : (r.nextLong() & 0xFFFFFFFFL) >>> (shift + k) << (shift + k);
                    for (int emptyRef : new int[] {EMPTY, 0}) { // 0: the tree has no empty leaf, nothing is left out
                        int len = Classifier.nodeInts(kids, emptyRef);
                        int[] a = new int[at + len + 8];
                        Arrays.fill(a, SENTINEL);
                        Classifier.encodeNode(a, at, shift, kids, emptyRef, regionLo);
                        for (int i = 0; i < at; i++) assertEquals(SENTINEL, a[i], "wrote before the node");
                        for (int i = at + len; i < a.length; i++) assertEquals(SENTINEL, a[i], "wrote past nodeInts");
                        assertEquals(kids.length, Classifier.children(a[at]));
                        for (int i = 0; i < kids.length; i++) {
                            assertEquals(kids[i], Classifier.child(a, at, i), "slot " + i);
                            long first = regionLo + ((long) i << shift), last = first + (1L << shift) - 1; // the slot's keys
                            long mid = first + ((r.nextLong() & Long.MAX_VALUE) % (1L << shift));
                            for (long key : new long[] {first, mid, last}) assertEquals(kids[i], Classifier.step(a, at, (int) key), "slot " + i + " key " + key);
                        }
                        int lo = 0, hi = kids.length - 1;
                        while (emptyRef != 0 && lo <= hi && kids[lo] == EMPTY) lo++;
                        while (emptyRef != 0 && hi >= lo && kids[hi] == EMPTY) hi--;
                        int stored = kids.length == 1 ? 0 : hi - lo + 1; // a one-child node keeps its child in the empty slot
                        assertEquals(Classifier.NODE_HEADER + stored, len, "only the non-empty span is stored");
                    }
                });
    }

    @Test
    void aSparseNodeStoresOnlyItsNonEmptySpan() {
        int[] kids = new int[1 << 16];
        Arrays.fill(kids, EMPTY);
        kids[40_000] = 5 << 4;
        kids[40_001] = EMPTY;
        kids[40_002] = (6 << 4) | Integer.MIN_VALUE;
        assertEquals(Classifier.NODE_HEADER + 3, Classifier.nodeInts(kids, EMPTY));
        assertEquals(Classifier.NODE_HEADER + kids.length, Classifier.nodeInts(kids, 0)); // without an empty leaf nothing is left out
    }

    @Test
    void aStubStepsToItselfForEveryKey() {
        qt().withExamples(2_000).forAll(integers().between(0, 1 << 16), integers().between(0, 1 << 26), integers().all())
                .checkAssert((at, leaf, key) -> {
                    int[] a = new int[at + Classifier.STUB_INTS];
                    int ref = Classifier.encodeStub(a, at, leaf);
                    assertEquals(at, (ref & Integer.MAX_VALUE) >>> 4);
                    assertEquals(leaf, a[at + Classifier.STUB_LEAF]);
                    assertEquals(ref, Classifier.step(a, at, key), "any key steps a stub to itself");
                    assertEquals(ref, Classifier.child(a, at, key & 0xFFFFFF), "any slot of a stub is the stub");
                });
    }
}
