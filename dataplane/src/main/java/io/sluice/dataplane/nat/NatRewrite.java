package io.sluice.dataplane.nat;

import io.sluice.dataplane.packet.Checksum;
import io.sluice.dataplane.packet.Mem;

/**
 * In-place IPv4 address/port rewrites with incremental checksums (RFC 1624): the IPv4 header
 * checksum for the address; TCP and UDP checksums for the pseudo-header address and the port
 * (a UDP checksum of 0 — "none" — stays 0, and a result of 0 is sent as 0xFFFF, RFC 768); ICMP
 * echo request/reply: the identifier (ICMP's checksum covers no pseudo-header). Works on first
 * fragments too (the L4 checksum covers the whole datagram, and the update is linear); a later
 * fragment has no L4 header ({@code l4 < 0}): only the address changes. Allocation-free.
 */
public final class NatRewrite {
    public static final int TCP = 6, UDP = 17, ICMP = 1;

    private NatRewrite() {}

    /**
     * Rewrites the source ({@code src}) or destination address of the IPv4 packet at {@code ip} to
     * {@code addr} and, when {@code l4 >= 0} and {@code port >= 0}, that side's TCP/UDP port (or the
     * ICMP echo identifier, whichever side) to {@code port}.
     */
    public static void rewrite(long ip, long l4, int proto, boolean src, int addr, int port) {
        rewrite(ip, l4, proto, src, addr, port, false);
    }

    /**
     * {@link #rewrite(long, long, int, boolean, int, int)} for a packet whose TCP/UDP checksum may be
     * partial ({@code partial}: {@link io.sluice.dataplane.pipeline.Offload#PARTIAL_CSUM}, a guest's
     * offloaded checksum): its field holds only the pseudo-header sum, so an address change moves it
     * the other way ({@link Checksum#updatePartial32}) and a port change leaves it alone (ports are not
     * in the pseudo-header; whoever completes the checksum sums the new port).
     */
    public static void rewrite(long ip, long l4, int proto, boolean src, int addr, int port, boolean partial) {
        long a = ip + (src ? 12 : 16);
        int old = Mem.i32(a);
        Mem.put32(a, addr);
        Checksum.update32At(ip + 10, old, addr);
        if (l4 < 0) return;
        if (partial && (proto == TCP || proto == UDP)) {
            long c = l4 + (proto == TCP ? 16 : 6);
            Mem.put16(c, Checksum.updatePartial32(Mem.u16(c), old, addr));
            if (port >= 0) Mem.put16(l4 + (src ? 0 : 2), port);
            return;
        }
        // the L4 checksum read once, both updates (address, port) applied to it, written once
        if (proto == TCP) {
            long c = l4 + 16;
            int sum = Checksum.update32(Mem.u16(c), old, addr);
            if (port >= 0) {
                long pa = l4 + (src ? 0 : 2);
                int op = Mem.u16(pa);
                Mem.put16(pa, port);
                sum = Checksum.update16(sum, op, port);
            }
            Mem.put16(c, sum);
        } else if (proto == UDP) {
            long c = l4 + 6;
            int sum = Mem.u16(c);
            boolean none = sum == 0;
            if (!none) sum = Checksum.update32(sum, old, addr);
            if (port >= 0) {
                long pa = l4 + (src ? 0 : 2);
                int op = Mem.u16(pa);
                Mem.put16(pa, port);
                if (!none) sum = Checksum.update16(sum, op, port);
            }
            if (!none) Mem.put16(c, sum == 0 ? 0xFFFF : sum);
        } else if (proto == ICMP && port >= 0) {
            int type = Mem.u8(l4);
            if (type == 0 || type == 8) {
                int op = Mem.u16(l4 + 4);
                Mem.put16(l4 + 4, port);
                Checksum.update16At(l4 + 2, op, port);
            }
        }
    }

    /** Whether an ICMP type is an error that quotes the packet it is about (destination unreachable, time exceeded, parameter problem). */
    public static boolean isIcmpError(int type) { return type == 3 || type == 11 || type == 12; }

    /**
     * Translates an ICMP error about a NATed flow on both headers (RFC 5508): the outer address
     * (destination when {@code inbound}, else source) and, in the quoted header, the address on the
     * same side of the flow (quoted source when inbound, quoted destination when outbound) become
     * {@code addr}; with {@code port >= 0} the quoted port on that side (or the quoted echo
     * identifier) becomes {@code port}. The quoted IPv4 checksum, the quoted TCP/UDP/ICMP checksum
     * when it was quoted, and the error's own ICMP checksum are updated incrementally. {@code end}:
     * end of the IPv4 packet. False when the quote is too short to translate (nothing changed).
     */
    public static boolean icmpError(long ip, long icmp, long end, boolean inbound, int addr, int port) {
        long q = icmp + 8;
        if (q + 20 > end) return false;
        int qhl = (Mem.u8(q) & 0x0F) * 4;
        long ql4 = q + qhl;
        if (qhl < 20 || ql4 + 8 > end) return false;
        int qproto = Mem.u8(q + 9);
        long c = icmp + 2;
        // the quoted header's address and its header checksum
        long qa = q + (inbound ? 12 : 16);
        int oldAddr = Mem.i32(qa);
        put32(qa, addr, c);
        int qsum = Mem.u16(q + 10);
        put16(q + 10, Checksum.update32(qsum, oldAddr, addr), c);
        if (port >= 0) {
            long pa;
            long l4sum = -1;
            if (qproto == TCP || qproto == UDP) {
                pa = ql4 + (inbound ? 0 : 2);
                if (qproto == UDP && Mem.u16(ql4 + 6) != 0) l4sum = ql4 + 6;
                if (qproto == TCP && ql4 + 18 <= end) l4sum = ql4 + 16;
            } else if (qproto == ICMP) {
                pa = ql4 + 4;
                l4sum = ql4 + 2;
            } else {
                pa = -1;
            }
            if (pa >= 0) {
                int oldPort = Mem.u16(pa);
                put16(pa, port, c);
                if (l4sum >= 0) {
                    int v = Mem.u16(l4sum);
                    if (qproto != ICMP) v = Checksum.update32(v, oldAddr, addr);
                    v = Checksum.update16(v, oldPort, port);
                    if (qproto == UDP && v == 0) v = 0xFFFF;
                    put16(l4sum, v, c);
                }
            }
        }
        long oa = ip + (inbound ? 16 : 12);
        int old = Mem.i32(oa);
        Mem.put32(oa, addr);
        Checksum.update32At(ip + 10, old, addr);
        return true;
    }

    /** Writes a 16-bit word covered by the checksum at {@code sum} and updates that checksum. */
    private static void put16(long at, int v, long sum) {
        int old = Mem.u16(at);
        Mem.put16(at, v);
        Checksum.update16At(sum, old, v);
    }

    private static void put32(long at, int v, long sum) {
        int old = Mem.i32(at);
        Mem.put32(at, v);
        Checksum.update32At(sum, old, v);
    }

    /** Decrements the IPv4 TTL with the header checksum; returns the TTL before (≤ 1: expired, untouched). */
    public static int decrementTtl(long ip) {
        int word = Mem.u16(ip + 8);
        if ((word >>> 8) <= 1) return word >>> 8;
        Mem.put16(ip + 8, word - 0x100);
        Checksum.update16At(ip + 10, word, word - 0x100);
        return word >>> 8;
    }
}
