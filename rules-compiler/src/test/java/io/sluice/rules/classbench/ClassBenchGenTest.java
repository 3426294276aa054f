package io.sluice.rules.classbench;

import io.sluice.rules.compile.FlatRules;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generator is deterministic per seed and gives each kind its published shape. */
class ClassBenchGenTest {
    @Test
    void sameSeedSameRulesOtherSeedOtherRules() {
        for (ClassBenchGen.Kind k : ClassBenchGen.Kind.values()) {
            FlatRules a = ClassBenchGen.rules(k, 1000, 5), b = ClassBenchGen.rules(k, 1000, 5), c = ClassBenchGen.rules(k, 1000, 6);
            assertEquals(1000, a.size());
            assertTrue(a.sameRules(b), k + ": same seed");
            assertFalse(a.sameRules(c), k + ": other seed");
            assertArrayEquals(ClassBenchGen.trace(a, 3, 9), ClassBenchGen.trace(b, 3, 9));
        }
    }

    /** Fraction of rules whose range in {@code d} is the whole dimension. */
    private static double wildcard(FlatRules r, int d) {
        long max = (1L << r.dimBits(d)) - 1;
        return (double) java.util.stream.IntStream.range(0, r.size()).filter(i -> r.lo(i, d) == 0 && Integer.toUnsignedLong(r.hi(i, d)) == max).count() / r.size();
    }

    @Test
    void kindsHaveTheirShape() {
        FlatRules acl = ClassBenchGen.rules(ClassBenchGen.Kind.ACL, 2000, 1);
        FlatRules fw = ClassBenchGen.rules(ClassBenchGen.Kind.FW, 2000, 1);
        FlatRules ipc = ClassBenchGen.rules(ClassBenchGen.Kind.IPC, 2000, 1);
        assertEquals(1.0, wildcard(acl, 2), "acl: source port always any");
        assertTrue(wildcard(acl, 0) < 0.05, "acl: specific sources, " + wildcard(acl, 0));
        assertTrue(wildcard(fw, 0) > 0.3, "fw: a third of sources are any, " + wildcard(fw, 0));
        assertTrue(wildcard(ipc, 4) > 0.25 && wildcard(ipc, 4) < 0.4, "ipc: a third any protocol, " + wildcard(ipc, 4));
        int[] t = ClassBenchGen.trace(acl, 2, 3);
        assertEquals(2000 * 2 * 5, t.length);
        for (int h = 0; h < t.length / 5; h++) {
            int r = h / 2;
            for (int d = 0; d < 5; d++) {
                long v = Integer.toUnsignedLong(t[h * 5 + d]);
                final int hh = h, dd = d;
                assertTrue(v >= Integer.toUnsignedLong(acl.lo(r, d)) && v <= Integer.toUnsignedLong(acl.hi(r, d)),
                        () -> "header " + hh + " dim " + dd + " outside its rule " + Arrays.toString(new int[] {acl.lo(r, dd), acl.hi(r, dd)}));
            }
        }
    }
}
