package io.sluice.dataplane.firewall;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * {@link FragmentTable} against {@link ReferenceFragmentTable} (QuickTheories, shrinking the op
 * list on failure): random sequences of first fragments (passed or dropped by the rules), later
 * fragments (in and out of order, overlapping, last), time steps across the timeout and full
 * reclaim passes, over a pool of keys that differ in one field each, with tables of 1..6 entries
 * (so the table is full often and probe runs wrap). Every result and the size must agree.
 */
class FragmentTableProperties {
    static final long TIMEOUT = 1_000_000_000L;

    /** Keys that differ from each other in exactly one field (zone, family, addresses, proto, id). */
    static final long[][] KEYS = {
        // zone, family, srcHi, srcLo, dstHi, dstLo, proto, id
        {1, 4, 0, 0x0A4D0001L, 0, 0x0A4D000BL, 17, 7},
        {2, 4, 0, 0x0A4D0001L, 0, 0x0A4D000BL, 17, 7},
        {1, 4, 0, 0x0A4D0002L, 0, 0x0A4D000BL, 17, 7},
        {1, 4, 0, 0x0A4D0001L, 0, 0x0A4D000CL, 17, 7},
        {1, 4, 0, 0x0A4D0001L, 0, 0x0A4D000BL, 6, 7},
        {1, 4, 0, 0x0A4D0001L, 0, 0x0A4D000BL, 1, 7},
        {1, 4, 0, 0x0A4D0001L, 0, 0x0A4D000BL, 17, 8},
        {1, 4, 0, 0x0A4D0001L, 0, 0x0A4D000BL, 17, 0xFFFF},
        {1, 6, 0xfd00L << 48, 1, 0xfd00L << 48, 11, 17, 7},
        {1, 6, 0xfd00L << 48, 1, 0xfd00L << 48, 11, 17, 0x8000_0007L},
        {1, 6, 0xfd00L << 48, 2, 0xfd00L << 48, 11, 17, 7},
        {1, 6, 0xfd01L << 48, 1, 0xfd00L << 48, 11, 17, 7},
        {1, 6, 0xfd00L << 48, 1, 0xfd00L << 48, 11, 6, 7},
        {1, 6, 0xfd00L << 48, 1, 0xfd00L << 48, 11, 58, 7},
        {3, 6, 0xfd00L << 48, 1, 0xfd00L << 48, 11, 58, 7},
        {1, 4, 0, 0x0A4D0001L, 0, 0x0A4D000BL, 47, 7},       // GRE: no L4 header of ours
    };

    @Test
    void fastTableEqualsTheReference() {
        qt().withExamples(2000).withShrinkCycles(500)
                .forAll(integers().between(1, 6), longs().all(), lists().of(integers().all()).ofSizeBetween(1, 300))
                .checkAssert(FragmentTableProperties::run);
    }

    /** Runs the op list through both tables; throws (naming the op) at the first difference. */
    static void run(int maxEntries, long seed, List<Integer> ops) {
        FragmentTable fast = new FragmentTable(maxEntries, TIMEOUT, seed);
        ReferenceFragmentTable ref = new ReferenceFragmentTable(maxEntries, TIMEOUT);
        long now = Long.MAX_VALUE - 5 * TIMEOUT;   // crosses the nanoTime wrap on the way
        List<String> done = new ArrayList<>();
        for (int x : ops) {
            int kind = (x >>> 28) & 0xF;
            long[] k = KEYS[x & 15];
            int proto = (int) k[6];
            fast.key((int) k[0], (int) k[1], k[2], k[3], k[4], k[5], proto, (int) k[7]);
            ref.key((int) k[0], (int) k[1], k[2], k[3], k[4], k[5], proto, (int) k[7]);
            int a, b;
            String op;
            if (kind <= 5) {                                     // first fragment passed the rules
                int l4End = switch (proto) { case 6 -> (x >>> 4 & 1) == 0 ? 20 : 40; case 17, 1, 58 -> 8; default -> 0; };
                int len = 8 * (1 + (x >>> 5 & 15));
                op = "first(key " + (x & 15) + ", l4End " + l4End + ", len " + len + ")";
                a = fast.first(l4End, len, now);
                b = ref.first(l4End, len, now);
            } else if (kind == 6) {                              // first fragment dropped by the rules
                op = "forget(key " + (x & 15) + ")";
                fast.forget();
                ref.forget();
                a = b = 0;
            } else if (kind <= 12) {                             // later fragment
                int offset = 1 + (x >>> 4 & 15);
                int len = 8 * (1 + (x >>> 8 & 7));
                boolean last = (x >>> 11 & 3) == 0;
                op = "later(key " + (x & 15) + ", offset " + offset + ", len " + len + (last ? ", last)" : ")");
                a = fast.later(offset, len, last, now);
                b = ref.later(offset, len, last, now);
            } else if (kind <= 14) {                             // time passes: 0..1.275 s
                long dt = (x >>> 4 & 0xFF) * 5_000_000L;
                now += dt;
                op = "time +" + dt / 1_000_000 + " ms";
                a = b = 0;
            } else {                                             // one full reclaim pass
                op = "expire pass";
                a = fast.expire(now, fast.slots());
                b = ref.expireAll(now);
            }
            done.add(op);
            if (a != b || fast.size() != ref.size()) {
                throw new AssertionError("after " + done + ": fast " + a + " size " + fast.size()
                        + ", reference " + b + " size " + ref.size());
            }
        }
    }

    /** A pass made of small budgets reclaims exactly what one full pass does. */
    @Test
    void incrementalReclaimAddsUpToAFullPass() {
        qt().withExamples(300)
                .forAll(integers().between(1, 64), longs().all(), integers().between(1, 7))
                .checkAssert((maxEntries, seed, budget) -> {
                    FragmentTable fast = new FragmentTable(maxEntries, TIMEOUT, seed);
                    ReferenceFragmentTable ref = new ReferenceFragmentTable(maxEntries, TIMEOUT);
                    java.util.Random r = new java.util.Random(seed);
                    long now = 0;
                    for (int i = 0; i < maxEntries; i++) {
                        int id = r.nextInt(1 << 16);
                        fast.key(1, 4, 0, 1, 0, 2, 17, id);
                        ref.key(1, 4, 0, 1, 0, 2, 17, id);
                        long t = now + r.nextInt(2) * TIMEOUT / 2;     // half of them half a timeout later
                        assertEquals(ref.first(8, 16, t), fast.first(8, 16, t));
                    }
                    long at = now + TIMEOUT;                           // the earlier half expired
                    int deleted = 0;
                    for (int n = 0; n < fast.slots(); n += budget) deleted += fast.expire(at, budget);
                    assertEquals(ref.expireAll(at), deleted);
                    assertEquals(ref.size(), fast.size());
                });
    }
}
