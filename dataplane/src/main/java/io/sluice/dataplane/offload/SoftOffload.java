package io.sluice.dataplane.offload;

import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.packet.Checksum;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.PacketFlags;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What a device would have done, done in software at the egress, over mbuf chains (one instance
 * per worker; nothing allocated after construction):
 * <ul>
 *   <li>{@link #locate}: where the TCP/UDP header an offload concerns is (the inner one under our
 *       VXLAN encapsulation, {@link PacketFlags#VXLAN_ENCAP});</li>
 *   <li>{@link #completeChecksum}: a partial checksum (the field holds the pseudo-header sum,
 *       virtio NEEDS_CSUM) completed by summing the L4 bytes over every segment;</li>
 *   <li>{@link #segment}: TCP segmentation of a GSO frame into frames of at most MSS payload bytes in
 *       fresh mbufs of the frame's pool: headers copied, IPv4 total length / id (+k) / header
 *       checksum, IPv6 payload length, TCP sequence number (+k*MSS), FIN/PSH only on the last and
 *       CWR only on the first segment, full TCP checksum, and under VXLAN the outer IPv4 length and
 *       header checksum and the UDP length;</li>
 *   <li>{@link #linearise}: a chain copied into its first segment, for a port that takes no chains.</li>
 * </ul>
 * The reference twins (a plain byte-array checksum, the reassembly of the segments) are in the
 * property tests ({@code SoftOffloadProperties}).
 */
public final class SoftOffload {
    /** Most segments one GSO frame is cut into (64 KB at an MSS of 64 bytes). */
    public static final int MAX_SEGMENTS = 1024;

    private static final int TCP = 6, UDP = 17;
    private static final int FIN = 0x01, PSH = 0x08, CWR = 0x80;

    // ---- the frame found by locate() (offsets from the frame start) ----
    /** Inner IP header offset, L4 header offset, L4 header length, IP protocol, family 4/6, end of the IP packet. */
    public int ipOff, l4Off, l4Len, proto, family, ipEnd;
    /** Outer IPv4 / UDP header offsets under VXLAN, or -1. */
    public int outerIp, outerUdp;

    private final Arena arena;
    /** The segments {@link #segment} made (rte_mbuf*), {@link #MAX_SEGMENTS} pointers. */
    public final MemorySegment segments;
    private long poolAddr;
    private MemorySegment poolSeg;
    // copy cursor over a chain
    private long curSeg;
    private int curOff;

    public SoftOffload() {
        arena = Arena.ofShared();
        MemorySegment s = arena.allocate(8L * MAX_SEGMENTS, 64);
        segments = MemorySegment.ofAddress(s.address()).reinterpret(s.byteSize());
    }

    /** Frees the segment array (after the worker stopped). */
    public void close() {
        arena.close();
    }

    /**
     * Finds the TCP or UDP header of the frame at {@code d} with {@code head} contiguous bytes, of
     * {@code total} bytes in all: after the 50-byte VXLAN encapsulation when {@code flags} has
     * {@link PacketFlags#VXLAN_ENCAP}; Ethernet, up to two VLAN tags, IPv4 (not a fragment) or IPv6
     * (no extension header), every header in {@code head}. False when it is anything else.
     */
    public boolean locate(long d, int head, int total, int flags) {
        int off = 0;
        outerIp = -1;
        outerUdp = -1;
        if ((flags & PacketFlags.VXLAN_ENCAP) != 0) {
            outerIp = 14;
            outerUdp = 34;
            off = 50;
        }
        if (head < off + 14) return false;
        int type = Mem.u16(d + off + 12);
        int l3 = off + 14;
        for (int tags = 0; (type == 0x8100 || type == 0x88A8) && tags < 2; tags++) {
            if (head < l3 + 4) return false;
            type = Mem.u16(d + l3 + 2);
            l3 += 4;
        }
        int l4;
        if (type == 0x0800) {
            if (head < l3 + 20) return false;
            int v = Mem.u8(d + l3);
            int hl = (v & 0x0F) << 2;
            if ((v >>> 4) != 4 || hl < 20 || head < l3 + hl) return false;
            if ((Mem.u16(d + l3 + 6) & 0x3FFF) != 0) return false; // a fragment
            proto = Mem.u8(d + l3 + 9);
            ipEnd = l3 + Mem.u16(d + l3 + 2);
            if (ipEnd < l3 + hl) return false;
            l4 = l3 + hl;
            family = 4;
        } else if (type == 0x86DD) {
            if (head < l3 + 40 || (Mem.u8(d + l3) >>> 4) != 6) return false;
            proto = Mem.u8(d + l3 + 6);
            ipEnd = l3 + 40 + Mem.u16(d + l3 + 4);
            l4 = l3 + 40;
            family = 6;
        } else {
            return false;
        }
        if (ipEnd > total) return false;
        if (proto == TCP) {
            if (head < l4 + 20 || ipEnd < l4 + 20) return false;
            l4Len = (Mem.u8(d + l4 + 12) >>> 4) << 2;
            if (l4Len < 20 || head < l4 + l4Len || ipEnd < l4 + l4Len) return false;
        } else if (proto == UDP) {
            if (head < l4 + 8 || ipEnd < l4 + 8) return false;
            l4Len = 8;
        } else {
            return false;
        }
        ipOff = l3;
        l4Off = l4;
        return true;
    }

    /**
     * Whether the located frame carries more than {@code mss} bytes of payload (it must be cut; only
     * TCP can be, {@link #segment} refuses UDP GSO).
     */
    public boolean needsSegmentation(int mss) {
        return ipEnd - (l4Off + l4Len) > mss;
    }

    /** Offset of the located L4 checksum field. */
    public int checksumOffset() {
        return l4Off + (proto == TCP ? 16 : 6);
    }

    /**
     * Ones'-complement sum (folded to 16 bits) of the frame bytes {@code [from, to)} of the chain
     * starting at mbuf {@code m}, whose first segment's bytes are at {@code d} ({@code head} of them):
     * the per-segment sums are byte-swapped after an odd number of bytes (RFC 1071's byte-order
     * independence).
     */
    public static int sumChain(long m, long d, int head, int from, int to) {
        long sum = 0;
        int pos = 0;
        boolean odd = false;
        long seg = m;
        long a = d;
        int len = head;
        while (pos < to) {
            int start = Math.max(from - pos, 0);
            int end = Math.min(len, to - pos);
            if (start < end) {
                int n = end - start;
                int part = Checksum.fold(Checksum.add(0, a + start, n));
                if (odd) part = ((part & 0xFF) << 8) | (part >>> 8);
                sum += part;
                if ((n & 1) != 0) odd = !odd;
            }
            pos += len;
            seg = seg == 0 ? 0 : Mbuf.next(seg);
            if (seg == 0) break;
            a = Mbuf.data(seg);
            len = Mbuf.dataLen(seg);
        }
        return Checksum.fold(sum);
    }

    /**
     * Completes the partial checksum of the located TCP/UDP header: the field holds the pseudo-header
     * sum, so the checksum is the complement of the sum of the L4 bytes with the field as it is (a
     * UDP result of 0 is sent as 0xFFFF).
     */
    public void completeChecksum(long m, long d, int head) {
        int c = ~sumChain(m, d, head, l4Off, ipEnd) & 0xFFFF;
        if (proto == UDP && c == 0) c = 0xFFFF;
        Mem.put16(d + checksumOffset(), c);
    }

    /**
     * Cuts the located TCP frame (mbuf chain {@code m}, first segment at {@code d} with {@code head}
     * bytes) into frames of at most {@code mss} payload bytes, in {@code n} fresh mbufs of {@code m}'s
     * pool written to {@link #segments}. Returns n (1 or more), or -1 when it cannot: not TCP, MSS 0,
     * more than {@link #MAX_SEGMENTS} segments, headers + MSS larger than an mbuf, or the pool is empty.
     * The original chain is left as it was (the caller frees it).
     */
    public int segment(long m, long d, int head, int mss) {
        if (proto != TCP || mss <= 0) return -1;
        final int h = l4Off + l4Len;
        final int payload = ipEnd - h;
        int n = payload <= 0 ? 1 : (payload + mss - 1) / mss;
        if (n > MAX_SEGMENTS) return -1;
        int room = (Mem.ALL.get(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.BUF_LEN) & 0xFFFF) - (int) Mbuf.HEADROOM;
        if (h + Math.min(mss, Math.max(payload, 0)) > room) return -1;
        long pool = Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, m + Mbuf.POOL);
        if (pool != poolAddr) { // one pool per data plane: made once, not per frame
            poolAddr = pool;
            poolSeg = MemorySegment.ofAddress(pool);
        }
        if (Shim.mbufAllocBulk(poolSeg, segments, n) != 0) return -1;
        // payload cursor at frame offset h
        seek(m, d, head, h);
        final long seq = Mem.u32(d + l4Off + 4);
        final int id = family == 4 ? Mem.u16(d + ipOff + 4) : 0;
        final int tcpFlags = Mem.u8(d + l4Off + 13);
        for (int k = 0; k < n; k++) {
            long s = segments.getAtIndex(ValueLayout.JAVA_LONG, k);
            long o = Mbuf.data(s);
            int plen = Math.min(mss, payload - k * mss);
            if (plen < 0) plen = 0;
            Mem.copy(d, o, h);
            copyFromCursor(o + h, plen);
            Mbuf.setLength(s, h + plen);
            long ip = o + ipOff;
            long tcp = o + l4Off;
            int l4Length = l4Len + plen;
            if (family == 4) {
                Mem.put16(ip + 2, (l4Off - ipOff) + l4Length);
                Mem.put16(ip + 4, (id + k) & 0xFFFF);
                Checksum.setIpv4Header(ip);
            } else {
                Mem.put16(ip + 4, (l4Off - ipOff - 40) + l4Length);
            }
            Mem.put32(tcp + 4, (int) (seq + (long) k * mss));
            int f = tcpFlags;
            if (k < n - 1) f &= ~(FIN | PSH);
            if (k > 0) f &= ~CWR;
            Mem.put8(tcp + 13, f);
            long pseudo = family == 4 ? Checksum.pseudoHeaderV4(ip, TCP, l4Length) : Checksum.pseudoHeaderV6(ip, TCP, l4Length);
            Mem.put16(tcp + 16, 0);
            Mem.put16(tcp + 16, Checksum.l4(pseudo, tcp, l4Length, 16));
            if (outerIp >= 0) {
                long oip = o + outerIp;
                Mem.put16(oip + 2, h + plen - outerIp);
                Checksum.setIpv4Header(oip);
                Mem.put16(o + outerUdp + 4, h + plen - outerUdp);
                Mem.put16(o + outerUdp + 6, 0);
            }
        }
        return n;
    }

    private void seek(long m, long d, int head, int off) {
        long seg = m;
        long a = d;
        int len = head;
        while (off >= len && seg != 0) {
            off -= len;
            seg = Mbuf.next(seg);
            if (seg == 0) break;
            a = Mbuf.data(seg);
            len = Mbuf.dataLen(seg);
        }
        curSeg = seg;
        curOff = off;
        curAddr = a;
        curLen = len;
    }

    private long curAddr;
    private int curLen;

    private void copyFromCursor(long dst, int n) {
        while (n > 0 && curSeg != 0) {
            int take = Math.min(n, curLen - curOff);
            if (take > 0) {
                Mem.copy(curAddr + curOff, dst, take);
                dst += take;
                n -= take;
                curOff += take;
            }
            if (curOff >= curLen) {
                curSeg = Mbuf.next(curSeg);
                if (curSeg == 0) break;
                curAddr = Mbuf.data(curSeg);
                curLen = Mbuf.dataLen(curSeg);
                curOff = 0;
            }
        }
    }

    /**
     * Copies the chain {@code m} (first segment at {@code d}, {@code head} bytes, {@code total} in all)
     * into its first segment's tailroom, detaches the rest (returned, to be freed by the caller: 0 when
     * nothing was chained) and makes {@code m} one segment. Returns -1 (nothing changed) when the frame
     * does not fit the first buffer.
     */
    public long linearise(long m, long d, int head, int total) {
        long bufAddr = Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, m + Mbuf.BUF_ADDR);
        int bufLen = Mem.ALL.get(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.BUF_LEN) & 0xFFFF;
        if (d - bufAddr + total > bufLen) return -1;
        long tail = Mbuf.next(m);
        seek(m, d, head, head);
        copyFromCursor(d + head, total - head);
        Mem.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, m + Mbuf.NEXT, 0L);
        Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.NB_SEGS, (short) 1);
        Mbuf.setLength(m, total);
        return tail;
    }

    /**
     * Largest frame packet {@code i} (a GSO frame) becomes on the wire: its headers + the MSS of its
     * mbuf ({@code tso_segsz}), at most its length. Its length when it has no mbuf or no MSS.
     */
    public static int gsoWireLength(Burst b, int i) {
        long m = b.mbuf[i];
        int len = b.length[i];
        if (m == 0 || b.l4Offset[i] < 0 || (b.flags[i] & PacketFlags.TCP) == 0) return len;
        int mss = Mbuf.tsoSegsz(m);
        if (mss == 0) return len;
        int thl = (Mem.u8(b.data[i] + b.l4Offset[i] + 12) >>> 4) << 2;
        return Math.min(len, b.l4Offset[i] + thl + mss);
    }
}
