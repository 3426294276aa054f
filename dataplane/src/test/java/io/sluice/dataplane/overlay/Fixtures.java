package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.OverlayModelException;
import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.PacketFlags;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/** Topologies and frames in native memory for the overlay tests. */
final class Fixtures {
    static final int UPLINK = 0;
    static final int HOST1 = ip("192.168.50.1");
    static final int HOST2 = ip("192.168.50.2");
    static final int HOST3 = ip("192.168.50.3");
    static final long ROUTER = mac("02:00:00:00:ff:01");
    static final long UNDERLAY_MAC1 = mac("02:00:00:00:aa:01");
    static final long UNDERLAY_MAC2 = mac("02:00:00:00:aa:02");
    static final long NEXT_HOP_MAC = mac("02:00:00:00:aa:99");

    static final long B1_MAC = mac("02:00:00:00:01:01"), B2_MAC = mac("02:00:00:00:01:02"),
            B3_MAC = mac("02:00:00:00:01:03"), B4_MAC = mac("02:00:00:00:01:04");
    static final long R1_MAC = mac("02:00:00:00:02:01"), R2_MAC = mac("02:00:00:00:02:02");
    static final int B1_IP = ip("10.0.1.10"), B2_IP = ip("10.0.1.11"), B3_IP = ip("10.0.2.10"), B4_IP = ip("10.0.1.20");
    static final int R1_IP = ip("10.0.1.10"), R2_IP = ip("10.0.1.11");
    static final int GW_A = ip("10.0.1.1"), GW_B = ip("10.0.2.1");
    static final OverlayModel.Ip6 B1_IP6 = OverlayModel.Ip6.parse("fd00:1:1::10");
    static final OverlayModel.Ip6 B2_IP6 = OverlayModel.Ip6.parse("fd00:1:1::11");
    static final OverlayModel.Ip6 B3_IP6 = OverlayModel.Ip6.parse("fd00:1:2::10");
    static final OverlayModel.Ip6 GW6_A = OverlayModel.Ip6.parse("fd00:1:1::1");
    static final OverlayModel.Ip6 GW6_B = OverlayModel.Ip6.parse("fd00:1:2::1");

    private Fixtures() {}

    static int ip(String s) { return (int) ConfigLoader.parseIpv4(s); }

    static long mac(String s) { return ConfigLoader.parseMac(s); }

    static OverlayModel.Subnet subnet(String name, String cidr, String gw, String cidr6, String gw6) {
        String[] c = cidr.split("/");
        OverlayModel.Ip6 c6 = null;
        int p6 = 0;
        if (cidr6 != null) {
            String[] x = cidr6.split("/");
            c6 = OverlayModel.Ip6.parse(x[0]);
            p6 = Integer.parseInt(x[1]);
        }
        return new OverlayModel.Subnet(name, ip(c[0]), Integer.parseInt(c[1]), ip(gw), c6, p6,
                gw6 == null ? null : OverlayModel.Ip6.parse(gw6));
    }

    static OverlayModel.Vm local(String name, String subnet, long mac, int ip, OverlayModel.Ip6 ip6, int port) {
        return new OverlayModel.Vm(name, subnet, mac, ip, ip6, port, 0);
    }

    static OverlayModel.Vm remote(String name, String subnet, long mac, int ip, OverlayModel.Ip6 ip6, int vtep) {
        return new OverlayModel.Vm(name, subnet, mac, ip, ip6, -1, vtep);
    }

    /**
     * Host 1: blue (VNI 100, 10.0.0.0/16: subnets a 10.0.1.0/24 and b 10.0.2.0/24 with IPv6;
     * b1, b2 in a on ports 1, 2; b3 in b on port 3; b4 in a on host 2) and red (VNI 200, the same
     * 10.0.0.0/16 and the same IPs: r1 10.0.1.10 on port 4, r2 10.0.1.11 on host 3).
     */
    static OverlayModel host1Model(long nextHopMac) {
        return new OverlayModel(
                new OverlayModel.Host(UPLINK, HOST1, 24, UNDERLAY_MAC1, 0, nextHopMac, 1500, ROUTER),
                List.of(blue(1, 2, 3, -1), red(4)));
    }

    /** Host 2: same networks seen from 192.168.50.2 (b4 local on port 1, b1..b3 remote on host 1). */
    static OverlayModel host2Model(long nextHopMac) {
        return new OverlayModel(
                new OverlayModel.Host(UPLINK, HOST2, 24, UNDERLAY_MAC2, 0, nextHopMac, 1500, ROUTER),
                List.of(blue(-1, -1, -1, 1), red(-1)));
    }

