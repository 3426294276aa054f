package io.sluice.dataplane.agent;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * {@link PortSet} (what the workers poll and send on, replaced whole by hot-plug) held equal to a
 * plain reference on random plug/unplug sequences: per port index the ethdev id or none, per worker
 * the list of (port, queue) it polls in order; each change is one generation later, and the set a
 * change starts from is never modified (a worker may still be using it).
 */
class PortSetProperties {
    /** The reference: a list per worker of {port, queue}, and the ids. */
    record Ref(int[] ids, List<List<int[]>> rx) {}

    @Test
    void plugAndUnplugMatchTheReference() {
        qt().withExamples(500).withShrinkCycles(100)
                .forAll(longs().all(), integers().between(1, 4), integers().between(1, 6))
                .checkAssert(PortSetProperties::run);
    }

    static void run(long seed, int workers, int slots) {
        Random r = new Random(seed);
        int fixed = 2;
        int n = fixed + slots;
        int[] ids = new int[n];
        java.util.Arrays.fill(ids, -1);
        ids[0] = 10;
        ids[1] = 11;
        List<List<int[]>> rx = new ArrayList<>();
        int[][] rp = new int[workers][];
        int[][] rq = new int[workers][];
        for (int w = 0; w < workers; w++) {
            rx.add(new ArrayList<>());
            rx.get(w).add(new int[] {w % fixed, w / fixed});
            rp[w] = new int[] {w % fixed};
            rq[w] = new int[] {w / fixed};
        }
        PortSet s = PortSet.of(ids, rp, rq);
        Ref ref = new Ref(ids.clone(), rx);
        check(s, ref, workers);
        for (int step = 0; step < 40; step++) {
            int idx = fixed + r.nextInt(slots);
            PortSet before = s;
            int[] beforeIds = s.portIds.clone();
            if (ref.ids[idx] < 0) {
                int id = 20 + r.nextInt(100);
                int w = r.nextInt(workers);
                s = s.plus(idx, id, w);
                ref.ids[idx] = id;
                ref.rx.get(w).add(new int[] {idx, 0});
            } else {
                if (r.nextBoolean()) {
                    int at = idx;
                    PortSet cur = s;
                    assertThrows(IllegalArgumentException.class, () -> cur.plus(at, 99, 0), "plugged twice");
                }
                s = s.minus(idx);
                ref.ids[idx] = -1;
                for (List<int[]> l : ref.rx) l.removeIf(q -> q[0] == idx);
            }
            assertEquals(before.generation + 1, s.generation);
            assertArrayEquals(beforeIds, before.portIds, "the old set changed");
            check(s, ref, workers);
        }
    }

    static void check(PortSet s, Ref ref, int workers) {
        assertArrayEquals(ref.ids, s.portIds);
        for (int w = 0; w < workers; w++) {
            List<int[]> l = ref.rx.get(w);
            assertEquals(l.size(), s.rxQueues(w));
            for (int q = 0; q < l.size(); q++) {
                assertEquals(l.get(q)[0], s.rxPort[w][q]);
                assertEquals(l.get(q)[1], s.rxQueue[w][q]);
                assertEquals(ref.ids[l.get(q)[0]], s.rxPortId[w][q]);
            }
            for (int p = 0; p < ref.ids.length; p++) {
                final int port = p;
                assertEquals(l.stream().anyMatch(x -> x[0] == port), s.polls(w, p));
            }
        }
    }
}
