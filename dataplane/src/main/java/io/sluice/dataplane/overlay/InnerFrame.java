package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.PacketFlags;

/**
 * Minimal parse of a decapsulated inner frame: fills the parser fields of {@link Burst}
 * (etherType, l3Offset, l4Offset, ipProto, flags, vlan) so the stages after decap see the inner
 * packet exactly as they would see one from a local port. Checks only what the overlay stages
 * rely on (header lengths inside the frame); IPv6 extension headers are not walked
 * ({@code l4Offset = -1}). The lead may replace this by running the parse stage on the inner
 * frame.
 */
final class InnerFrame {
    private InnerFrame() {}

    /**
     * For a multi-segment packet parsed by {@link #parse}: whether every inner header the stages read
     * (Ethernet, the IP header, the TCP/UDP header, a whole ICMP/ICMPv6 message, or the ARP body) is in
     * the first segment ({@link Burst#headLen}).
     */
    static boolean inHead(Burst b, int i) {
        int head = b.headLen(i);
        long d = b.data[i];
        int l3 = b.l3Offset[i];
        int fl = b.flags[i];
        if ((fl & PacketFlags.ARP) != 0) return l3 + 28 <= head;
        int need;
        if ((fl & PacketFlags.IPV4) != 0) {
            if (l3 + 20 > head) return false;
            need = l3 + ((Mem.u8(d + l3) & 0xF) << 2);
            if ((fl & PacketFlags.ICMP) != 0) need = l3 + Mem.u16(d + l3 + 2);
        } else if ((fl & PacketFlags.IPV6) != 0) {
            need = l3 + 40;
            if (need <= head && (fl & PacketFlags.ICMPV6) != 0) need = l3 + 40 + Mem.u16(d + l3 + 4);
        } else {
            need = l3;
        }
        int l4 = b.l4Offset[i];
        if (need <= head && l4 >= 0) {
            if ((fl & PacketFlags.TCP) != 0) {
                need = Math.max(need, l4 + 20);
                if (need <= head) need = Math.max(need, l4 + ((Mem.u8(d + l4 + 12) >>> 4) << 2));
            } else if ((fl & PacketFlags.UDP) != 0) {
                need = Math.max(need, l4 + 8);
            }
        }
        return need <= head;
    }

    /** Parses slot i (data/length already point at the inner frame). Returns NONE or a drop reason. */
    static OverlayDrop parse(Burst b, int i) {
        long d = b.data[i];
        int len = b.length[i];
        b.vlan[i] = -1;
        b.l3Offset[i] = Net.ETH_LEN;
        b.l4Offset[i] = -1;
        b.ipProto[i] = -1;
        if (len < Net.ETH_LEN) {
            return OverlayDrop.VXLAN_BAD_INNER;
        }
        int et = Mem.u16(d + 12);
        b.etherType[i] = (short) et;
        long dstMac = Mem.i64(d) >>> 16; // len >= 14
        int flags = dstMac == Net.BROADCAST_MAC ? PacketFlags.BROADCAST
                : (dstMac & 0x0100_0000_0000L) != 0 ? PacketFlags.MULTICAST : 0;
        return et == Net.ETHERTYPE_IPV4 ? ipv4(b, i, d, len, flags) : other(b, i, d, len, et, flags);
    }

    /*
     * parse is split so that the JIT inlines the common case into the decap stage: parse and ipv4 are each
     * under the size up to which a hot method is inlined (FreqInlineSize, 325 bytecodes); IPv6, ARP and
     * the rest stay a call.
     */

    /** The inner frame is IPv4 (EtherType 0x0800). */
    private static OverlayDrop ipv4(Burst b, int i, long d, int len, int flags) {
        long ip = d + Net.ETH_LEN;
        if (len < Net.ETH_LEN + 20) {
            return OverlayDrop.VXLAN_BAD_INNER;
        }
        long w = Mem.i64(ip); // version/IHL, DSCP/ECN, total length, identification, flags/fragment offset
        int vihl = (int) (w >>> 56) & 0xFF;
        int ihl = (vihl & 0xF) * 4;
        int total = (int) (w >>> 32) & 0xFFFF;
        if ((vihl >>> 4) != 4 || ihl < 20 || total < ihl || Net.ETH_LEN + total > len) {
            return OverlayDrop.VXLAN_BAD_INNER;
        }
        flags |= PacketFlags.IPV4;
        if (ihl > 20) {
            flags |= PacketFlags.IP_OPTIONS;
        }
        int frag = (int) w & 0xFFFF;
        if ((frag & 0x3FFF) != 0) {
            flags |= PacketFlags.FRAGMENT;
        }
        int proto = Mem.u8(ip + 9);
        b.ipProto[i] = (short) proto;
        if ((frag & 0x1FFF) != 0) {
            flags |= PacketFlags.LATER_FRAGMENT;
        } else {
            flags |= l4Flags(proto, total - ihl);
            b.l4Offset[i] = (short) (Net.ETH_LEN + ihl);
        }
        b.flags[i] = flags;
        return OverlayDrop.NONE;
    }

    /** The inner frame is not IPv4: IPv6, ARP, or unsupported. */
    private static OverlayDrop other(Burst b, int i, long d, int len, int et, int flags) {
        long ip = d + Net.ETH_LEN;
        if (et == Net.ETHERTYPE_IPV6) {
            if (len < Net.ETH_LEN + 40 || (Mem.u8(ip) >>> 4) != 6 || Net.ETH_LEN + 40 + Mem.u16(ip + 4) > len) {
                return OverlayDrop.VXLAN_BAD_INNER;
            }
            flags |= PacketFlags.IPV6;
            int nh = Mem.u8(ip + 6);
            b.ipProto[i] = (short) nh;
            int f = l4Flags(nh, Mem.u16(ip + 4));
            if (f != 0) {
                flags |= f;
                b.l4Offset[i] = (short) (Net.ETH_LEN + 40);
            }
        } else if (et == Net.ETHERTYPE_ARP) {
            if (len < Net.ETH_LEN + 28) {
                return OverlayDrop.VXLAN_BAD_INNER;
            }
            flags |= PacketFlags.ARP;
        } else {
            b.flags[i] = flags;
            return OverlayDrop.UNSUPPORTED_ETHERTYPE;
        }
        b.flags[i] = flags;
        return OverlayDrop.NONE;
    }

    /** L4 flag for a protocol when its header fits in {@code avail} bytes, else 0. */
    private static int l4Flags(int proto, int avail) {
        switch (proto) {
            case 6: return avail >= 20 ? PacketFlags.TCP : 0;
            case 17: return avail >= 8 ? PacketFlags.UDP : 0;
            case 1: return avail >= 8 ? PacketFlags.ICMP : 0;
            case 58: return avail >= 8 ? PacketFlags.ICMPV6 : 0;
            default: return 0;
        }
    }
}
