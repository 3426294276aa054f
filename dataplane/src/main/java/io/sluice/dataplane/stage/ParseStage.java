package io.sluice.dataplane.stage;

import io.sluice.dataplane.packet.ArpHeader;
import io.sluice.dataplane.packet.EthernetHeader;
import io.sluice.dataplane.packet.IcmpHeader;
import io.sluice.dataplane.packet.Ipv4Header;
import io.sluice.dataplane.packet.Ipv6ExtHeader;
import io.sluice.dataplane.packet.Ipv6Header;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.packet.TcpHeader;
import io.sluice.dataplane.packet.UdpHeader;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Parses Ethernet, up to two VLAN tags, ARP, IPv4, IPv6 (extension headers walked), ICMP,
 * ICMPv6, TCP and UDP headers in place, and records where each layer starts. It checks every
 * length it relies on; a malformed or truncated packet is dropped with a specific
 * {@link DropReason}. No allocation, no exception, no lock.
 *
 * <p><b>Uses</b> {@link Burst#data}, {@link Burst#length} of packets whose {@link Burst#next} is
 * {@link Next#CONTINUE}.
 *
 * <p><b>Sets</b>
 * <ul>
 *   <li>{@link Burst#etherType}: the EtherType after the VLAN tags;</li>
 *   <li>{@link Burst#vlan}: the outer tag's VLAN id, or -1 when untagged;</li>
 *   <li>{@link Burst#l3Offset}: offset of the ARP/IPv4/IPv6 header (set for any EtherType);</li>
 *   <li>{@link Burst#ipProto}: IPv4 protocol or IPv6 upper-layer next header (after the extension
 *       headers; 59 = no next header, 50 = ESP), -1 for non-IP;</li>
 *   <li>{@link Burst#l4Offset}: offset of the upper-layer header, or -1 for non-IP packets,
 *       non-first fragments and IPv6 "no next header";</li>
 *   <li>{@link Burst#flags}: {@link PacketFlags} BROADCAST, MULTICAST, VLAN, QINQ, ARP, IPV4,
 *       IPV6, IP_OPTIONS, IPV6_EXT, FRAGMENT, LATER_FRAGMENT, TCP, UDP, ICMP, ICMPV6;</li>
 *   <li>{@link Burst#next}/{@link Burst#dropReason} = DROP and the reason for a bad packet.</li>
 * </ul>
 * All six metadata fields are written for every packet it looks at (to their "none" values
 * first when needed), so they need not be reset before it runs.
 *
 * <p><b>What is checked</b> (in this order; the first failure is the reason):
 * <ol>
 *   <li>Ethernet: at least 14 bytes ({@code TRUNCATED_ETHERNET}), at most 32767
 *       ({@code FRAME_TOO_LONG}); each VLAN tag complete ({@code TRUNCATED_VLAN}); at most two
 *       tags ({@code TOO_MANY_VLAN_TAGS}); EtherType ARP, IPv4 or IPv6, else
 *       {@code UNSUPPORTED_ETHERTYPE}.</li>
 *   <li>ARP: 28 bytes ({@code TRUNCATED_ARP}); Ethernet/IPv4 with opcode 1 or 2 ({@code BAD_ARP}).</li>
 *   <li>IPv4: 20 bytes ({@code TRUNCATED_IPV4}); version 4; IHL &ge; 5 ({@code BAD_IPV4_IHL});
 *       total length &ge; 20 ({@code BAD_IPV4_TOTAL_LENGTH}); IHL*4 &le; total length
 *       ({@code BAD_IPV4_IHL}); total length &le; the bytes after the L2 header
 *       ({@code BAD_IPV4_TOTAL_LENGTH}, which is also how a frame cut inside the IPv4 packet shows).
 *       Ethernet padding after the total length is ignored. MF or a non-zero fragment offset sets
 *       FRAGMENT; a non-zero offset also sets LATER_FRAGMENT and stops there (no L4 header).</li>
 *   <li>IPv6: 40 bytes ({@code TRUNCATED_IPV6}); version 6; 40 + payload length &le; the bytes
 *       after the L2 header ({@code BAD_IPV6_PAYLOAD_LENGTH}); then at most
 *       {@link #MAX_IPV6_EXT_HEADERS} extension headers (hop-by-hop first only, routing, fragment,
 *       destination options, AH), each inside the payload length ({@code TRUNCATED_IPV6_EXT},
 *       {@code BAD_IPV6_EXT_ORDER}, {@code IPV6_EXT_CHAIN_TOO_LONG}). A fragment header with a
 *       non-zero offset ends the walk as a later fragment.</li>
 *   <li>L4, inside the IP payload (total length / payload length, not the frame): TCP 20 bytes
 *       ({@code TRUNCATED_TCP}) and data offset 5..(payload/4) ({@code BAD_TCP_DATA_OFFSET});
 *       UDP 8 bytes ({@code TRUNCATED_UDP}) and 8 &le; length &le; payload
 *       ({@code BAD_UDP_LENGTH}; only the lower bound for a first fragment); ICMP over IPv4 and
 *       ICMPv6 over IPv6 8 bytes ({@code TRUNCATED_ICMP}, {@code TRUNCATED_ICMPV6}). Other
 *       protocols pass with {@code l4Offset} at the start of their header.</li>
 * </ol>
 * <p><b>Multi-segment frames</b> ({@link Burst#tailLen} &gt; 0, a chain of mbufs such as a guest's
 * 64 KB TSO frame): every length check above is against the whole frame ({@code pkt_len}); in
 * addition every header it reads (Ethernet, VLAN tags, ARP, the IPv4 header with options, IPv6 and
 * its extension headers, the TCP header with options, the UDP header) and, for ICMP and ICMPv6,
 * the whole message (errors quote the offending headers, ND carries options) must lie in the first
 * segment, else {@code HEADERS_SPAN_SEGMENTS} (checked after the truncation check of the same
 * header, so a frame too short is still {@code TRUNCATED_*}). The first segment may be at most
 * 32767 bytes and the frame {@link #MAX_PACKET_LENGTH} ({@code FRAME_TOO_LONG}). Chained frames
 * always take the general path. Later stages read headers at {@code data[i]} and never payload.
 *
 * Checksums are not verified here (NICs usually do it; stages that rewrite headers update them
 * incrementally, see {@link io.sluice.dataplane.packet.Checksum}).
 */
public final class ParseStage implements Stage {
    /** Extension headers walked before giving up with {@code IPV6_EXT_CHAIN_TOO_LONG}. */
    public static final int MAX_IPV6_EXT_HEADERS = 8;
    /** VLAN tags accepted (802.1Q, or QinQ with one inner tag). */
    public static final int MAX_VLAN_TAGS = 2;
    /** Longest first segment accepted: offsets are kept in {@code short}s. */
    public static final int MAX_FRAME_LENGTH = Short.MAX_VALUE;
    /**
     * Longest multi-segment frame accepted: Ethernet, two VLAN tags, an IPv6 header and a 65535-byte
     * payload (a 64 KB GSO frame from a guest fits).
     */
    public static final int MAX_PACKET_LENGTH = 14 + 8 + 40 + 65535;

    /** Every reason this stage drops with (and no other). */
    public static final Set<DropReason> REASONS = Collections.unmodifiableSet(EnumSet.of(
            DropReason.TRUNCATED_ETHERNET, DropReason.FRAME_TOO_LONG, DropReason.TRUNCATED_VLAN,
            DropReason.TOO_MANY_VLAN_TAGS, DropReason.UNSUPPORTED_ETHERTYPE,
            DropReason.TRUNCATED_ARP, DropReason.BAD_ARP,
            DropReason.TRUNCATED_IPV4, DropReason.BAD_IPV4_VERSION, DropReason.BAD_IPV4_IHL,
            DropReason.BAD_IPV4_TOTAL_LENGTH,
            DropReason.TRUNCATED_IPV6, DropReason.BAD_IPV6_VERSION, DropReason.BAD_IPV6_PAYLOAD_LENGTH,
            DropReason.TRUNCATED_IPV6_EXT, DropReason.BAD_IPV6_EXT_ORDER, DropReason.IPV6_EXT_CHAIN_TOO_LONG,
            DropReason.TRUNCATED_TCP, DropReason.BAD_TCP_DATA_OFFSET,
            DropReason.TRUNCATED_UDP, DropReason.BAD_UDP_LENGTH,
            DropReason.TRUNCATED_ICMP, DropReason.TRUNCATED_ICMPV6, DropReason.HEADERS_SPAN_SEGMENTS));

    /**
     * Parses every {@code CONTINUE} packet. The common case is handled inline, in this loop
     * (C2 will not inline a method this size into it, and the call costs about as much as the
     * checks): an untagged frame to a unicast MAC carrying IPv4 without options or fragmentation,
     * or IPv6 without extension headers, with a well-formed TCP or UDP header. Its metadata is
     * set only when the packet is exactly that, after the same checks as {@link #parse}; every
     * other packet is left untouched for {@link #parse}, which starts from scratch.
     * {@code ParseStageTest} holds the two paths equal on mutated frames.
     */
    @Override
    public int process(Burst b) {
        final int n = b.count;
        final byte[] next = b.next;
        final long[] data = b.data;
        final int[] length = b.length;
        final int[] tail = b.tailLen;
        int parsed = 0;
        for (int i = 0; i < n; i++) {
            if (next[i] != Next.CONTINUE) {
                continue;
            }
            parsed++;
            final long base = data[i];
            final int len = length[i];
            fast:
            {
                if (len < EthernetHeader.LENGTH + Ipv4Header.MIN_LENGTH + UdpHeader.LENGTH || len > MAX_FRAME_LENGTH
                        || tail[i] != 0                                                  // chained: general path
                        || (Mem.u8(base) & 1) != 0) {                                // group destination MAC
                    break fast;
                }
                // bytes 12..19: EtherType, then IPv4 version/IHL, TOS, total length, id / IPv6 version, class, flow
                final long w = Mem.i64(base + EthernetHeader.ETHER_TYPE_OFFSET);
                final int avail = len - EthernetHeader.LENGTH;
                int proto;
                int l4avail;
                int l4off;
                int flag;
                if ((w & 0xFFFF_FF00_0000_0000L) == 0x0800_4500_0000_0000L) {         // IPv4, version 4, IHL 5
                    int total = (int) (w >>> 16) & 0xFFFF;
                    // bytes 20..23: flags/fragment offset, TTL, protocol
                    int v = Mem.i32(base + EthernetHeader.LENGTH + Ipv4Header.FRAGMENT_OFFSET);
                    if ((v & 0x3FFF_0000) != 0 || total < Ipv4Header.MIN_LENGTH || total > avail) {   // MF/offset: fragment
                        break fast;
                    }
                    proto = v & 0xFF;
                    l4avail = total - Ipv4Header.MIN_LENGTH;
                    l4off = EthernetHeader.LENGTH + Ipv4Header.MIN_LENGTH;
                    flag = PacketFlags.IPV4;
                } else if ((w & 0xFFFF_F000_0000_0000L) == 0x86DD_6000_0000_0000L) {  // IPv6, version 6
                    if (avail < Ipv6Header.LENGTH + UdpHeader.LENGTH) {
                        break fast;
                    }
                    l4avail = Mem.u16(base + EthernetHeader.LENGTH + Ipv6Header.PAYLOAD_LENGTH_OFFSET);
                    if (Ipv6Header.LENGTH + l4avail > avail) {
                        break fast;
                    }
                    proto = Mem.u8(base + EthernetHeader.LENGTH + Ipv6Header.NEXT_HEADER_OFFSET);
                    l4off = EthernetHeader.LENGTH + Ipv6Header.LENGTH;
                    flag = PacketFlags.IPV6;
                } else {
                    break fast;
                }
                final long l4 = base + l4off;
                if (proto == Ipv4Header.PROTO_TCP) {
                    if (l4avail < TcpHeader.MIN_LENGTH) {
                        break fast;
                    }
                    int thl = TcpHeader.headerLength(l4);
                    if (thl < TcpHeader.MIN_LENGTH || thl > l4avail) {
                        break fast;
                    }
                    flag |= PacketFlags.TCP;
                } else if (proto == Ipv4Header.PROTO_UDP) {
                    if (l4avail < UdpHeader.LENGTH) {
                        break fast;
                    }
                    int ulen = Mem.u16(l4 + UdpHeader.LENGTH_OFFSET);
                    if (ulen < UdpHeader.LENGTH || ulen > l4avail) {
                        break fast;
                    }
                    flag |= PacketFlags.UDP;
                } else {
                    break fast;
                }
                b.etherType[i] = (short) (w >>> 48);
                b.vlan[i] = -1;
                b.l3Offset[i] = (short) EthernetHeader.LENGTH;
                b.l4Offset[i] = (short) l4off;
                b.ipProto[i] = (short) proto;
                b.flags[i] = flag;
                continue;
            }
            DropReason r = parse(b, i);
            if (r != DropReason.NONE) {
                b.drop(i, r);
            }
        }
        return parsed;
    }

    /** The general path, for tests: parses packet {@code i} as if the inline fast path did not exist. */
    static DropReason parseSlowPath(Burst b, int i) {
        return parse(b, i);
    }

    @Override
    public String name() {
        return "parse";
    }

    /** Parses packet {@code i} and fills its metadata; returns NONE or the drop reason. */
    static DropReason parse(Burst b, int i) {
        final long base = b.data[i];
        final int len = b.length[i];
        final int head = len - b.tailLen[i];
        b.etherType[i] = 0;
        b.vlan[i] = -1;
        b.l3Offset[i] = -1;
        b.l4Offset[i] = -1;
        b.ipProto[i] = -1;
        b.flags[i] = 0;
        if (len < EthernetHeader.LENGTH) {
            return DropReason.TRUNCATED_ETHERNET;
        }
        if (head > MAX_FRAME_LENGTH || len > MAX_PACKET_LENGTH || head < 0) {
            return DropReason.FRAME_TOO_LONG;
        }
        if (head < EthernetHeader.LENGTH) {
            return DropReason.HEADERS_SPAN_SEGMENTS;
        }
        int flags = 0;
        long dst = Mem.mac(base + EthernetHeader.DST_OFFSET);
        if (EthernetHeader.isGroup(dst)) {
            flags |= dst == EthernetHeader.BROADCAST_MAC ? PacketFlags.BROADCAST : PacketFlags.MULTICAST;
        }
        int off = EthernetHeader.LENGTH;
        int type = Mem.u16(base + EthernetHeader.ETHER_TYPE_OFFSET);
        int tags = 0;
        while (EthernetHeader.isVlanTpid(type)) {
            if (tags == MAX_VLAN_TAGS) {
                b.flags[i] = flags;
                return DropReason.TOO_MANY_VLAN_TAGS;
            }
            if (len - off < 4) {
                b.flags[i] = flags;
                return DropReason.TRUNCATED_VLAN;
            }
            if (head - off < 4) {
                b.flags[i] = flags;
                return DropReason.HEADERS_SPAN_SEGMENTS;
            }
            if (tags == 0) {
                b.vlan[i] = (short) (Mem.u16(base + off) & 0x0FFF);
                flags |= PacketFlags.VLAN;
            } else {
                flags |= PacketFlags.QINQ;
            }
            type = Mem.u16(base + off + 2);
            off += 4;
            tags++;
        }
        b.etherType[i] = (short) type;
        b.l3Offset[i] = (short) off;
        b.flags[i] = flags;
        switch (type) {
            case EthernetHeader.TYPE_IPV4:
                return ipv4(b, i, base, off, len - off, head, flags | PacketFlags.IPV4);
            case EthernetHeader.TYPE_IPV6:
                return ipv6(b, i, base, off, len - off, head, flags | PacketFlags.IPV6);
            case EthernetHeader.TYPE_ARP:
                b.flags[i] = flags | PacketFlags.ARP;
                return arp(base + off, len - off, head - off);
            default:
                return DropReason.UNSUPPORTED_ETHERTYPE;
        }
    }

    private static DropReason arp(long arp, int avail, int inHead) {
        if (avail < ArpHeader.LENGTH) {
            return DropReason.TRUNCATED_ARP;
        }
        if (inHead < ArpHeader.LENGTH) {
            return DropReason.HEADERS_SPAN_SEGMENTS;
        }
        int op = Mem.u16(arp + ArpHeader.OPER_OFFSET);
        if (Mem.u16(arp + ArpHeader.HTYPE_OFFSET) != ArpHeader.HTYPE_ETHERNET
                || Mem.u16(arp + ArpHeader.PTYPE_OFFSET) != EthernetHeader.TYPE_IPV4
                || Mem.u8(arp + ArpHeader.HLEN_OFFSET) != 6
                || Mem.u8(arp + ArpHeader.PLEN_OFFSET) != 4
                || (op != ArpHeader.OPER_REQUEST && op != ArpHeader.OPER_REPLY)) {
            return DropReason.BAD_ARP;
        }
        return DropReason.NONE;
    }

    private static DropReason ipv4(Burst b, int i, long base, int l3, int avail, int head, int flags) {
        b.flags[i] = flags;
        if (avail < Ipv4Header.MIN_LENGTH) {
            return DropReason.TRUNCATED_IPV4;
        }
        if (head - l3 < Ipv4Header.MIN_LENGTH) {
            return DropReason.HEADERS_SPAN_SEGMENTS;
        }
        long ip = base + l3;
        int vihl = Mem.u8(ip);
        if ((vihl >>> 4) != 4) {
            return DropReason.BAD_IPV4_VERSION;
        }
        int hl = (vihl & 0x0F) << 2;
        if (hl < Ipv4Header.MIN_LENGTH) {
            return DropReason.BAD_IPV4_IHL;
        }
        int total = Mem.u16(ip + Ipv4Header.TOTAL_LENGTH_OFFSET);
        if (total < Ipv4Header.MIN_LENGTH) {
            return DropReason.BAD_IPV4_TOTAL_LENGTH;
        }
        if (hl > total) {
            return DropReason.BAD_IPV4_IHL;
        }
        if (total > avail) {
            return DropReason.BAD_IPV4_TOTAL_LENGTH;
        }
        if (l3 + hl > head) {
            return DropReason.HEADERS_SPAN_SEGMENTS; // options in the next segment
        }
        if (hl > Ipv4Header.MIN_LENGTH) {
            flags |= PacketFlags.IP_OPTIONS;
        }
        int proto = Mem.u8(ip + Ipv4Header.PROTOCOL_OFFSET);
        b.ipProto[i] = (short) proto;
        int frag = Mem.u16(ip + Ipv4Header.FRAGMENT_OFFSET);
        boolean fragment = false;
        if ((frag & (Ipv4Header.FLAG_MF | Ipv4Header.FRAGMENT_OFFSET_MASK)) != 0) {
            flags |= PacketFlags.FRAGMENT;
            fragment = true;
            if ((frag & Ipv4Header.FRAGMENT_OFFSET_MASK) != 0) {
                b.flags[i] = flags | PacketFlags.LATER_FRAGMENT;
                return DropReason.NONE;
            }
        }
        b.flags[i] = flags;
        switch (proto) {
            case Ipv4Header.PROTO_ICMP:
                if (total - hl < IcmpHeader.LENGTH) {
                    return DropReason.TRUNCATED_ICMP;
                }
                if (l3 + total > head) {
                    return DropReason.HEADERS_SPAN_SEGMENTS; // ICMP (errors quote headers): one segment
                }
                b.flags[i] = flags | PacketFlags.ICMP;
                b.l4Offset[i] = (short) (l3 + hl);
                return DropReason.NONE;
            default:
                return l4(b, i, base, proto, l3 + hl, total - hl, head, fragment, flags);
        }
    }

    private static DropReason ipv6(Burst b, int i, long base, int l3, int avail, int head, int flags) {
        b.flags[i] = flags;
        if (avail < Ipv6Header.LENGTH) {
            return DropReason.TRUNCATED_IPV6;
        }
        if (head - l3 < Ipv6Header.LENGTH) {
            return DropReason.HEADERS_SPAN_SEGMENTS;
        }
        long ip = base + l3;
        if ((Mem.u8(ip) >>> 4) != 6) {
            return DropReason.BAD_IPV6_VERSION;
        }
        int payload = Mem.u16(ip + Ipv6Header.PAYLOAD_LENGTH_OFFSET);
        if (Ipv6Header.LENGTH + payload > avail) {
            return DropReason.BAD_IPV6_PAYLOAD_LENGTH;
        }
        int nh = Mem.u8(ip + Ipv6Header.NEXT_HEADER_OFFSET);
        int p = l3 + Ipv6Header.LENGTH;          // offset from base of the current header
        final int end = p + payload;             // offset from base of the end of the IPv6 payload
        boolean fragment = false;
        for (int walked = 0; ; walked++) {
            int hlen;
            switch (nh) {
                case Ipv6Header.NH_HOP_BY_HOP:
                    if (walked != 0) {
                        b.flags[i] = flags;
                        return DropReason.BAD_IPV6_EXT_ORDER;
                    }
                    // fall through
                case Ipv6Header.NH_ROUTING:
                case Ipv6Header.NH_DEST_OPTS:
                case Ipv6Header.NH_AH:
                case Ipv6Header.NH_FRAGMENT:
                    break;
                case Ipv6Header.NH_NONE:
                    b.flags[i] = flags;
                    b.ipProto[i] = (short) nh;
                    return DropReason.NONE;
                default:
                    b.flags[i] = flags;
                    b.ipProto[i] = (short) nh;
                    if (nh == Ipv6Header.NH_ICMPV6) {
                        if (end - p < IcmpHeader.LENGTH) {
                            return DropReason.TRUNCATED_ICMPV6;
                        }
                        if (end > head) {
                            return DropReason.HEADERS_SPAN_SEGMENTS; // ICMPv6 (errors, ND): one segment
                        }
                        b.flags[i] = flags | PacketFlags.ICMPV6;
                        b.l4Offset[i] = (short) p;
                        return DropReason.NONE;
                    }
                    return l4(b, i, base, nh, p, end - p, head, fragment, flags);
            }
            // an extension header at p
            flags |= PacketFlags.IPV6_EXT;
            if (walked == MAX_IPV6_EXT_HEADERS) {
                b.flags[i] = flags;
                return DropReason.IPV6_EXT_CHAIN_TOO_LONG;
            }
            if (end - p < Ipv6ExtHeader.MIN_LENGTH) {
                b.flags[i] = flags;
                return DropReason.TRUNCATED_IPV6_EXT;
            }
            if (head - p < Ipv6ExtHeader.MIN_LENGTH) {
                b.flags[i] = flags;
                return DropReason.HEADERS_SPAN_SEGMENTS;
            }
            long h = base + p;
            if (nh == Ipv6Header.NH_FRAGMENT) {
                hlen = Ipv6ExtHeader.FRAGMENT_LENGTH;
                flags |= PacketFlags.FRAGMENT;
                fragment = true;
                if ((Mem.u16(h + Ipv6ExtHeader.FRAGMENT_OFFSET_OFFSET) >>> Ipv6ExtHeader.FRAGMENT_OFFSET_SHIFT) != 0) {
                    b.flags[i] = flags | PacketFlags.LATER_FRAGMENT;
                    b.ipProto[i] = (short) Mem.u8(h);
                    return DropReason.NONE;
                }
            } else if (nh == Ipv6Header.NH_AH) {
                hlen = Ipv6ExtHeader.ahLength(h);
            } else {
                hlen = Ipv6ExtHeader.optionsLength(h);
            }
            if (hlen > end - p) {
                b.flags[i] = flags;
                return DropReason.TRUNCATED_IPV6_EXT;
            }
            if (hlen > head - p) {
                b.flags[i] = flags;
                return DropReason.HEADERS_SPAN_SEGMENTS;
            }
            nh = Mem.u8(h + Ipv6ExtHeader.NEXT_HEADER_OFFSET);
            p += hlen;
        }
    }

    /** TCP, UDP or another upper layer at offset {@code l4} with {@code avail} bytes of IP payload. */
    private static DropReason l4(Burst b, int i, long base, int proto, int l4, int avail, int head, boolean fragment, int flags) {
        long h = base + l4;
        switch (proto) {
            case Ipv4Header.PROTO_TCP: {
                if (avail < TcpHeader.MIN_LENGTH) {
                    return DropReason.TRUNCATED_TCP;
                }
                if (head - l4 < TcpHeader.MIN_LENGTH) {
                    return DropReason.HEADERS_SPAN_SEGMENTS;
                }
                int thl = TcpHeader.headerLength(h);
                if (thl < TcpHeader.MIN_LENGTH || thl > avail) {
                    return DropReason.BAD_TCP_DATA_OFFSET;
                }
                if (thl > head - l4) {
                    return DropReason.HEADERS_SPAN_SEGMENTS; // options in the next segment
                }
                b.flags[i] = flags | PacketFlags.TCP;
                break;
            }
            case Ipv4Header.PROTO_UDP: {
                if (avail < UdpHeader.LENGTH) {
                    return DropReason.TRUNCATED_UDP;
                }
                if (head - l4 < UdpHeader.LENGTH) {
                    return DropReason.HEADERS_SPAN_SEGMENTS;
                }
                int ulen = Mem.u16(h + UdpHeader.LENGTH_OFFSET);
                if (ulen < UdpHeader.LENGTH || (!fragment && ulen > avail)) {
                    return DropReason.BAD_UDP_LENGTH;
                }
                b.flags[i] = flags | PacketFlags.UDP;
                break;
            }
            default:
                break;
        }
        b.l4Offset[i] = (short) l4;
        return DropReason.NONE;
    }
}
