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
 * underlay ARP, anti-spoof, ARP/ND, route, encap). The input is a raw frame; the real
 * {@code ParseStage} runs first (it was a hand-written parser model before issue 17). Invariants: no exception, every
 * packet ends CONTINUE/TX/DROP, a drop has a reason, data and length stay inside the buffer
 * (headroom included). Under plain {@code mvn test} it replays the saved inputs in
 * src/test/resources/io/sluice/dataplane/overlay/VxlanDecapFuzzInputs/; fuzz with
 * {@code JAZZER_FUZZ=1 mvn -pl dataplane test -Dtest=VxlanDecapFuzz}.
 */
class VxlanDecapFuzz {
    private static final Arena ARENA = Arena.ofShared();
    private static final Buffers BUF = new Buffers(ARENA, 1);
    private static final Pipeline HOST1 = new Pipeline(compile(host1Model(NEXT_HOP_MAC)), 1, null, true);
    private static final Burst B = new Burst(1);

    @FuzzTest(maxDuration = "30s")
    void fuzzUplink(byte[] frame) {
        int len = Math.min(frame.length, Buffers.SLOT - Buffers.HEADROOM - 256);
        long d = BUF.frame(0);
        MemorySegment.copy(frame, 0, Mem.ALL, ValueLayout.JAVA_BYTE, d, len);
        B.reset(0, 0, d, len, UPLINK);
        B.count = 1;
        HOST1.run(B);
        checkEnd(HOST1, B, d);
    }

    /**
     * The invariants every overlay fuzz target checks on slot 0 of {@code b} after {@code host}
     * ran it (frame written at {@code d}): it ends CONTINUE, TX or DROP; a drop has a reason;
     * data and length stay inside the buffer (headroom included); nothing is delivered into
     * another network.
     */
    static void checkEnd(Pipeline host, Burst b, long d) {
        byte next = b.next[0];
        if (next != Next.CONTINUE && next != Next.TX && next != Next.DROP) {
            throw new IllegalStateException("next = " + next);
        }
        if (next == Next.DROP && b.dropReason[0] == 0) {
            throw new IllegalStateException("drop without a reason");
        }
        long lo = d - Buffers.HEADROOM;
        long hi = d + Buffers.SLOT - Buffers.HEADROOM;
        if (b.data[0] < lo || b.length[0] < 0 || b.data[0] + b.length[0] > hi) {
            throw new IllegalStateException("frame outside its buffer: " + (b.data[0] - d) + "+" + b.length[0]);
        }
        OverlaySnapshot s = host.state.current();
        if (host.meta.zone[0] != 0 && next == Next.TX && b.outPort[0] != UPLINK
                && s.vmZone[s.vmOfPort(b.outPort[0])] != host.meta.zone[0]) {
            throw new IllegalStateException("delivered into another network");
        }
    }
}
