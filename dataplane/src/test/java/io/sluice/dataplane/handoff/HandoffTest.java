package io.sluice.dataplane.handoff;

import io.sluice.dataplane.overlay.OverlayMeta;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-off mesh: a packet's burst slot and its overlay metadata arrive on the owner exactly as
 * they left (every field, negative values included), producers are drained round robin, a full
 * ring refuses, and nothing is visible before publish.
 */
class HandoffTest {
    static void randomSlot(Burst b, OverlayMeta m, int i, SplittableRandom r) {
        b.mbuf[i] = r.nextLong();
        b.data[i] = r.nextLong();
        b.length[i] = r.nextInt(0, 32768);
        b.inPort[i] = r.nextInt(0, 64);
        b.outPort[i] = r.nextInt(-1, 64);
        b.next[i] = r.nextBoolean() ? Next.TX : Next.CONTINUE;
        b.dropReason[i] = 0;
        b.l3Offset[i] = (short) r.nextInt(-1, 30);
        b.l4Offset[i] = (short) r.nextInt(-1, 200);
        b.etherType[i] = (short) r.nextInt(0, 65536);
        b.vlan[i] = (short) r.nextInt(-1, 4096);
        b.ipProto[i] = (short) r.nextInt(-1, 256);
        b.flags[i] = r.nextInt();
        b.tailLen[i] = r.nextInt(0, 70000);
        b.offload[i] = (byte) r.nextInt(0, 4);
        m.zone[i] = r.nextInt(0, 4096);
        m.srcVm[i] = r.nextInt(-1, 1000);
        m.srcVtep[i] = r.nextInt();
        m.encapVtep[i] = r.nextInt();
        m.reason[i] = 0;
    }

    static void assertSameSlot(Burst a, OverlayMeta ma, int i, Burst b, OverlayMeta mb, int j) {
        assertEquals(a.mbuf[i], b.mbuf[j]);
        assertEquals(a.data[i], b.data[j]);
        assertEquals(a.length[i], b.length[j]);
        assertEquals(a.inPort[i], b.inPort[j]);
        assertEquals(a.outPort[i], b.outPort[j]);
        assertEquals(a.next[i], b.next[j]);
        assertEquals(0, b.dropReason[j]);
        assertEquals(a.l3Offset[i], b.l3Offset[j]);
        assertEquals(a.l4Offset[i], b.l4Offset[j]);
        assertEquals(a.etherType[i], b.etherType[j]);
        assertEquals(a.vlan[i], b.vlan[j]);
        assertEquals(a.ipProto[i], b.ipProto[j]);
        assertEquals(a.flags[i], b.flags[j]);
        assertEquals(a.tailLen[i], b.tailLen[j]);
        assertEquals(a.offload[i], b.offload[j]);
        assertEquals(ma.zone[i], mb.zone[j]);
        assertEquals(ma.srcVm[i], mb.srcVm[j]);
        assertEquals(ma.srcVtep[i], mb.srcVtep[j]);
        assertEquals(ma.encapVtep[i], mb.encapVtep[j]);
    }

    @Test
    void everyBurstFieldAndTheOverlayMetaRoundTrip() {
        Handoff h = new Handoff(2, 64);
        SplittableRandom r = new SplittableRandom(5);
        Burst out = new Burst(32), in = new Burst(32);
        OverlayMeta mo = new OverlayMeta(32), mi = new OverlayMeta(32);
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 32; i++) {
                randomSlot(out, mo, i, r);
                assertTrue(h.push(0, 1, out, i, mo));
            }
            assertEquals(0, h.drain(1, in, mi), "nothing visible before publish");
            h.publish(0);
            assertEquals(32, h.drain(1, in, mi));
            assertEquals(32, in.count);
            for (int i = 0; i < 32; i++) assertSameSlot(out, mo, i, in, mi, i);
        }
    }

    /** A field added to Burst must be carried by the hand-off slot (and added to the round trip above). */
    @Test
    void theSlotCarriesEveryBurstArray() {
        java.util.List<String> arrays = new java.util.ArrayList<>();
        for (var f : Burst.class.getFields()) {
            if (f.getType().isArray()) arrays.add(f.getName());
        }
        java.util.Collections.sort(arrays);
        assertEquals(java.util.List.of("data", "dropReason", "etherType", "flags", "inPort", "ipProto", "l3Offset", "l4Offset",
                "length", "mbuf", "next", "offload", "outPort", "tailLen", "vlan"), arrays, "Burst's per-packet arrays changed: update Handoff.push/take");
    }

    @Test
    void fullRingRefusesAndTheOwnerDrainsProducersRoundRobin() {
        Handoff h = new Handoff(3, 4);
        Burst b = new Burst(8), d = new Burst(8);
        b.count = 8;
        for (int i = 0; i < 8; i++) b.reset(i, 100 + i, 1000 + i, 60, 0);
        for (int i = 0; i < 4; i++) assertTrue(h.push(0, 2, b, i, null));
        assertFalse(h.push(0, 2, b, 4, null), "ring (0, 2) of 4 is full");
        for (int i = 4; i < 8; i++) assertTrue(h.push(1, 2, b, i, null));
        h.publish(0);
        h.publish(1);
        Burst small = new Burst(4);
        int first = h.drain(2, small, null);
        assertEquals(4, first);
        long firstFrom = small.mbuf[0];
        assertEquals(4, h.drain(2, small, null));
        assertTrue(small.mbuf[0] != firstFrom, "the next drain starts with the other producer");
        assertEquals(0, h.drain(2, d, null));
        assertThrows(IllegalArgumentException.class, () -> new Handoff(1));
    }
}