    private static OverlayModel.Network blue(int p1, int p2, int p3, int p4) {
        return new OverlayModel.Network("blue", 100, ip("10.0.0.0"), 16,
                List.of(subnet("a", "10.0.1.0/24", "10.0.1.1", "fd00:1:1::/64", "fd00:1:1::1"),
                        subnet("b", "10.0.2.0/24", "10.0.2.1", "fd00:1:2::/64", "fd00:1:2::1")),
                List.of(vm("b1", "a", B1_MAC, B1_IP, B1_IP6, p1, HOST1),
                        vm("b2", "a", B2_MAC, B2_IP, B2_IP6, p2, HOST1),
                        vm("b3", "b", B3_MAC, B3_IP, B3_IP6, p3, HOST1),
                        vm("b4", "a", B4_MAC, B4_IP, null, p4, HOST2)));
    }

    private static OverlayModel.Network red(int p1) {
        return new OverlayModel.Network("red", 200, ip("10.0.0.0"), 16,
                List.of(subnet("a", "10.0.1.0/24", "10.0.1.1", null, null)),
                List.of(vm("r1", "a", R1_MAC, R1_IP, null, p1, HOST1),
                        vm("r2", "a", R2_MAC, R2_IP, null, -1, HOST3)));
    }

    private static OverlayModel.Vm vm(String n, String sub, long mac, int ip, OverlayModel.Ip6 ip6, int port, int home) {
        return port >= 0 ? local(n, sub, mac, ip, ip6, port) : remote(n, sub, mac, ip, ip6, home);
    }

