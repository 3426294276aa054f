package io.sluice.dataplane.agent;

import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker's bulk reset (Worker.resetMeta + mbuf/data/length) leaves a burst exactly as
 * {@link Burst#reset} would, field by field, from any prior state; and it covers every array
 * field of Burst, so a field added to Burst (and to reset) fails here until the worker fills it.
 */
class WorkerResetTest {
    static final Set<String> SET_BY_CALLER = Set.of("mbuf", "data", "length");
    static final Set<String> SET_BY_RESET_META = Set.of("inPort", "outPort", "next", "dropReason", "l3Offset",
            "l4Offset", "etherType", "vlan", "ipProto", "flags");

    @Test
    void bulkResetEqualsPerPacketReset() throws Exception {
        Random r = new Random(1);
        for (int round = 0; round < 200; round++) {
            int cap = 1 + r.nextInt(Burst.MAX_CAPACITY);
            Burst a = new Burst(cap);
            Burst b = new Burst(cap);
            scribble(a, r.nextLong());
            scribble(b, 0); // different garbage
            scribble(b, r.nextLong() ^ 0x55);
            int n = r.nextInt(cap + 1);
            int port = r.nextInt(8);
            long[] m = new long[n];
            long[] d = new long[n];
            int[] len = new int[n];
            for (int i = 0; i < n; i++) {
                m[i] = r.nextLong();
                d[i] = r.nextLong();
                len[i] = r.nextInt(9000);
                a.reset(i, m[i], d[i], len[i], port);
            }
            Worker.resetMeta(b, n, port);
            for (int i = 0; i < n; i++) {
                b.mbuf[i] = m[i];
                b.data[i] = d[i];
                b.length[i] = len[i];
            }
            for (Field f : arrayFields()) {
                Object x = f.get(a);
                Object y = f.get(b);
                for (int i = 0; i < n; i++) {
                    assertEquals(Array.get(x, i), Array.get(y, i), f.getName() + "[" + i + "] (n=" + n + ")");
                }
            }
        }
    }

    @Test
    void everyBurstArrayIsCovered() {
        for (Field f : arrayFields()) {
            assertTrue(SET_BY_CALLER.contains(f.getName()) || SET_BY_RESET_META.contains(f.getName()),
                    "Burst." + f.getName() + " is new: Worker.resetMeta must reset it like Burst.reset does");
        }
    }

    static java.util.List<Field> arrayFields() {
        java.util.List<Field> out = new java.util.ArrayList<>();
        for (Field f : Burst.class.getFields()) {
            if (f.getType().isArray() && !Modifier.isStatic(f.getModifiers())) {
                out.add(f);
            }
        }
        return out;
    }

    static void scribble(Burst b, long seed) throws Exception {
        Random r = new Random(seed);
        for (Field f : arrayFields()) {
            Object arr = f.get(b);
            for (int i = 0; i < Array.getLength(arr); i++) {
                switch (arr) {
                    case long[] l -> l[i] = r.nextLong();
                    case int[] l -> l[i] = r.nextInt();
                    case short[] l -> l[i] = (short) r.nextInt();
                    case byte[] l -> l[i] = (byte) r.nextInt();
                    default -> throw new AssertionError("unexpected array type in Burst." + f.getName());
                }
            }
        }
        b.drop(0, DropReason.TX_FULL);
    }
}
