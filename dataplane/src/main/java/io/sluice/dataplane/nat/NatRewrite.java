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
        long a = ip + (src ? 12 : 16);
        int old = Mem.i32(a);
        Mem.put32(a, addr);
        Checksum.update32At(ip + 10, old, addr);
        if (l4 < 0) return;
        if (proto == TCP) {
            long c = l4 + 16;
            Checksum.update32At(c, old, addr);
            if (port >= 0) {
                long pa = l4 + (src ? 0 : 2);
                int op = Mem.u16(pa);
                Mem.put16(pa, port);
                Checksum.update16At(c, op, port);
            }
        } else if (proto == UDP) {
            long c = l4 + 6;
            boolean none = Mem.u16(c) == 0;
            if (!none) Checksum.update32At(c, old, addr);
            if (port >= 0) {
                long pa = l4 + (src ? 0 : 2);
                int op = Mem.u16(pa);
                Mem.put16(pa, port);
                if (!none) Checksum.update16At(c, op, port);
            }
            if (!none && Mem.u16(c) == 0) Mem.put16(c, 0xFFFF);
        } else if (proto == ICMP && port >= 0) {
            int type = Mem.u8(l4);
            if (type == 0 || type == 8) {
                int op = Mem.u16(l4 + 4);
                Mem.put16(l4 + 4, port);
                Checksum.update16At(l4 + 2, op, port);
            }
        }
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
