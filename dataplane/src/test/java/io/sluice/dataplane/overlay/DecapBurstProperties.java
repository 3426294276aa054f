package io.sluice.dataplane.overlay;

import io.sluice.dataplane.pipeline.Burst;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;

import static io.sluice.dataplane.overlay.Fixtures.*;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * The decap stage remembers, within a burst, the last VNI's zone and the last (zone, VTEP)'s admission.
 * Property: a burst of VXLAN frames with mixed VNIs (known, unknown), source VTEPs (allowed, not allowed),
 * destinations and flags gets, slot by slot, exactly what each frame gets alone in a burst of one (where
 * nothing is remembered): fate, drop reason, zone, source VTEP, inner frame position and parser fields.
 */
class DecapBurstProperties {
    private static final Arena ARENA = Arena.ofShared();
    private static final Buffers BUF = new Buffers(ARENA, 33);
    private static final OverlaySnapshot HOST = compile(host1Model(NEXT_HOP_MAC));
    private static final int[] VNIS = {100, 200, 777};
    private static final int[] VTEPS = {HOST2, HOST3, ip("192.168.50.9")};
    private static int decapsulated, dropped;

    @AfterAll
    static void close() { ARENA.close(); }

    @Test
    void burstDecapEqualsOneByOne() {
        qt().withExamples(400).withShrinkCycles(100)
                .forAll(longs().all(), integers().between(1, 32))
                .checkAssert(DecapBurstProperties::check);
        assertTrue(decapsulated > 1000 && dropped > 1000, "both fates exercised: " + decapsulated + " decapsulated, " + dropped + " dropped");
    }

    private static void check(long seed, int count) {
        Random r = new Random(seed);
        Pipeline all = new Pipeline(HOST, 32);
        Burst b = new Burst(32);
        for (int i = 0; i < count; i++) {
            frame(b, i, BUF.frame(i), r);
        }
        b.count = count;
        new VxlanDecapStage(all.state, all.meta).process(b);
        Random again = new Random(seed);
        for (int i = 0; i < count; i++) {
            Pipeline one = new Pipeline(HOST, 1);
            Burst o = new Burst(1);
            long d = BUF.frame(32); // the same frame, rebuilt from the same seed
            frame(o, 0, d, again);
            o.count = 1;
            new VxlanDecapStage(one.state, one.meta).process(o);
            String at = "slot " + i + " of " + count + " (seed " + seed + ")";
            if (o.next[0] != b.next[i] || one.meta.reason[0] != all.meta.reason[i] || one.meta.zone[0] != all.meta.zone[i]
                    || one.meta.srcVtep[0] != all.meta.srcVtep[i] || o.data[0] - d != b.data[i] - BUF.frame(i)
                    || o.length[0] != b.length[i] || o.flags[0] != b.flags[i] || o.l4Offset[0] != b.l4Offset[i]
                    || o.etherType[0] != b.etherType[i]) {
                throw new AssertionError(at + ": in the burst next " + b.next[i] + " reason " + all.reason(i) + " zone " + all.meta.zone[i]
                        + ", alone next " + o.next[0] + " reason " + one.reason(0) + " zone " + one.meta.zone[0]);
            }
            if (all.meta.zone[i] != 0) decapsulated++; else dropped++;
        }
    }

    /** A VXLAN frame from a random VTEP with a random VNI (mostly to us, mostly with the I flag) at d, slot i parsed as outer. */
    private static void frame(Burst b, int i, long d, Random r) {
        int vni = VNIS[r.nextInt(VNIS.length)];
        int src = VTEPS[r.nextInt(VTEPS.length)];
        int dst = r.nextInt(10) == 0 ? HOST3 : HOST1;
        int payload = r.nextInt(40);
        int inner = udp4(b, i, d + 50, 1, B1_MAC, B4_MAC, B4_IP, B1_IP, 64, payload);
        OuterHeaders.writePlain(d, UNDERLAY_MAC1, UNDERLAY_MAC2, src, dst, vni, inner, 49152 + r.nextInt(16384));
        if (r.nextInt(12) == 0) io.sluice.dataplane.packet.Mem.put8(d + 42, 0); // no I flag
        parsedOuter(b, i, d, inner + 50);
    }
}
