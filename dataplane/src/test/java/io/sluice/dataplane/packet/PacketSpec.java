package io.sluice.dataplane.packet;

import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.PacketFlags;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Test utility: describes a frame layer by layer (outside in) and builds its bytes together with
 * what a correct parser must report for it — the metadata of the whole frame, and for a frame cut
 * at any byte, the drop reason. The oracle is derived from how the frame was built, not from the
 * parser. Build bytes with {@link #build()}, put them in native memory with {@link NativeFrames}.
 */
public final class PacketSpec {
    public enum L3 { ARP, IPV4, IPV6, OTHER }

    /** Bytes {@code [start, end)} of a frame; a frame cut inside them is dropped with {@code reason}. */
    public record Segment(int start, int end, DropReason reason) {}

    /**
     * A built frame and its oracle.
     *
     * @param frameCuts segments for a frame cut short with its headers unchanged
     * @param ipCuts    segments for a frame cut short whose IP length field was fixed to match
     *                  (applies to cuts at or after {@code ipFixedEnd})
     * @param ipLengthOffset offset of the IPv4 total length / IPv6 payload length field, or -1
     * @param ipLengthBase   what to subtract from a cut length to get the IP length field value
     * @param ipFixedEnd     end of the fixed IP header (l3 + 20 or l3 + 40)
     * @param extOffsets     offsets of the IPv6 extension headers (length byte at +1)
     * @param extTypes       their types
     * @param ipPayloadEnd   end of the IP packet (= frame length unless padded)
     */
    public record Built(String name, byte[] bytes, int etherType, int vlan, int l3Offset, int l4Offset,
                        int ipProto, int flags, List<Segment> frameCuts, List<Segment> ipCuts,
                        int ipLengthOffset, int ipLengthBase, int ipFixedEnd, int[] extOffsets, int[] extTypes,
                        int ipPayloadEnd) {
        /** The reason for a cut at {@code cut} bytes: the first segment the cut falls before the end of. */
        public DropReason cutReason(List<Segment> segs, int cut) {
            for (Segment s : segs) {
                if (cut < s.end) {
                    return s.reason;
                }
            }
            return DropReason.NONE;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private String name = "frame";
    private long dst = 0x02_00_00_00_00_02L;
    private long src = 0x02_00_00_00_00_01L;
    private final List<int[]> tags = new ArrayList<>();
    private L3 l3 = L3.IPV4;
    private int otherType = 0x88CC;
    private int arpOp = 1;
    private long arpSha = 0x02_00_00_00_00_01L;
    private int arpSpa = 0x0A000001;
    private long arpTha = 0;
    private int arpTpa = 0x0A000002;
    private int ipv4Options;
    private boolean mf;
    private int fragOffset8;
    private final List<int[]> ext = new ArrayList<>(); // {type, length, fragOffset8, more}
    private int proto = 6;
    private int tcpOptions;
    private int payload = 10;
    private int pad;

    public static PacketSpec frame(String name) {
        PacketSpec s = new PacketSpec();
        s.name = name;
        return s;
    }

    public PacketSpec dst(long mac) { dst = mac; return this; }
    public PacketSpec src(long mac) { src = mac; return this; }
    public PacketSpec vlan(int tpid, int vid) { tags.add(new int[] {tpid, vid}); return this; }
    public PacketSpec arp(int op, long sha, int spa, long tha, int tpa) {
        l3 = L3.ARP; arpOp = op; arpSha = sha; arpSpa = spa; arpTha = tha; arpTpa = tpa; return this;
    }
    public PacketSpec ipv4(int proto) { l3 = L3.IPV4; this.proto = proto; return this; }
    public PacketSpec ipv6(int proto) { l3 = L3.IPV6; this.proto = proto; return this; }
    public PacketSpec other(int etherType) { l3 = L3.OTHER; otherType = etherType; return this; }
    public PacketSpec ipv4Options(int bytes) { ipv4Options = bytes; return this; }
    public PacketSpec fragment(int offset8, boolean more) { fragOffset8 = offset8; mf = more; return this; }
    /** An IPv6 extension header (0, 43, 60: multiple of 8; 51: multiple of 4, &ge; 12). */
    public PacketSpec ext(int type, int length) { ext.add(new int[] {type, length, 0, 0}); return this; }
    public PacketSpec ext6Fragment(int offset8, boolean more) { ext.add(new int[] {44, 8, offset8, more ? 1 : 0}); return this; }
    public PacketSpec tcpOptions(int bytes) { tcpOptions = bytes; return this; }
    public PacketSpec payload(int bytes) { payload = bytes; return this; }
    /** Ethernet padding after the IP packet. */
    public PacketSpec pad(int bytes) { pad = bytes; return this; }

    public Built build() {
        ByteBuffer bb = ByteBuffer.allocate(4096);
        List<Segment> frameCuts = new ArrayList<>();
        List<Segment> ipCuts = new ArrayList<>();
        int flags = 0;
        if (EthernetHeader.isGroup(dst)) {
            flags |= dst == EthernetHeader.BROADCAST_MAC ? PacketFlags.BROADCAST : PacketFlags.MULTICAST;
        }
        putMac(bb, dst);
        putMac(bb, src);
        frameCuts.add(new Segment(0, 14, DropReason.TRUNCATED_ETHERNET));
        int vlan = -1;
        for (int t = 0; t < tags.size(); t++) {
            bb.putShort((short) tags.get(t)[0]);
            frameCuts.add(new Segment(12 + 4 * t + 2, 12 + 4 * t + 6, DropReason.TRUNCATED_VLAN));
            bb.putShort((short) tags.get(t)[1]);
            if (t == 0) {
                vlan = tags.get(t)[1] & 0xFFF;
                flags |= PacketFlags.VLAN;
            } else {
                flags |= PacketFlags.QINQ;
            }
        }
        int etherType = switch (l3) {
            case ARP -> EthernetHeader.TYPE_ARP;
            case IPV4 -> EthernetHeader.TYPE_IPV4;
            case IPV6 -> EthernetHeader.TYPE_IPV6;
            case OTHER -> otherType;
        };
        bb.putShort((short) etherType);
        int l3Off = bb.position();
        int l4Off = -1;
        int ipProto = -1;
        int ipLengthOffset = -1;
        int ipLengthBase = 0;
        int ipFixedEnd = l3Off;
        int[] extOffsets = new int[ext.size()];
        int[] extTypes = new int[ext.size()];
        switch (l3) {
            case ARP -> {
                flags |= PacketFlags.ARP;
                bb.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) arpOp);
                putMac(bb, arpSha);
                bb.putInt(arpSpa);
                putMac(bb, arpTha);
                bb.putInt(arpTpa);
                frameCuts.add(new Segment(l3Off, l3Off + 28, DropReason.TRUNCATED_ARP));
            }
            case OTHER -> {
                for (int k = 0; k < payload; k++) {
                    bb.put((byte) k);
                }
                frameCuts.add(new Segment(l3Off, Integer.MAX_VALUE, DropReason.UNSUPPORTED_ETHERTYPE));
            }
            case IPV4 -> {
                flags |= PacketFlags.IPV4;
                int hl = 20 + ipv4Options;
                bb.put((byte) (0x40 | (hl / 4))).put((byte) 0).putShort((short) 0).putShort((short) 0x1234);
                bb.putShort((short) ((mf ? Ipv4Header.FLAG_MF : 0) | fragOffset8));
                bb.put((byte) 64).put((byte) proto).putShort((short) 0).putInt(0x0A000001).putInt(0x0A000002);
                for (int k = 0; k < ipv4Options; k++) {
                    bb.put((byte) 1); // NOP
                }
                if (ipv4Options > 0) {
                    flags |= PacketFlags.IP_OPTIONS;
                }
                ipProto = proto;
                ipFixedEnd = l3Off + 20;
                frameCuts.add(new Segment(l3Off, l3Off + 20, DropReason.TRUNCATED_IPV4));
                ipCuts.add(new Segment(l3Off + 20, l3Off + hl, DropReason.BAD_IPV4_IHL));
                boolean fragment = mf || fragOffset8 != 0;
                if (fragment) {
                    flags |= PacketFlags.FRAGMENT;
                }
                if (fragOffset8 != 0) {
                    flags |= PacketFlags.LATER_FRAGMENT;
                    fill(bb, payload);
                } else {
                    l4Off = bb.position();
                    flags |= writeL4(bb, proto, false, fragment, ipCuts);
                }
                int total = bb.position() - l3Off;
                bb.putShort(l3Off + 2, (short) total);
                frameCuts.add(new Segment(l3Off + 20, l3Off + total, DropReason.BAD_IPV4_TOTAL_LENGTH));
                ipLengthOffset = l3Off + 2;
                ipLengthBase = l3Off;
            }
            case IPV6 -> {
                flags |= PacketFlags.IPV6;
                bb.putInt(0x6000_0000).putShort((short) 0);
                bb.put((byte) (ext.isEmpty() ? proto : ext.get(0)[0])).put((byte) 64);
                bb.putLong(0x2001_0db8_0000_0000L).putLong(1).putLong(0x2001_0db8_0000_0000L).putLong(2);
                ipFixedEnd = l3Off + 40;
                frameCuts.add(new Segment(l3Off, l3Off + 40, DropReason.TRUNCATED_IPV6));
                boolean fragment = false;
                boolean later = false;
                if (!ext.isEmpty()) {
                    flags |= PacketFlags.IPV6_EXT;
                }
                for (int e = 0; e < ext.size(); e++) {
                    int[] x = ext.get(e);
                    int nh = e + 1 < ext.size() ? ext.get(e + 1)[0] : proto;
                    int start = bb.position();
                    extOffsets[e] = start;
                    extTypes[e] = x[0];
                    bb.put((byte) nh);
                    switch (x[0]) {
                        case 44 -> {
                            bb.put((byte) 0).putShort((short) ((x[2] << 3) | x[3])).putInt(0xCAFE);
                            fragment = true;
                            flags |= PacketFlags.FRAGMENT;
                            if (x[2] != 0) {
                                later = true;
                                flags |= PacketFlags.LATER_FRAGMENT;
                            }
                        }
                        case 51 -> {
                            bb.put((byte) (x[1] / 4 - 2));
                            fill(bb, x[1] - 2);
                        }
                        default -> {
                            bb.put((byte) (x[1] / 8 - 1));
                            fill0(bb, x[1] - 2);
                        }
                    }
                    ipCuts.add(new Segment(start, bb.position(), DropReason.TRUNCATED_IPV6_EXT));
                    if (later) {
                        ipProto = nh;
                        break;
                    }
                }
                if (later) {
                    fill(bb, payload);
                } else {
                    ipProto = proto;
                    if (proto != Ipv6Header.NH_NONE) {
                        l4Off = bb.position();
                        flags |= writeL4(bb, proto, true, fragment, ipCuts);
                    }
                }
                int payloadLen = bb.position() - l3Off - 40;
                bb.putShort(l3Off + 4, (short) payloadLen);
                frameCuts.add(new Segment(l3Off + 40, bb.position(), DropReason.BAD_IPV6_PAYLOAD_LENGTH));
                ipLengthOffset = l3Off + 4;
                ipLengthBase = l3Off + 40;
            }
        }
        if (l3 == L3.IPV4) {
            byte[] hdr = new byte[Math.min(60, bb.position() - l3Off)];
            bb.get(l3Off, hdr);
            bb.putShort(l3Off + 10, (short) checksum(hdr, 20 + ipv4Options));
        }
        int ipEnd = bb.position();
        for (int k = 0; k < pad; k++) {
            bb.put((byte) 0);
        }
        byte[] bytes = new byte[bb.position()];
        bb.get(0, bytes);
        return new Built(name, bytes, etherType, vlan, l3Off, l4Off, ipProto, flags, frameCuts, ipCuts,
                ipLengthOffset, ipLengthBase, ipFixedEnd, extOffsets, extTypes, ipEnd);
    }

    private int writeL4(ByteBuffer bb, int proto, boolean v6, boolean fragment, List<Segment> ipCuts) {
        int l4 = bb.position();
        switch (proto) {
            case 6 -> {
                int thl = 20 + tcpOptions;
                bb.putShort((short) 40000).putShort((short) 80).putInt(1).putInt(2);
                bb.put((byte) ((thl / 4) << 4)).put((byte) 0x18).putShort((short) 65535).putShort((short) 0).putShort((short) 0);
                for (int k = 0; k < tcpOptions; k++) {
                    bb.put((byte) 1); // NOP
                }
                fill(bb, payload);
                ipCuts.add(new Segment(l4, l4 + 20, DropReason.TRUNCATED_TCP));
                ipCuts.add(new Segment(l4 + 20, l4 + thl, DropReason.BAD_TCP_DATA_OFFSET));
                return PacketFlags.TCP;
            }
            case 17 -> {
                bb.putShort((short) 5353).putShort((short) 4789).putShort((short) (8 + payload)).putShort((short) 0);
                fill(bb, payload);
                ipCuts.add(new Segment(l4, l4 + 8, DropReason.TRUNCATED_UDP));
                if (!fragment) {
                    ipCuts.add(new Segment(l4 + 8, l4 + 8 + payload, DropReason.BAD_UDP_LENGTH));
                }
                return PacketFlags.UDP;
            }
            case 1, 58 -> {
                if ((proto == 1) == v6) {
                    fill(bb, payload); // ICMP over IPv6 / ICMPv6 over IPv4: just an upper layer
                    return 0;
                }
                bb.put((byte) (v6 ? 128 : 8)).put((byte) 0).putShort((short) 0).putShort((short) 7).putShort((short) 1);
                fill(bb, payload);
                ipCuts.add(new Segment(l4, l4 + 8, v6 ? DropReason.TRUNCATED_ICMPV6 : DropReason.TRUNCATED_ICMP));
                return v6 ? PacketFlags.ICMPV6 : PacketFlags.ICMP;
            }
            default -> {
                fill(bb, payload);
                return 0;
            }
        }
    }

    private static void fill(ByteBuffer bb, int n) {
        for (int k = 0; k < n; k++) {
            bb.put((byte) (0xA0 + k));
        }
    }

    private static void fill0(ByteBuffer bb, int n) {
        for (int k = 0; k < n; k++) {
            bb.put((byte) 0);
        }
    }

    private static void putMac(ByteBuffer bb, long mac) {
        bb.putShort((short) (mac >>> 32)).putInt((int) mac);
    }

    /** Internet checksum over {@code len} bytes with the IPv4 checksum field (bytes 10-11) as zero; an independent twin of {@link Checksum}. */
    public static int checksum(byte[] b, int len) {
        int sum = 0;
        for (int k = 0; k + 1 < len; k += 2) {
            if (k != 10) {
                sum += ((b[k] & 0xFF) << 8) | (b[k + 1] & 0xFF);
            }
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return ~sum & 0xFFFF;
    }

    /** A mixed set of valid frames covering every type the parser supports. */
    public static List<Built> catalog() {
        long bcast = EthernetHeader.BROADCAST_MAC;
        return List.of(
                frame("arp-request").dst(bcast).arp(1, 0x02_00_00_00_00_01L, 0x0A000001, 0, 0x0A000002).build(),
                frame("arp-reply").arp(2, 0x02_00_00_00_00_01L, 0x0A000001, 0x02_00_00_00_00_02L, 0x0A000002).build(),
                frame("vlan-arp").dst(bcast).vlan(0x8100, 10).arp(1, 0x02_00_00_00_00_01L, 0x0A000001, 0, 0x0A000002).build(),
                frame("ipv4-tcp").ipv4(6).build(),
                frame("ipv4-tcp-options").ipv4(6).tcpOptions(12).payload(5).build(),
                frame("ipv4-tcp-nopayload").ipv4(6).payload(0).build(),
                frame("ipv4-options-udp").ipv4(17).ipv4Options(8).build(),
                frame("ipv4-maxoptions-tcp").ipv4(6).ipv4Options(40).tcpOptions(40).build(),
                frame("ipv4-udp").ipv4(17).payload(30).build(),
                frame("ipv4-udp-empty").ipv4(17).payload(0).build(),
                frame("ipv4-icmp").ipv4(1).payload(56).build(),
                frame("ipv4-gre").ipv4(47).payload(12).build(),
                frame("ipv4-frag-first-udp").ipv4(17).fragment(0, true).payload(40).build(),
                frame("ipv4-frag-first-tcp").ipv4(6).fragment(0, true).payload(40).build(),
                frame("ipv4-frag-later").ipv4(17).fragment(185, false).payload(40).build(),
                frame("ipv4-frag-middle").ipv4(6).fragment(3, true).payload(24).build(),
                frame("vlan-ipv4-tcp").vlan(0x8100, 100).ipv4(6).build(),
                frame("qinq-ipv4-udp").vlan(0x88A8, 200).vlan(0x8100, 100).ipv4(17).build(),
                frame("qinq9100-ipv6-tcp").vlan(0x9100, 4095).vlan(0x8100, 1).ipv6(6).build(),
                frame("ipv4-padded-udp").ipv4(17).payload(2).pad(16).build(),
                frame("ipv6-tcp").ipv6(6).tcpOptions(20).build(),
                frame("ipv6-udp").ipv6(17).build(),
                frame("ipv6-icmpv6").ipv6(58).payload(20).build(),
                frame("ipv6-ns-multicast").dst(0x33_33_ff_00_00_02L).ipv6(58).payload(16).build(),
                frame("ipv6-hbh-udp").ipv6(17).ext(0, 8).build(),
                frame("ipv6-routing-tcp").ipv6(6).ext(43, 24).build(),
                frame("ipv6-frag-first-udp").ipv6(17).ext6Fragment(0, true).payload(48).build(),
                frame("ipv6-frag-later").ipv6(17).ext6Fragment(100, false).payload(48).build(),
                frame("ipv6-destopts-icmpv6").ipv6(58).ext(60, 16).build(),
                frame("ipv6-ah-tcp").ipv6(6).ext(51, 24).build(),
                frame("ipv6-chain-tcp").ipv6(6).ext(0, 8).ext(60, 8).ext(43, 16).ext6Fragment(0, true).ext(51, 12).ext(60, 8).build(),
                frame("ipv6-chain-frag-later").ipv6(6).ext(0, 8).ext(43, 16).ext6Fragment(7, true).payload(16).build(),
                frame("ipv6-no-next-header").ipv6(59).payload(0).build(),
                frame("ipv6-icmp-over-v6").ipv6(1).payload(4).build());
    }
}
