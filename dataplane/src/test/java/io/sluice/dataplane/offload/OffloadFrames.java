package io.sluice.dataplane.offload;

import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.packet.Mem;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/**
 * Test frames for the multi-segment and offload tests, as byte arrays with a plain byte-array
 * checksum (the reference twin of {@code packet.Checksum} / {@link SoftOffload}), and fake mbuf
 * chains in native memory (a struct rte_mbuf laid out by the shim's offsets, no DPDK needed) that
 * cut the same bytes at given points, the first segment's buffer poisoned after its data.
 */
final class OffloadFrames {
    /** Where a built frame's headers are. */
    record Layout(int ipOff, int l4Off, int l4Len, int proto, boolean v6, int ipEnd, boolean vxlan) {
        int csumOff() { return l4Off + (proto == 6 ? 16 : 6); }
        int headerEnd() { return l4Off + l4Len; }
    }

    record Frame(byte[] bytes, Layout at) {}

    static final int POISON = 0xA5;

    /**
     * A TCP (or UDP) frame over IPv4 (or IPv6), optionally inside our 50-byte VXLAN encapsulation,
     * with {@code payload} random bytes and every checksum right.
     */
    static Frame build(Random r, boolean v6, boolean tcp, boolean vxlan, int payload) {
        int outer = vxlan ? 50 : 0;
        int ipLen = v6 ? 40 : 20;
        int l4Len = tcp ? 20 + 4 * r.nextInt(0, 11) : 8;
        int total = outer + 14 + ipLen + l4Len + payload;
        byte[] f = new byte[total];
        r.nextBytes(f);
        int e = outer;
        f[e] = 0x02; // unicast
        put16(f, e + 12, v6 ? 0x86DD : 0x0800);
        int ip = e + 14;
        int l4 = ip + ipLen;
        int proto = tcp ? 6 : 17;
        if (v6) {
            put32(f, ip, 0x6000_0000 | r.nextInt(0, 1 << 20));
            put16(f, ip + 4, l4Len + payload);
            f[ip + 6] = (byte) proto;
            f[ip + 7] = 64;
        } else {
            put16(f, ip, 0x4500);
            put16(f, ip + 2, ipLen + l4Len + payload);
            put16(f, ip + 6, 0x4000);
            f[ip + 8] = 64;
            f[ip + 9] = (byte) proto;
            put16(f, ip + 10, 0);
            put16(f, ip + 10, ~sum(f, ip, 20, 0) & 0xFFFF);
        }
        if (tcp) {
            f[l4 + 12] = (byte) ((l4Len / 4) << 4);
            f[l4 + 13] = (byte) (0x10 | (r.nextInt(0, 256) & (0x01 | 0x08 | 0x80 | 0x40))); // ACK + random FIN/PSH/CWR/ECE
            for (int k = l4 + 20; k < l4 + l4Len; k++) f[k] = 1; // NOP options
        } else {
            put16(f, l4 + 4, 8 + payload);
        }
        Layout at = new Layout(ip, l4, l4Len, proto, v6, l4 + l4Len + payload, vxlan);
        put16(f, at.csumOff(), fullChecksum(f, at));
        if (vxlan) {
            put16(f, 12, 0x0800);
            put16(f, 14, 0x4500);
            put16(f, 16, total - 14);
            put16(f, 20, 0x4000);
            f[22] = 64;
            f[23] = 17;
            put16(f, 24, 0);
            put16(f, 24, ~sum(f, 14, 20, 0) & 0xFFFF);
            put16(f, 34 + 2, 4789);
            put16(f, 34 + 4, total - 34);
            put16(f, 34 + 6, 0);
            f[42] = 0x08;
        }
        return new Frame(f, at);
    }

    /** The full TCP/UDP checksum of the frame's bytes (field taken as 0), from scratch. */
    static int fullChecksum(byte[] f, Layout at) {
        long s = pseudo(f, at, at.ipEnd() - at.l4Off());
        int c = at.csumOff();
        byte[] g = f.clone();
        g[c] = 0;
        g[c + 1] = 0;
        int v = ~sum(g, at.l4Off(), at.ipEnd() - at.l4Off(), s) & 0xFFFF;
        return at.proto() == 17 && v == 0 ? 0xFFFF : v;
    }

