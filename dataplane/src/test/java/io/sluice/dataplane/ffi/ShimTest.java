package io.sluice.dataplane.ffi;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shim's ABI against real DPDK devices (net_null, net_ring): offsets, ports, bursts, no mbuf leaks. */
class ShimTest {
    static long pool;
    static int nul;
    static int ring;

    @BeforeAll
    static void eal() {
        List<String> argv = new ArrayList<>(List.of("shimtest"));
        argv.addAll(Eal.noHugeArgs("0", 1024, Eal.uniquePrefix("slt-shim")));
        argv.addAll(List.of("--vdev", "net_null0", "--vdev", "net_ring0"));
        Eal.init(argv);
        pool = Shim.pktmbufPoolCreate("shimtest", 4095, 64, 2048 + 128, -1);
        assertTrue(pool != 0, "pool: " + Shim.strerror(Shim.rteErrno()));
        nul = Shim.portByName("net_null0");
        ring = Shim.portByName("net_ring0");
        for (int p : new int[] {nul, ring}) {
            assertTrue(p >= 0);
            Dpdk.check(Shim.portConfigure(p, 1, 1, 256, 256, pool, null), "configure");
            Dpdk.check(Shim.portStart(p), "start");
        }
    }

    @AfterAll
    static void cleanup() {
        for (int p : new int[] {nul, ring}) {
            Shim.portStop(p);
            Shim.portClose(p);
        }
        Shim.mempoolFree(pool);
        Eal.cleanup();
    }

    @Test
    void offsetsAreThoseOfDpdk2211() {
        assertEquals(128, Mbuf.SIZE);
        assertEquals(0, Mbuf.BUF_ADDR);
        assertEquals(16, Mbuf.DATA_OFF);
        assertEquals(128, Mbuf.HEADROOM);
        assertTrue(Mbuf.DATA_LEN > Mbuf.PKT_LEN && Mbuf.DATA_LEN < 64, "data_len in the first cache line");
        assertEquals(56, Mbuf.POOL, "22.11 keeps pool in the first cache line");
        assertTrue(Mbuf.NEXT >= 64 && Mbuf.NEXT < 128, "next in the second cache line");
        assertEquals(72, Mbuf.TX_OFFLOAD, "tx_offload right after next");
        // the ol_flags bits of rte_mbuf_core.h (22.11)
        assertEquals((1L << 3) | (1L << 8), Mbuf.F_RX_L4_CKSUM_NONE);
        assertEquals(1L << 8, Mbuf.F_RX_L4_CKSUM_GOOD);
        assertEquals(1L << 16, Mbuf.F_RX_LRO);
        assertEquals(1L << 50, Mbuf.F_TX_TCP_SEG);
        assertEquals(1L << 52, Mbuf.F_TX_TCP_CKSUM);
        assertEquals(3L << 52, Mbuf.F_TX_UDP_CKSUM);
        assertEquals(1L << 55, Mbuf.F_TX_IPV4);
    }

    /** tso_segsz and the header lengths go where rte_mbuf_core.h's bitfield puts them (round trip through the accessors). */
    @Test
    void txOffloadBitfield() {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            long m = a.allocate(Mbuf.SIZE, 64).address();
            Mbuf.setTxOffload(m, 14, 20, 32, 1448);
            assertEquals(1448, Mbuf.tsoSegsz(m));
            long v = io.sluice.dataplane.packet.Mem.ALL.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, m + Mbuf.TX_OFFLOAD);
            assertEquals(Mbuf.TX_OFFLOAD_PROBE, v, "the C compiler's bitfield layout");
        }
    }

    @Test
    void eal_runs_once_per_process() {
        assertThrows(IllegalStateException.class, () -> Eal.init(List.of("again")));
        assertEquals(0, Shim.mainLcore());
        assertEquals(1, Shim.lcoreCount());
    }

    @Test
    void unknownPortIsNoDevice() {
        assertTrue(Shim.portByName("net_nope9") < 0);
        Dpdk.DpdkException e = assertThrows(Dpdk.DpdkException.class, () -> Dpdk.check(Shim.portStart(77), "start port 77"));
        assertTrue(e.getMessage().contains("start port 77"), e.getMessage());
    }

    @Test
    void portInfoAndMac() {
        PortInfo info = Shim.portInfo(nul);
        assertEquals("net_null", info.driver());
        assertTrue(info.maxRxQueues() >= 1);
        assertTrue(Shim.portMacSet(nul, 0x02_00_00_00_00_42L) >= 0, "net_null implements mac_addr_set");
        assertEquals(0x02_00_00_00_00_42L, Shim.portMac(nul));
        long[] link = Shim.portLink(nul, false);
        assertEquals(1, link[0], "net_null link is up once started");
    }

    @Test
    void rxBurstMetaMatchesJavaReadsAndNothingLeaks() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ptrs = a.allocate(8 * 32);
            MemorySegment data = a.allocate(8 * 32);
            MemorySegment len = a.allocate(4 * 32);
            int n = Shim.rxBurstMeta(nul, 0, ptrs, 32, data, len);
            assertEquals(32, n, "net_null always has a full burst");
            for (int i = 0; i < n; i++) {
                long m = ptrs.getAtIndex(ValueLayout.JAVA_LONG, i);
                assertEquals(Mbuf.data(m), data.getAtIndex(ValueLayout.JAVA_LONG, i));
                assertEquals(Mbuf.dataLen(m), len.getAtIndex(ValueLayout.JAVA_INT, i));
                assertEquals(64, Mbuf.dataLen(m), "net_null default size");
                assertEquals(64, Mbuf.pktLen(m));
                assertEquals(1, Mbuf.nbSegs(m));
                assertEquals(Mbuf.HEADROOM, Mbuf.data(m) - io.sluice.dataplane.packet.Mem.ptr(m + Mbuf.BUF_ADDR));
            }
            assertTrue(Shim.mempoolInUse(pool) >= 32);
            // loop them through the ring: tx on net_ring0 comes back on its rx
            int sent = Shim.txBurst(ring, 0, ptrs, n);
            assertEquals(n, sent);
            MemorySegment back = a.allocate(8 * 32);
            int got = Shim.rxBurst(ring, 0, back, 32);
            assertEquals(n, got);
            for (int i = 0; i < n; i++) {
                assertEquals(ptrs.getAtIndex(ValueLayout.JAVA_LONG, i), back.getAtIndex(ValueLayout.JAVA_LONG, i));
            }
            Shim.mbufFreeBulk(back, got);
            assertEquals(0, Shim.mempoolInUse(pool), "every mbuf back in the pool");

            // tx_burst_free to net_null takes everything (and frees)
            n = Shim.rxBurst(nul, 0, ptrs, 32);
            assertEquals(n, Shim.txBurstFree(nul, 0, ptrs, n));
            assertEquals(0, Shim.mempoolInUse(pool));
        }
    }

    @Test
    void allocBulkIsAllOrNothing() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ptrs = a.allocate(8L * 8192);
            assertTrue(Shim.mbufAllocBulk(MemorySegment.ofAddress(pool), ptrs, 8192) < 0, "more than the pool holds");
            assertEquals(0, Shim.mempoolInUse(pool));
            assertEquals(0, Shim.mbufAllocBulk(MemorySegment.ofAddress(pool), ptrs, 100));
            assertEquals(100, Shim.mempoolInUse(pool));
            Shim.mbufFreeBulk(ptrs, 100);
            assertEquals(0, Shim.mempoolInUse(pool));
        }
    }
}
