package io.sluice.dataplane.agent;

import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.packet.PacketSpec;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.stage.ParseStage;
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
    static final Set<String> SET_BY_CALLER = Set.of("mbuf", "data", "length", "tailLen", "offload");
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
                b.tailLen[i] = 0;
                b.offload[i] = 0;
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

    /**
     * With the parser first, rx resets only the fate fields (Worker.resetFate): after the parser
     * the burst equals what a full reset then the parser leave, from any stale state, on every
     * catalog frame, whole and cut at every length (accepted and dropped packets alike).
     */
    @Test
    void fateResetThenParserEqualsFullResetThenParser() throws Exception {
        java.util.List<byte[]> frames = new java.util.ArrayList<>();
        for (PacketSpec.Built f : PacketSpec.catalog()) {
            frames.add(f.bytes());
        }
        Random r = new Random(2);
        try (NativeFrames nf = new NativeFrames()) {
            long[] addr = new long[frames.size()];
            for (int f = 0; f < addr.length; f++) {
                addr[f] = nf.put(frames.get(f));
            }
            ParseStage parse = new ParseStage();
            for (int round = 0; round < 300; round++) {
                int cap = 1 + r.nextInt(64);
                Burst a = new Burst(cap);
                Burst b = new Burst(cap);
                scribble(a, r.nextLong());
                scribble(b, r.nextLong());
                int n = 1 + r.nextInt(cap);
                int port = r.nextInt(4);
                Worker.resetMeta(a, n, port);
                Worker.resetFate(b, n, port);
                for (int i = 0; i < n; i++) {
                    int f = r.nextInt(addr.length);
                    int len = r.nextInt(4) == 0 ? r.nextInt(frames.get(f).length + 1) : frames.get(f).length;
                    for (Burst x : new Burst[] {a, b}) {
                        x.mbuf[i] = i;
                        x.data[i] = addr[f];
                        x.length[i] = len;
                        x.tailLen[i] = 0;
                        x.offload[i] = 0;
                    }
                }
                a.count = n;
                b.count = n;
                assertEquals(parse.process(a), parse.process(b));
                for (Field fl : arrayFields()) {
                    Object x = fl.get(a);
                    Object y = fl.get(b);
                    for (int i = 0; i < n; i++) {
                        assertEquals(Array.get(x, i), Array.get(y, i), fl.getName() + "[" + i + "] (n=" + n + ")");
                    }
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