    static OverlaySnapshot compile(OverlayModel m) {
        try {
            return OverlaySnapshot.compile(m);
        } catch (OverlayModelException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------ frames

    /** Native packet buffers: slot k is 4096 bytes, frame data starts 128 bytes in (headroom). */
    static final class Buffers {
        static final int SLOT = 4096;
        static final int HEADROOM = 128;
        final MemorySegment seg;
        final long base;

        Buffers(Arena arena, int slots) {
            seg = arena.allocate((long) SLOT * slots, 64);
            base = seg.address();
        }

        long frame(int k) { return base + (long) k * SLOT + HEADROOM; }

        byte[] bytes(long addr, int len) {
            byte[] out = new byte[len];
            MemorySegment.copy(Mem.ALL, java.lang.foreign.ValueLayout.JAVA_BYTE, addr, out, 0, len);
            return out;
        }

        void put(long addr, byte[] data) {
            MemorySegment.copy(data, 0, Mem.ALL, java.lang.foreign.ValueLayout.JAVA_BYTE, addr, data.length);
        }
    }

    static void eth(long d, long dst, long src, int type) {
        Mem.putMac(d, dst);
        Mem.putMac(d + 6, src);
        Mem.put16(d + 12, type);
    }

    /** IPv4/UDP frame with {@code payload} bytes of pattern; sets the parser fields of slot i. Returns length. */
    static int udp4(Burst b, int i, long d, int port, long dstMac, long srcMac, int src, int dst, int ttl, int payload) {
        eth(d, dstMac, srcMac, Net.ETHERTYPE_IPV4);
        long ip = d + 14;
        int total = 20 + 8 + payload;
        Mem.put32(ip, 0x4500_0000 | total);
        Mem.put32(ip + 4, 0x1234_4000);
        Mem.put32(ip + 8, (ttl << 24) | (17 << 16));
        Mem.put32(ip + 12, src);
        Mem.put32(ip + 16, dst);
        Mem.put16(ip + 10, Net.checksum(ip, 20));
        long u = ip + 20;
        Mem.put32(u, (40000 << 16) | 5001);
        Mem.put32(u + 4, (8 + payload) << 16);
        for (int k = 0; k < payload; k++) {
            Mem.put8(u + 8 + k, k * 7 + 3);
        }
        int len = 14 + total;
        b.reset(i, 0, d, len, port);
        b.etherType[i] = (short) Net.ETHERTYPE_IPV4;
        b.l3Offset[i] = 14;
        b.l4Offset[i] = 34;
        b.ipProto[i] = 17;
        b.flags[i] = PacketFlags.IPV4 | PacketFlags.UDP;
        return len;
    }

    /** IPv6/UDP frame. */
    static int udp6(Burst b, int i, long d, int port, long dstMac, long srcMac, OverlayModel.Ip6 src, OverlayModel.Ip6 dst,
                    int hop, int payload) {
        eth(d, dstMac, srcMac, Net.ETHERTYPE_IPV6);
        long ip = d + 14;
        Mem.put32(ip, 0x6000_0000);
        Mem.put32(ip + 4, ((8 + payload) << 16) | (17 << 8) | hop);
        IcmpErrors.putIp6(ip + 8, src.hi(), src.lo());
        IcmpErrors.putIp6(ip + 24, dst.hi(), dst.lo());
        long u = ip + 40;
        Mem.put32(u, (40000 << 16) | 5001);
        Mem.put32(u + 4, (8 + payload) << 16);
        for (int k = 0; k < payload; k++) {
            Mem.put8(u + 8 + k, k);
        }
        int len = 14 + 40 + 8 + payload;
        b.reset(i, 0, d, len, port);
        b.etherType[i] = (short) Net.ETHERTYPE_IPV6;
        b.l3Offset[i] = 14;
        b.l4Offset[i] = 54;
        b.ipProto[i] = 17;
        b.flags[i] = PacketFlags.IPV6 | PacketFlags.UDP;
        return len;
    }

    /** ARP frame (60 bytes). */
    static int arp(Burst b, int i, long d, int port, long ethDst, long ethSrc, int op, long sha, int spa, long tha, int tpa) {
        eth(d, ethDst, ethSrc, Net.ETHERTYPE_ARP);
        long a = d + 14;
        Mem.put32(a, 0x0001_0800);
        Mem.put32(a + 4, 0x0604_0000 | op);
        Mem.putMac(a + 8, sha);
        Mem.put32(a + 14, spa);
        Mem.putMac(a + 18, tha);
        Mem.put32(a + 24, tpa);
        for (int k = 42; k < 60; k++) {
            Mem.put8(d + k, 0);
        }
        b.reset(i, 0, d, 60, port);
        b.etherType[i] = (short) Net.ETHERTYPE_ARP;
        b.l3Offset[i] = 14;
        b.flags[i] = PacketFlags.ARP | (ethDst == Net.BROADCAST_MAC ? PacketFlags.BROADCAST : 0);
        return 60;
    }

    /** Neighbour solicitation from src for target, with source link-layer option (86 bytes). */
    static int ns(Burst b, int i, long d, int port, long srcMac, OverlayModel.Ip6 src, OverlayModel.Ip6 target) {
        eth(d, 0x3333_FF00_0000L | (target.lo() & 0xFFFFFF), srcMac, Net.ETHERTYPE_IPV6);
        long ip = d + 14;
        Mem.put32(ip, 0x6000_0000);
        Mem.put32(ip + 4, (32 << 16) | (58 << 8) | 255);
        IcmpErrors.putIp6(ip + 8, src.hi(), src.lo());
        IcmpErrors.putIp6(ip + 24, 0xFF02_0000_0000_0000L, 0x0000_0001_FF00_0000L | (target.lo() & 0xFFFFFF));
        long icmp = ip + 40;
        Mem.put32(icmp, 135 << 24);
        Mem.put32(icmp + 4, 0);
        IcmpErrors.putIp6(icmp + 8, target.hi(), target.lo());
        Mem.put8(icmp + 24, 1);
        Mem.put8(icmp + 25, 1);
        Mem.putMac(icmp + 26, srcMac);
        Mem.put16(icmp + 2, Net.fold(Net.sum16(icmp, 32, Net.ipv6PseudoSum(ip, 32, 58))));
        b.reset(i, 0, d, 86, port);
        b.etherType[i] = (short) Net.ETHERTYPE_IPV6;
        b.l3Offset[i] = 14;
        b.l4Offset[i] = 54;
        b.ipProto[i] = 58;
        b.flags[i] = PacketFlags.IPV6 | PacketFlags.ICMPV6 | PacketFlags.MULTICAST;
        return 86;
    }

    /** The parser's view of an outer VXLAN frame on the uplink (what ParseStage would set). */
    static void parsedOuter(Burst b, int i, long d, int len) {
        b.reset(i, 0, d, len, UPLINK);
        b.etherType[i] = (short) Net.ETHERTYPE_IPV4;
        b.l3Offset[i] = 14;
        b.l4Offset[i] = 34;
        b.ipProto[i] = 17;
        b.flags[i] = PacketFlags.IPV4 | PacketFlags.UDP;
    }
}
