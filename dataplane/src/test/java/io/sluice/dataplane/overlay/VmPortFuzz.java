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
 * Fuzzes what a (possibly hostile) VM sends: any frame from red VM r1's port (port 4) through
 * the real {@code ParseStage} and all overlay stages of host 1. Invariants: no exception; every packet ends CONTINUE/TX/DROP
 * with a reason when dropped; data/length stay inside the buffer; and isolation — a frame from
 * a red VM is only ever sent to a red VM's port, back to itself (a reply), or encapsulated with
 * red's VNI to a VTEP hosting red VMs. Regression inputs in
 * src/test/resources/io/sluice/dataplane/overlay/VmPortFuzzInputs/.
 */
class VmPortFuzz {
    private static final Arena ARENA = Arena.ofShared();
    private static final Buffers BUF = new Buffers(ARENA, 1);
    private static final Pipeline HOST1 = new Pipeline(compile(host1Model(NEXT_HOP_MAC)), 1, null, true);
    private static final Burst B = new Burst(1);
    private static final int RED_PORT = 4;

    @FuzzTest(maxDuration = "30s")
    void fuzzVmPort(byte[] frame) {
        int len = Math.min(frame.length, Buffers.SLOT - Buffers.HEADROOM - 256);
        long d = BUF.frame(0);
        MemorySegment.copy(frame, 0, Mem.ALL, ValueLayout.JAVA_BYTE, d, len);
        B.reset(0, 0, d, len, RED_PORT);
        B.count = 1;
        HOST1.run(B);
        OverlaySnapshot s = HOST1.state.current();
        byte next = B.next[0];
        if (next != Next.CONTINUE && next != Next.TX && next != Next.DROP) {
            throw new IllegalStateException("next = " + next);
        }
        if (next == Next.DROP && B.dropReason[0] == 0) {
            throw new IllegalStateException("drop without a reason");
        }
        if (B.data[0] < d - Buffers.HEADROOM || B.length[0] < 0 || B.data[0] + B.length[0] > d + Buffers.SLOT - Buffers.HEADROOM) {
            throw new IllegalStateException("frame outside its buffer");
        }
        if (next == Next.TX) {
            int red = s.zoneOfVni(200);
            if (B.outPort[0] == UPLINK) {
                long o = B.data[0];
                int vni = (int) (Mem.u32(o + 46) >>> 8);
                if (vni != 200 || !s.vtepAllowed(red, Mem.i32(o + 30))) {
                    throw new IllegalStateException("red frame encapsulated with VNI " + vni);
                }
            } else if (B.outPort[0] != RED_PORT && s.vmZone[s.vmOfPort(B.outPort[0])] != red) {
                throw new IllegalStateException("red frame sent to port " + B.outPort[0]);
            }
        }
    }
}
