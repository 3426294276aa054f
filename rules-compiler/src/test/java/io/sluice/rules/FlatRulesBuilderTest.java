package io.sluice.rules;

import io.sluice.rules.compile.FlatRules;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FlatRules.Builder#build}: a builder filled to exactly the room it was given hands its
 * arrays to the list (no copy), so it must refuse to change them afterwards; any other builder
 * copies and goes on.
 */
class FlatRulesBuilderTest {
    private static final int[] LO = {1, 2, 3, 4, 6}, HI = {10, 20, 30, 40, 6};

    @Test
    void anExactlyFilledBuilderTakesNoMoreRulesAfterBuild() {
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims(), 2);
        b.add(LO, HI, FlatRules.ALLOW, 0).add(LO, HI, FlatRules.DENY, 1);
        FlatRules r = b.build();
        assertEquals(2, r.size());
        assertEquals(FlatRules.DENY, r.action(1));
        assertEquals(30, r.hi(0, 2));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.add(LO, HI, FlatRules.ALLOW, 2));
        assertTrue(e.getMessage().contains("handed its arrays"), e.getMessage());
        assertThrows(IllegalStateException.class, b::build);
        assertEquals(1, r.id(1), "the list keeps what it was given");
    }

    @Test
    void aBuilderWithRoomLeftCopiesAndGoesOn() {
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims(), 4);
        b.add(LO, HI, FlatRules.ALLOW, 0);
        FlatRules first = b.build();
        b.add(LO, HI, FlatRules.DENY, 1);
        FlatRules second = b.build();
        assertEquals(1, first.size());
        assertEquals(2, second.size());
        assertTrue(first.sameRules(FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims()).add(LO, HI, FlatRules.ALLOW, 0).build()));
    }
}
