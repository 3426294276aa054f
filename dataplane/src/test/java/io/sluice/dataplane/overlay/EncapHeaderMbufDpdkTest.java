package io.sluice.dataplane.overlay;

import io.sluice.dataplane.ffi.Eal;
import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.sluice.dataplane.overlay.Fixtures.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * VXLAN encapsulation of a frame whose mbuf has no room in front of it (DPDK mempool, own JVM,
 * unique --file-prefix): the 50 outer bytes go into a fresh mbuf chained before the frame's, the
 * chain reads as outer headers + the inner frame, and with 50 bytes of headroom nothing is chained.
 */
class EncapHeaderMbufDpdkTest {
    static long pool;

    @BeforeAll
    static void eal() {
        List<String> argv = new ArrayList<>(List.of("sluice"));
        argv.addAll(Eal.noHugeArgs("0", 1024, Eal.uniquePrefix("slt-encaphdr")));
        Eal.init(argv);
        pool = Shim.pktmbufPoolCreate("encaphdr", 1023, 0, 2048 + 128, -1);
    }

    @AfterAll
    static void done() {
        Shim.mempoolFree(pool);
        Eal.cleanup();
    }

    static long alloc() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8);
            assertEquals(0, Shim.mbufAllocBulk(MemorySegment.ofAddress(pool), p, 1));
            return p.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    static void free(long m) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8);
            p.set(ValueLayout.JAVA_LONG, 0, m);
            Shim.mbufFreeBulk(p, 1);
        }
    }

    static byte[] read(long addr, int n) {
        byte[] out = new byte[n];
        MemorySegment.copy(Mem.ALL, ValueLayout.JAVA_BYTE, addr, out, 0, n);
        return out;
    }

    /** Encapsulates a 300-byte UDP frame placed {@code headroom} bytes into its mbuf's buffer; returns the burst. */
    static Burst encap(int headroom, long m) {
        Pipeline host1 = new Pipeline(compile(host1Model(NEXT_HOP_MAC)), 8);
        long buf = Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, m + Mbuf.BUF_ADDR);
        long d = buf + headroom;
        Burst b = new Burst(8);
        int len = udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 258);
        Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.DATA_OFF, (short) headroom);
        Mbuf.setLength(m, len);
        b.mbuf[0] = m;
        b.count = 1;
        host1.run(b);
        return b;
    }

    @Test
    void noHeadroomChainsAHeaderMbuf() {
        long m = alloc();
        long d = Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, m + Mbuf.BUF_ADDR) + 10;
        byte[] inner = null;
        Burst b = encap(10, m);
        inner = read(d, 300);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(UPLINK, b.outPort[0]);
        long h = b.mbuf[0];
        assertNotEquals(m, h, "a header mbuf");
        assertEquals(m, Mbuf.next(h), "chained before the frame's mbuf");
        assertEquals(2, Mbuf.nbSegs(h));
        assertEquals(350, b.length[0]);
        assertEquals(300, b.tailLen[0], "the inner frame is the tail");
        assertEquals(50, b.headLen(0));
        assertEquals(Mbuf.data(h), b.data[0]);
        assertEquals(d, Mbuf.data(m), "the frame's mbuf describes the inner frame");
        assertEquals(300, Mbuf.dataLen(m));
        assertEquals(0x0800, Mem.u16(b.data[0] + 12));
        assertEquals(4789, Mem.u16(b.data[0] + 36));
        assertEquals(300 + 36, Mem.u16(b.data[0] + 16), "outer IPv4 total length");
        assertArrayEquals(inner, read(Mbuf.data(m), 300), "inner frame untouched");
        free(h); // the whole chain
        assertEquals(0, Shim.mempoolInUse(pool));
    }

    @Test
    void enoughHeadroomPrependsInPlace() {
        long m = alloc();
        Burst b = encap(50, m);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(m, b.mbuf[0], "no header mbuf");
        assertEquals(0, b.tailLen[0]);
        assertEquals(Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, m + Mbuf.BUF_ADDR), b.data[0], "the outer headers fill the headroom");
        free(m);
        assertEquals(0, Shim.mempoolInUse(pool));
    }
}
