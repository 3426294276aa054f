package io.sluice.rules;

import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.compile.IncrementalClassifier;
import io.sluice.rules.table.Classifier;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A 5-dimension table packs ports and protocol 16 bits each into its fixed leaf entries. */
class FixedEntryShapeTest {
    @Test
    void fiveDimensionsWithAWidePortAreRefused() {
        FlatRules.Builder b = FlatRules.builder(new int[] {32, 32, 32, 16, 8}, FlatRules.v4PartitionDims());
        b.add(new int[] {0, 0, 70_000, 0, 0}, new int[] {-1, -1, 70_001, 65535, 255}, FlatRules.ALLOW, 0);
        FlatRules rules = b.build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CutTreeCompiler().compile(rules));
        assertTrue(e.getMessage().contains("dimension 2 is 32 bits wide"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new IncrementalClassifier(new CutTreeCompiler(), rules));
    }

    @Test
    void packedRangesAtTheEdgesOfSixteenBits() {
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        b.add(new int[] {0, 0, 65535, 0, 255}, new int[] {-1, -1, 65535, 65535, 255}, FlatRules.ALLOW, 0); // sport 65535, proto 255
        b.add(new int[] {0, 0, 0, 1, 0}, new int[] {-1, -1, 0, 65534, 0}, FlatRules.DENY, 1); // sport 0, dport 1..65534, proto 0
        Classifier c = new CutTreeCompiler().compile(b.build());
        assertEquals(0, c.classifyV4(1, 2, 65535, 7, 255));
        assertEquals(Classifier.NO_MATCH, c.classifyV4(1, 2, 65536, 7, 255), "a key beyond 16 bits matches no 16-bit range");
        assertEquals(Classifier.NO_MATCH, c.classifyV4(1, 2, 65535, 7, 254));
        assertEquals(1, c.classifyV4(1, 2, 0, 65534, 0));
        assertEquals(Classifier.NO_MATCH, c.classifyV4(1, 2, 0, 65535, 0));
        assertEquals(Classifier.NO_MATCH, c.classifyV4(1, 2, 0, 0, 0));
        assertEquals(Classifier.NO_MATCH, c.classifyV4(1, 2, -1, 1, 0), "a negative key is a large unsigned value");
    }
}
