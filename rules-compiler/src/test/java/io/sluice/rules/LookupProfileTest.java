package io.sluice.rules;

import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.table.Classifier;
import io.sluice.rules.table.LookupProfile;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The work profile counts what a lookup does. */
class LookupProfileTest {
    @Test
    void countsTreesEntriesAndChecks() {
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        b.add(new int[] {10, 20, 0, 80, 6}, new int[] {10, 20, 65535, 80, 6}, FlatRules.ALLOW, 0); // small src, small dst
        Classifier c = new CutTreeCompiler().compile(b.build());
        LookupProfile hit = LookupProfile.of(c, new int[] {10, 20, 5, 80, 6}, 1);
        assertEquals(1.0, hit.trees());
        assertEquals(0.0, hit.steps(), "one rule: the root is a leaf");
        assertEquals(1.0, hit.entries());
        assertEquals(5.0, hit.checks(), "a 5-dimension table's fixed entry checks every dimension, the wildcard sport too");
        LookupProfile miss = LookupProfile.of(c, new int[] {11, 20, 5, 80, 6}, 1);
        assertEquals(5.0, miss.checks(), "every check of the entry is evaluated");
        assertEquals(1.0, miss.entries());
        LookupProfile none = LookupProfile.of(c, new int[] {10, 20, 5, 81, 6, 10, 20, 5, 80, 6}, 2);
        assertEquals(1.0, none.entries(), "averaged over two keys");
    }
}