    /** The partial checksum a virtio driver leaves: the pseudo-header sum, folded, not complemented. */
    static int partial(byte[] f, Layout at) {
        return fold(pseudo(f, at, at.ipEnd() - at.l4Off()));
    }

    static long pseudo(byte[] f, Layout at, int l4Length) {
        int ip = at.ipOff();
        long s = at.proto() + l4Length;
        if (at.v6()) {
            for (int k = 8; k < 40; k += 2) s += u16(f, ip + k);
        } else {
            for (int k = 12; k < 20; k += 2) s += u16(f, ip + k);
        }
        return s;
    }

    static int sum(byte[] f, int off, int len, long start) {
        long s = start;
        for (int k = 0; k + 1 < len; k += 2) s += u16(f, off + k);
        if ((len & 1) != 0) s += (f[off + len - 1] & 0xFF) << 8;
        return fold(s);
    }

    static int fold(long s) {
        while ((s >>> 16) != 0) s = (s & 0xFFFF) + (s >>> 16);
        return (int) s;
    }

    static int u16(byte[] f, int at) { return ((f[at] & 0xFF) << 8) | (f[at + 1] & 0xFF); }

    static long u32(byte[] f, int at) { return ((long) u16(f, at) << 16) | u16(f, at + 2); }

    static void put16(byte[] f, int at, int v) { f[at] = (byte) (v >>> 8); f[at + 1] = (byte) v; }

    static void put32(byte[] f, int at, int v) { put16(f, at, v >>> 16); put16(f, at + 2, v); }

    /** Random segment boundaries: the first at {@code minHead} or later, the rest anywhere (1..4 cuts, none at 0 or the end). */
    static int[] cuts(Random r, int total, int minHead) {
        int n = r.nextInt(1, 5);
        java.util.TreeSet<Integer> s = new java.util.TreeSet<>();
        if (minHead < total) s.add(r.nextInt(minHead, total));
        for (int k = 1; k < n; k++) {
            int lo = s.isEmpty() ? minHead : s.first() + 1;
            if (lo < total) s.add(r.nextInt(lo, total));
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Fake mbuf chains in native memory. */
    static final class Chains implements AutoCloseable {
        final Arena arena = Arena.ofShared();

        /**
         * The frame's bytes in a chain cut at {@code cuts} (ascending, each in (0, length)): returns the
         * first mbuf. Each segment has {@code headroom} bytes before and 64 poison bytes after its data.
         */
        long chain(byte[] f, int[] cuts, int headroom) {
            long first = 0, prev = 0;
            int start = 0;
            for (int k = 0; k <= cuts.length; k++) {
                int end = k < cuts.length ? cuts[k] : f.length;
                int len = end - start;
                int bufLen = headroom + len + 64;
                MemorySegment seg = arena.allocate(Mbuf.SIZE + bufLen, 64);
                long m = seg.address();
                long buf = m + Mbuf.SIZE;
                seg.asSlice(Mbuf.SIZE).fill((byte) POISON);
                Mem.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, m + Mbuf.BUF_ADDR, buf);
                Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.BUF_LEN, (short) bufLen);
                Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.DATA_OFF, (short) headroom);
                Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.DATA_LEN, (short) len);
                Mem.ALL.set(ValueLayout.JAVA_INT_UNALIGNED, m + Mbuf.PKT_LEN, len);
                Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.NB_SEGS, (short) 1);
                MemorySegment.copy(f, start, Mem.ALL, ValueLayout.JAVA_BYTE, buf + headroom, len);
                if (first == 0) first = m;
                else Mem.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, prev + Mbuf.NEXT, m);
                prev = m;
                start = end;
            }
            Mem.ALL.set(ValueLayout.JAVA_INT_UNALIGNED, first + Mbuf.PKT_LEN, f.length);
            Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, first + Mbuf.NB_SEGS, (short) (cuts.length + 1));
            return first;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** The bytes of a chain, segment after segment (what a receiver of the chain gets). */
    static byte[] bytes(long m) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (long s = m; s != 0; s = Mbuf.next(s)) {
            byte[] b = new byte[Mbuf.dataLen(s)];
            MemorySegment.copy(Mem.ALL, ValueLayout.JAVA_BYTE, Mbuf.data(s), b, 0, b.length);
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    private OffloadFrames() {}
}
