package io.sluice.dataplane.offload;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.agent.TestStages;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.ParseStage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.sluice.dataplane.offload.OffloadFrames.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Multi-segment packets and offloads with real mbufs (DPDK, own JVM, unique --file-prefix): a worker
 * polls net_ring0 (frames put there as mbuf chains from the data plane's pool) and sends every
 * parsed packet to net_ring1 (takes chains, offloads nothing), which the test drains.
 * <ul>
 *   <li>TSO segmentation ({@link SoftOffload#segment}, QuickTheories): the segments of a GSO frame
 *       reassemble to its payload, each with valid IPv4 header and TCP checksums, consecutive sequence
 *       numbers and IP ids, FIN/PSH on the last and CWR on the first only, under VXLAN with right outer
 *       lengths and checksums;</li>
 *   <li>through the worker: a chain whose headers span segments is dropped and counted as
 *       {@code HEADERS_SPAN_SEGMENTS}; a plain chain leaves as the same chain of bytes; a partial
 *       checksum leaves completed; a 20 KB GSO frame leaves as MSS-sized frames with valid checksums;
 *       no mbuf leaks.</li>
 * </ul>
 */
class MultiSegmentDpdkTest {
    static Dataplane dp;
    static Counters counters;
    static int inPort, outPort;

    /** Every parsed packet to port 1. */
    static final class ToPortOne implements Stage {
        @Override
        public int process(Burst b) {
            for (int i = 0; i < b.count; i++) if (b.next[i] == Next.CONTINUE) b.tx(i, 1);
            return b.count;
        }

        @Override
        public String name() { return "to-port-one"; }
    }

    @BeforeAll
    static void start() {
        var cfg = TestStages.config("slt-mseg",
                List.of(TestStages.port("in", "net_ring0"), TestStages.port("out", "net_ring1")),
                new int[] {0}, "busy-spin", 8191);
        counters = Counters.inMemory(256);
        dp = Dataplane.start(cfg, (c, w) -> new Stage[] {new ParseStage(), new ToPortOne()}, counters);
        inPort = dp.ports().get(0).portId();
        outPort = dp.ports().get(1).portId();
    }

    @AfterAll
    static void stop() {
        if (dp != null) dp.close();
    }

    /** The frame's bytes as a chain of mbufs of the data plane's pool, cut at {@code cuts}. */
    static long poolChain(byte[] f, int[] cuts) {
        int n = cuts.length + 1;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8L * n);
            assertEquals(0, Shim.mbufAllocBulk(MemorySegment.ofAddress(dp.pool()), p, n));
            long first = 0, prev = 0;
            int start = 0;
            for (int k = 0; k < n; k++) {
                long m = p.getAtIndex(ValueLayout.JAVA_LONG, k);
                int end = k < cuts.length ? cuts[k] : f.length;
                MemorySegment.copy(f, start, Mem.ALL, ValueLayout.JAVA_BYTE, Mbuf.data(m), end - start);
                Mbuf.setLength(m, end - start);
                if (k == 0) first = m;
                else Mem.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, prev + Mbuf.NEXT, m);
                prev = m;
                start = end;
            }
            Mem.ALL.set(ValueLayout.JAVA_INT_UNALIGNED, first + Mbuf.PKT_LEN, f.length);
            Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, first + Mbuf.NB_SEGS, (short) n);
            return first;
        }
    }

    static void free(long m) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8);
            p.set(ValueLayout.JAVA_LONG, 0, m);
            Shim.mbufFreeBulk(p, 1);
        }
    }

    /** Checks the segments made from GSO frame {@code f} (payload cut at {@code mss}); returns the reassembled payload. */
    static byte[] checkSegments(byte[] f, Layout at, List<byte[]> segs, int mss) {
        int h = at.headerEnd();
        int payload = at.ipEnd() - h;
        assertEquals(Math.max(1, (payload + mss - 1) / mss), segs.size(), "segment count");
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        long seq0 = u32(f, at.l4Off() + 4);
        int id0 = at.v6() ? 0 : u16(f, at.ipOff() + 4);
        int flags0 = f[at.l4Off() + 13] & 0xFF;
        for (int k = 0; k < segs.size(); k++) {
            byte[] s = segs.get(k);
            int plen = s.length - h;
            assertEquals(k < segs.size() - 1 ? mss : payload - k * mss, plen, "segment " + k + " payload");
            Layout sl = new Layout(at.ipOff(), at.l4Off(), at.l4Len(), 6, at.v6(), s.length, at.vxlan());
            if (at.v6()) {
                assertEquals(s.length - at.ipOff() - 40, u16(s, at.ipOff() + 4), "IPv6 payload length");
            } else {
                assertEquals(s.length - at.ipOff(), u16(s, at.ipOff() + 2), "IPv4 total length");
                assertEquals((id0 + k) & 0xFFFF, u16(s, at.ipOff() + 4), "IPv4 id");
                assertEquals(0xFFFF, sum(s, at.ipOff(), 20, 0), "IPv4 header checksum");
            }
            assertEquals((seq0 + (long) k * mss) & 0xFFFF_FFFFL, u32(s, at.l4Off() + 4), "seq of segment " + k);
            int fl = s[at.l4Off() + 13] & 0xFF;
            int want = flags0;
            if (k < segs.size() - 1) want &= ~0x09;
            if (k > 0) want &= ~0x80;
            assertEquals(want, fl, "TCP flags of segment " + k);
            assertEquals(fullChecksum(s, sl), u16(s, sl.csumOff()), "TCP checksum of segment " + k);
            if (at.vxlan()) {
                assertEquals(s.length - 14, u16(s, 16), "outer IPv4 total length");
                assertEquals(0xFFFF, sum(s, 14, 20, 0), "outer IPv4 header checksum");
                assertEquals(s.length - 34, u16(s, 38), "outer UDP length");
            }
            // every other header byte as in the original
            byte[] hs = Arrays.copyOf(s, h), hf = Arrays.copyOf(f, h);
            for (int x : new int[] {at.ipOff() + 2, at.ipOff() + 3, at.ipOff() + 4, at.ipOff() + 5, at.ipOff() + 10, at.ipOff() + 11,
                    at.l4Off() + 4, at.l4Off() + 5, at.l4Off() + 6, at.l4Off() + 7, at.l4Off() + 13, sl.csumOff(), sl.csumOff() + 1,
                    16, 17, 24, 25, 38, 39}) {
                if (x < h) { hs[x] = 0; hf[x] = 0; }
            }
            if (!at.vxlan()) { // 16.. were inner bytes: compare them after all
                hs = Arrays.copyOf(s, h);
                hf = Arrays.copyOf(f, h);
                for (int x : new int[] {at.ipOff() + 2, at.ipOff() + 3, at.ipOff() + 4, at.ipOff() + 5, at.ipOff() + 10, at.ipOff() + 11,
                        at.l4Off() + 4, at.l4Off() + 5, at.l4Off() + 6, at.l4Off() + 7, at.l4Off() + 13, sl.csumOff(), sl.csumOff() + 1}) {
                    hs[x] = 0;
                    hf[x] = 0;
                }
            }
            assertArrayEquals(hf, hs, "headers of segment " + k);
            all.write(s, h, plen);
        }
        return all.toByteArray();
    }

    @Test
    void tsoSegmentsReassembleToThePayloadWithValidChecksums() {
        SoftOffload soft = new SoftOffload();
        int inUse = Shim.mempoolInUse(dp.pool());
        try {
            qt().withExamples(150).withShrinkCycles(50)
                    .forAll(integers().between(0, 3), integers().between(0, 30000), integers().between(64, 1460), longs().all())
                    .checkAssert((shape, payload, mss, seed) -> {
                        Random r = new Random(seed);
                        Frame fr = build(r, (shape & 1) != 0, true, (shape & 2) != 0, payload);
                        byte[] f = fr.bytes();
                        Layout at = fr.at();
                        put16(f, at.csumOff(), partial(f, at));
                        int[] cuts = cuts(r, f.length, at.headerEnd());
                        while (cuts.length > 0 && cuts[0] > 2000) cuts = cuts(r, f.length, at.headerEnd()); // fits an mbuf
                        int[] segCuts = splitForPool(f.length, cuts);
                        long m = poolChain(f, segCuts);
                        try {
                            assertTrue(soft.locate(Mbuf.data(m), Mbuf.dataLen(m), f.length, at.vxlan() ? PacketFlags.VXLAN_ENCAP : 0));
                            int n = soft.segment(m, Mbuf.data(m), Mbuf.dataLen(m), mss);
                            assertTrue(n > 0, "segmented");
                            List<byte[]> segs = new ArrayList<>();
                            for (int k = 0; k < n; k++) segs.add(bytes(soft.segments.getAtIndex(ValueLayout.JAVA_LONG, k)));
                            Shim.mbufFreeBulk(soft.segments, n);
                            byte[] got = checkSegments(f, at, segs, mss);
                            assertArrayEquals(Arrays.copyOfRange(f, at.headerEnd(), at.ipEnd()), got, "reassembled payload");
                        } finally {
                            free(m);
                        }
                    });
        } finally {
            soft.close();
        }
        assertEquals(inUse, Shim.mempoolInUse(dp.pool()), "segmentation leaks no mbuf");
    }

    /** {@code cuts} plus more cuts so that no segment exceeds the pool's 2048-byte data room. */
    static int[] splitForPool(int total, int[] cuts) {
        List<Integer> out = new ArrayList<>();
        int start = 0;
        for (int k = 0; k <= cuts.length; k++) {
            int end = k < cuts.length ? cuts[k] : total;
            while (end - start > 2048) {
                start += 2048;
                out.add(start);
            }
            if (k < cuts.length) out.add(end);
            start = end;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Puts chain m on net_ring0 (the worker's rx). */
    static void inject(long m) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8);
            p.set(ValueLayout.JAVA_LONG, 0, m);
            assertEquals(1, Shim.txBurst(inPort, 0, p, 1));
        }
    }

    /** Waits for {@code n} packets on net_ring1; returns their bytes (chains read whole) and frees them. */
    static List<byte[]> collect(int n) throws InterruptedException {
        List<byte[]> out = new ArrayList<>();
        long deadline = System.nanoTime() + 10_000_000_000L;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8L * 64);
            while (out.size() < n && System.nanoTime() < deadline) {
                int got = Shim.rxBurst(outPort, 0, p, 64);
                for (int k = 0; k < got; k++) out.add(bytes(p.getAtIndex(ValueLayout.JAVA_LONG, k)));
                if (got > 0) Shim.mbufFreeBulk(p, got);
                else Thread.sleep(1);
            }
        }
        return out;
    }

    /** Waits for one packet on net_ring1 and returns its mbuf (the caller frees it). */
    static long collectOne() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(8L);
            while (System.nanoTime() < deadline) {
                if (Shim.rxBurst(outPort, 0, p, 1) == 1) return p.get(ValueLayout.JAVA_LONG, 0);
                Thread.sleep(1);
            }
        }
        throw new AssertionError("nothing arrived on net_ring1");
    }

    /**
     * The worker allocates nothing on the multi-segment / offload path either: chains kept, partial
     * checksums completed, GSO frames segmented, over a thousand rounds after a warm-up (the worker
     * thread's allocated bytes, as WorkerAllocationTest measures them; that test also shows the
     * measurement sees a stage that allocates).
     */
    @Test
    void theOffloadPathAllocatesNothing() throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        mx.setThreadAllocatedMemoryEnabled(true);
        Random r = new Random(11);
        Frame gso = build(r, false, true, false, 6000);
        put16(gso.bytes(), gso.at().csumOff(), partial(gso.bytes(), gso.at()));
        Frame part = build(r, true, false, false, 2500);
        put16(part.bytes(), part.at().csumOff(), partial(part.bytes(), part.at()));
        Frame plain = build(r, false, true, false, 3000);
        Thread t = dp.workerThread(0);
        long before = 0, txBefore = 0;
        int rounds = 1300, warm = 300;
        for (int k = 0; k < rounds; k++) {
            if (k == warm) {
                before = mx.getThreadAllocatedBytes(t.threadId());
                txBefore = counters.snapshot().get("port out tx packets");
            }
            long m = poolChain(gso.bytes(), splitForPool(gso.bytes().length, new int[] {gso.at().headerEnd()}));
            Mbuf.setOlFlags(m, Mbuf.F_RX_L4_CKSUM_NONE | Mbuf.F_RX_LRO);
            Mbuf.setTxOffload(m, 0, 0, 0, 1448);
            inject(m);
            m = poolChain(part.bytes(), new int[] {part.at().headerEnd(), 2000});
            Mbuf.setOlFlags(m, Mbuf.F_RX_L4_CKSUM_NONE);
            inject(m);
            inject(poolChain(plain.bytes(), new int[] {plain.at().headerEnd() + 7, 1500}));
            assertEquals(7, collect(7).size(), "round " + k + ": 5 segments, the completed frame, the chain");
        }
        long after = mx.getThreadAllocatedBytes(t.threadId());
        long tx = counters.snapshot().get("port out tx packets") - txBefore;
        System.out.printf("offload path: worker allocated %d bytes over %d rounds (%d packets out)%n", after - before, rounds - warm, tx);
        assertTrue(tx >= 7L * (rounds - warm), "the path ran: " + tx + " packets out");
        assertEquals(0, after - before, "bytes allocated by the worker on the offload path");
    }

    long drops(DropReason r) {
        Long v = counters.snapshot().get(Counters.dropLabel("in", r));
        return v == null ? 0 : v;
    }

    @Test
    void throughTheWorker() throws Exception {
        Random r = new Random(7);
        // a chain whose TCP header is cut by the segment boundary: dropped with its reason, counted
        Frame fr = build(r, false, true, false, 3000);
        long before = drops(DropReason.HEADERS_SPAN_SEGMENTS);
        inject(poolChain(fr.bytes(), new int[] {fr.at().l4Off() + 10, 2000}));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (drops(DropReason.HEADERS_SPAN_SEGMENTS) == before && System.nanoTime() < deadline) Thread.sleep(5);
        assertEquals(before + 1, drops(DropReason.HEADERS_SPAN_SEGMENTS), "counted as HEADERS_SPAN_SEGMENTS on port in");

        // a plain chain (headers in the first segment) leaves as the same bytes
        fr = build(r, true, true, false, 5000);
        inject(poolChain(fr.bytes(), new int[] {fr.at().headerEnd() + 3, 2000, 4000}));
        List<byte[]> got = collect(1);
        assertEquals(1, got.size());
        assertArrayEquals(fr.bytes(), got.get(0), "the chain's bytes");

        // a partial checksum (guest offload) leaves completed
        fr = build(r, false, false, false, 3500);
        byte[] f = fr.bytes();
        int want = u16(f, fr.at().csumOff());
        put16(f, fr.at().csumOff(), partial(f, fr.at()));
        long m = poolChain(f, new int[] {fr.at().headerEnd() + 1, 1999});
        Mbuf.setOlFlags(m, Mbuf.F_RX_L4_CKSUM_NONE);
        inject(m);
        got = collect(1);
        assertEquals(1, got.size());
        assertEquals(want, u16(got.get(0), fr.at().csumOff()), "UDP checksum completed");
        put16(f, fr.at().csumOff(), want);
        assertArrayEquals(f, got.get(0));

        // a 20 KB GSO frame (guest TSO) leaves as MSS-sized frames
        fr = build(r, false, true, false, 20000);
        f = fr.bytes();
        put16(f, fr.at().csumOff(), partial(f, fr.at()));
        m = poolChain(f, splitForPool(f.length, new int[] {fr.at().headerEnd()}));
        Mbuf.setOlFlags(m, Mbuf.F_RX_L4_CKSUM_NONE | Mbuf.F_RX_LRO);
        Mbuf.setTxOffload(m, 0, 0, 0, 1448);
        inject(m);
        got = collect(14);
        byte[] payload = checkSegments(f, fr.at(), got, 1448);
        assertArrayEquals(Arrays.copyOfRange(f, fr.at().headerEnd(), fr.at().ipEnd()), payload);

        // to a port that takes the offloads (as a vhost-user port does): flags and lengths passed on, nothing done here
        int caps = TxCaps.of(outPort);
        assertEquals(TxCaps.MULTI_SEGS, caps, "net_ring takes chains and no offload");
        TxCaps.set(outPort, TxCaps.MULTI_SEGS | TxCaps.CSUM | TxCaps.TSO);
        try {
            fr = build(r, false, true, false, 20000);
            f = fr.bytes();
            put16(f, fr.at().csumOff(), partial(f, fr.at()));
            m = poolChain(f, splitForPool(f.length, new int[] {fr.at().headerEnd()}));
            Mbuf.setOlFlags(m, Mbuf.F_RX_L4_CKSUM_NONE | Mbuf.F_RX_LRO);
            Mbuf.setTxOffload(m, 0, 0, 0, 1448);
            inject(m);
            long got1 = collectOne();
            try {
                assertArrayEquals(f, bytes(got1), "the GSO frame whole, its partial checksum untouched");
                long fl = Mbuf.olFlags(got1);
                assertEquals(Mbuf.F_TX_TCP_SEG, fl & Mbuf.F_TX_TCP_SEG);
                assertEquals(Mbuf.F_TX_TCP_CKSUM, fl & Mbuf.F_TX_L4_MASK);
                assertEquals(Mbuf.F_TX_IPV4, fl & Mbuf.F_TX_IPV4);
                long tx = Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, got1 + Mbuf.TX_OFFLOAD);
                assertEquals(14L | (20L << 7) | ((long) fr.at().l4Len() << 16) | (1448L << 24), tx & 0xFF_FFFF_FFFFL,
                        "l2_len, l3_len, l4_len, tso_segsz");
            } finally {
                free(got1);
            }
        } finally {
            TxCaps.set(outPort, caps);
        }

        Thread.sleep(50);
        assertEquals(0, collect(1).size(), "nothing more");
        long txOut = counters.snapshot().get("port out tx packets");
        assertTrue(txOut >= 16, "the segments counted as tx of port out: " + txOut);
        assertEquals(0, Shim.mempoolInUse(dp.pool()), "no mbuf leaked (chains trimmed and freed, originals of segments freed)");
    }
}
