package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.sluice.dataplane.overlay.Fixtures.*;

/**
 * Fuzzes everything that arrives on the uplink through all overlay stages of host 1 (decap,
 * underlay ARP, anti-spoof, ARP/ND, route, encap). The input is a raw frame; a minimal outer
 * parse sets the parser fields the way the real parser would. Invariants: no exception, every
 * packet ends CONTINUE/TX/DROP, a drop has a reason, data and length stay inside the buffer
 * (headroom included). Under plain {@code mvn test} it replays the saved inputs in
 * src/test/resources/io/sluice/dataplane/overlay/VxlanDecapFuzzInputs/; fuzz with
 * {@code JAZZER_FUZZ=1 mvn -pl dataplane test -Dtest=VxlanDecapFuzz}.
 */
class VxlanDecapFuzz {
    private static final Arena ARENA = Arena.ofShared();
    private static final Buffers BUF = new Buffers(ARENA, 1);
    private static final Pipeline HOST1 = new Pipeline(compile(host1Model(NEXT_HOP_MAC)), 1);
    private static final Burst B = new Burst(1);

    @FuzzTest(maxDuration = "30s")
    void fuzzUplink(byte[] frame) {
        int len = Math.min(frame.length, Buffers.SLOT - Buffers.HEADROOM - 256);
        long d = BUF.frame(0);
        MemorySegment.copy(frame, 0, Mem.ALL, ValueLayout.JAVA_BYTE, d, len);
        B.reset(0, 0, d, len, UPLINK);
        outerParse(B, d, len);
        B.count = 1;
        HOST1.run(B);
        byte next = B.next[0];
        if (next != Next.CONTINUE && next != Next.TX && next != Next.DROP) {
            throw new IllegalStateException("next = " + next);
        }
        if (next == Next.DROP && B.dropReason[0] == 0) {
            throw new IllegalStateException("drop without a reason");
        }
        long lo = d - Buffers.HEADROOM;
        long hi = d + Buffers.SLOT - Buffers.HEADROOM;
        if (B.data[0] < lo || B.length[0] < 0 || B.data[0] + B.length[0] > hi) {
            throw new IllegalStateException("frame outside its buffer: " + (B.data[0] - d) + "+" + B.length[0]);
        }
        if (HOST1.meta.zone[0] != 0 && next == Next.TX && B.outPort[0] != UPLINK
                && HOST1.state.current().vmZone[HOST1.state.current().vmOfPort(B.outPort[0])] != HOST1.meta.zone[0]) {
            throw new IllegalStateException("delivered into another network");
        }
    }

    /** What the parser sets for an outer frame (Ethernet, IPv4 with options, UDP, ARP). */
    static void outerParse(Burst b, long d, int len) {
        if (len < 14) {
            return;
        }
        int et = Mem.u16(d + 12);
        b.etherType[0] = (short) et;
        b.l3Offset[0] = 14;
        if (et == Net.ETHERTYPE_ARP && len >= 42) {
            b.flags[0] = PacketFlags.ARP;
        } else if (et == Net.ETHERTYPE_IPV4 && len >= 34) {
            int ihl = (Mem.u8(d + 14) & 0xF) * 4;
            int total = Mem.u16(d + 16);
            if ((Mem.u8(d + 14) >>> 4) != 4 || ihl < 20 || total < ihl || 14 + total > len) {
                return;
            }
            int flags = PacketFlags.IPV4;
            if ((Mem.u16(d + 20) & 0x3FFF) != 0) {
                flags |= PacketFlags.FRAGMENT;
            }
            int proto = Mem.u8(d + 23);
            b.ipProto[0] = (short) proto;
            if (proto == 17 && total - ihl >= 8 && (Mem.u16(d + 20) & 0x1FFF) == 0) {
                int ulen = Mem.u16(d + 14 + ihl + 4);
                if (ulen >= 8 && ulen <= total - ihl) {
                    flags |= PacketFlags.UDP;
                    b.l4Offset[0] = (short) (14 + ihl);
                }
            }
            b.flags[0] = flags;
        }
    }
}
