package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.PacketFlags;

/**
 * Builds ICMP / ICMPv6 errors in place, over the offending packet, addressed back to its
 * sender from the gateway of the sender's subnet. No copy of the quoted packet: the new
 * Ethernet + IP + ICMP headers are written in the bytes just before the original IP header
 * ({@code data} moves back 28 bytes for IPv4, 48 for IPv6 — inside the 128-byte headroom DPDK
 * guarantees; a decapsulated packet has 50 more).
 *
 * <p>IPv4 quotes up to 548 bytes of the original (576-byte limit of RFC 1812), IPv6 up to
 * 1232 (1280-byte minimum MTU). No error is built (returns false) about an ICMP error, a
 * non-first fragment, a packet with a VLAN tag or a non-unicast/unspecified source, or an
 * IPv6 packet when the subnet has no IPv6 gateway (RFC 1122 4.3.2.7, RFC 4443 2.4(e)).
 */
final class IcmpErrors {
    static final int V4_TIME_EXCEEDED = 11;
    static final int V4_UNREACHABLE = 3;
    static final int V4_FRAG_NEEDED = 4;
    static final int V6_PACKET_TOO_BIG = 2;
    static final int V6_TIME_EXCEEDED = 3;

    private IcmpErrors() {}

    /**
     * Replaces packet i by an ICMPv4 error of {@code type}/{@code code}; {@code mtu} goes into
     * the next-hop MTU field (0 for time exceeded). Returns false when no error may be sent.
     */
    static boolean ipv4(Burst b, int i, OverlaySnapshot s, int srcVm, int type, int code, int mtu) {
        long d = b.data[i];
        if (b.l3Offset[i] != Net.ETH_LEN || (b.flags[i] & PacketFlags.LATER_FRAGMENT) != 0) {
            return false;
        }
        long ip = d + Net.ETH_LEN;
        int ihl = (Mem.u8(ip) & 0xF) * 4;
        int total = Mem.u16(ip + 2);
        if (Mem.u8(ip + 9) == 1 && ihl + 8 <= total && isIcmpError(Mem.u8(ip + ihl))) {
            return false;
        }
        int src = Mem.i32(ip + 12);
        if (src == 0 || (src >>> 28) == 0xE || src == -1) {
            return false;
        }
        int quote = Math.min(Math.min(total, 548), b.headLen(i) - Net.ETH_LEN); // never beyond the first segment
        long srcMac = Mem.mac(d + 6);
        long n = d - 28;
        Mem.putMac(n, srcMac);
        Mem.putMac(n + 6, s.routerMac);
        Mem.put16(n + 12, Net.ETHERTYPE_IPV4);
        long h = n + 14;
        Mem.put32(h, 0x45C0_0000 | (20 + 8 + quote));
        Mem.put32(h + 4, 0);
        Mem.put32(h + 8, (64 << 24) | (1 << 16));
        Mem.put32(h + 12, s.subnetGateway[s.vmSubnet[srcVm]]);
        Mem.put32(h + 16, src);
        Mem.put16(h + 10, Net.checksum(h, 20));
        long icmp = h + 20;
        Mem.put8(icmp, type);
        Mem.put8(icmp + 1, code);
        Mem.put16(icmp + 2, 0);
        Mem.put16(icmp + 4, 0);
        Mem.put16(icmp + 6, mtu);
        Mem.put16(icmp + 2, Net.checksum(icmp, 8 + quote));
        b.data[i] = n;
        b.rewritten(i, 42 + quote);
        b.etherType[i] = (short) Net.ETHERTYPE_IPV4;
        b.l3Offset[i] = Net.ETH_LEN;
        b.l4Offset[i] = 34;
        b.ipProto[i] = 1;
        b.flags[i] = PacketFlags.IPV4 | PacketFlags.ICMP;
        return true;
    }

    /** Replaces packet i by an ICMPv6 error; {@code mtu} for packet too big (0 otherwise). */
    static boolean ipv6(Burst b, int i, OverlaySnapshot s, int srcVm, int type, int mtu) {
        long d = b.data[i];
        int sub = s.vmSubnet[srcVm];
        if (b.l3Offset[i] != Net.ETH_LEN || !s.subnetHas6[sub]) {
            return false;
        }
        long ip = d + Net.ETH_LEN;
        if (Mem.u8(ip + 6) == 58 && b.l4Offset[i] == Net.ETH_LEN + 40 && Mem.u8(ip + 40) < 128) {
            return false; // ICMPv6 error messages are types 0..127
        }
        long srcHi = Mem.i64(ip + 8);
        long srcLo = Mem.i64(ip + 16);
        if ((srcHi == 0 && srcLo == 0) || (srcHi >>> 56) == 0xFF) {
            return false;
        }
        int quote = Math.min(Math.min(40 + Mem.u16(ip + 4), 1232), b.headLen(i) - Net.ETH_LEN); // never beyond the first segment
        long srcMac = Mem.mac(d + 6);
        long n = d - 48;
        Mem.putMac(n, srcMac);
        Mem.putMac(n + 6, s.routerMac);
        Mem.put16(n + 12, Net.ETHERTYPE_IPV6);
        long h = n + 14;
        Mem.put32(h, 0x6000_0000);
        Mem.put32(h + 4, ((8 + quote) << 16) | (58 << 8) | 64);
        putIp6(h + 8, s.subnetGw6Hi[sub], s.subnetGw6Lo[sub]);
        putIp6(h + 24, srcHi, srcLo);
        long icmp = h + 40;
        Mem.put8(icmp, type);
        Mem.put8(icmp + 1, 0);
        Mem.put16(icmp + 2, 0);
        Mem.put32(icmp + 4, mtu);
        Mem.put16(icmp + 2, Net.fold(Net.sum16(icmp, 8 + quote, Net.ipv6PseudoSum(h, 8 + quote, 58))));
        b.data[i] = n;
        b.rewritten(i, 62 + quote);
        b.etherType[i] = (short) Net.ETHERTYPE_IPV6;
        b.l3Offset[i] = Net.ETH_LEN;
        b.l4Offset[i] = 54;
        b.ipProto[i] = 58;
        b.flags[i] = PacketFlags.IPV6 | PacketFlags.ICMPV6;
        return true;
    }

    static void putIp6(long a, long hi, long lo) {
        Mem.put32(a, (int) (hi >>> 32));
        Mem.put32(a + 4, (int) hi);
        Mem.put32(a + 8, (int) (lo >>> 32));
        Mem.put32(a + 12, (int) lo);
    }

    private static boolean isIcmpError(int type) {
        return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    }
}
