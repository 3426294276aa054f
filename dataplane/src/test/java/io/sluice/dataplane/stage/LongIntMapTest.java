package io.sluice.dataplane.stage;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/** The hash map against its linear twin on random tables (QuickTheories shrinks a failure). */
class LongIntMapTest {
    private static LongIntMap build(List<Long> keys) {
        Map<Long, Integer> m = new LinkedHashMap<>();
        for (Long k : keys) {
            m.putIfAbsent(k, (int) (k & 0x7FFF));
        }
        long[] ks = new long[m.size()];
        int[] vs = new int[m.size()];
        int e = 0;
        for (Map.Entry<Long, Integer> x : m.entrySet()) {
            ks[e] = x.getKey();
            vs[e++] = x.getValue();
        }
        return new LongIntMap(ks, vs);
    }

    @Test
    void agreesWithTheLinearScanOnRandomTables() {
        qt().withExamples(500)
                .forAll(lists().of(longs().between(-40, 40)).ofSizeBetween(0, 60), longs().between(-50, 50))
                .checkAssert((keys, probe) -> {
                    LongIntMap m = build(keys);
                    assertEquals(m.getLinear(probe), m.get(probe));
                    for (Long k : keys) {
                        assertEquals(m.getLinear(k), m.get(k));
                    }
                });
        qt().withExamples(200)
                .forAll(lists().of(longs().all()).ofSizeBetween(0, 300), integers().between(0, 299))
                .checkAssert((keys, idx) -> {
                    LongIntMap m = build(keys);
                    long probe = keys.isEmpty() ? 7 : keys.get(idx % keys.size());
                    assertEquals(m.getLinear(probe), m.get(probe));
                    assertEquals(m.getLinear(probe ^ 1), m.get(probe ^ 1));
                });
    }

    @Test
    void rejectsNegativeValuesAndConflictingDuplicates() {
        assertThrows(IllegalArgumentException.class, () -> new LongIntMap(new long[] {1}, new int[] {-1}));
        assertThrows(IllegalArgumentException.class, () -> new LongIntMap(new long[] {1, 1}, new int[] {1, 2}));
        assertThrows(IllegalArgumentException.class, () -> new LongIntMap(new long[] {1}, new int[] {}));
        assertEquals(3, new LongIntMap(new long[] {1, 1}, new int[] {3, 3}).get(1));
        assertEquals(LongIntMap.MISSING, new LongIntMap(new long[0], new int[0]).get(0));
    }
}
