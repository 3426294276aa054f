package io.sluice.bench.pipeline;

import io.sluice.dataplane.packet.Checksum;
import io.sluice.dataplane.packet.Mem;

/**
 * Writes realistic frames into native memory for the pipeline benchmarks (the test-side
 * PacketSpec is not on the bench class path). Each method writes one frame at {@code at} and
 * returns its length. Checksums: IPv4 header checksum set, L4 checksums left 0 (nothing verifies them).
 */
final class BenchFrames {
    static final long MAC_A = 0x02_5c_00_00_00_01L;
    static final long MAC_B = 0x02_5c_00_00_00_02L;
    static final long MAC_C = 0x02_5c_00_00_00_03L;
    static final long MAC_GW = 0x02_5c_00_00_00_feL;
    static final int IP_A = 0x0A_C7_00_01;
    static final int IP_B = 0x0A_C7_00_02;
    static final int IP_C = 0x0A_C7_00_03;
    static final int IP_GW = 0x0A_C7_00_FE;

    private BenchFrames() {}

    /** Three net_null ports p0..p2 with hosts A, B, C on them (MAC table and ARP answers, plus the gateway's ARP entry). */
    static io.sluice.dataplane.config.SluiceConfig l2Config(int burst) {
        java.util.List<io.sluice.dataplane.config.PortSpec> ports = new java.util.ArrayList<>();
        for (int p = 0; p < 3; p++) ports.add(new io.sluice.dataplane.config.PortSpec("p" + p, "net_null" + p, 1, 1, 0));
        return new io.sluice.dataplane.config.SluiceConfig("bench", java.util.List.of(), ports, java.util.List.of(), burst, "busy-spin", 1024,
                java.util.List.of(new io.sluice.dataplane.config.SluiceConfig.MacEntry(MAC_A, 0),
                        new io.sluice.dataplane.config.SluiceConfig.MacEntry(MAC_B, 1), new io.sluice.dataplane.config.SluiceConfig.MacEntry(MAC_C, 2)),
                java.util.List.of(new io.sluice.dataplane.config.SluiceConfig.ArpEntry(IP_A, MAC_A, -1),
                        new io.sluice.dataplane.config.SluiceConfig.ArpEntry(IP_B, MAC_B, -1),
                        new io.sluice.dataplane.config.SluiceConfig.ArpEntry(IP_C, MAC_C, -1),
                        new io.sluice.dataplane.config.SluiceConfig.ArpEntry(IP_GW, MAC_GW, -1)),
                java.nio.file.Path.of("/tmp/unused"));
    }

    private static int eth(long at, long dst, long src, int vlan, int type) {
        Mem.putMac(at, dst);
        Mem.putMac(at + 6, src);
        if (vlan >= 0) {
            Mem.put16(at + 12, 0x8100);
            Mem.put16(at + 14, vlan);
            Mem.put16(at + 16, type);
            return 18;
        }
        Mem.put16(at + 12, type);
        return 14;
    }

    private static void ipv4(long ip, int proto, int l4Length, int src, int dst) {
        Mem.put8(ip, 0x45);
        Mem.put8(ip + 1, 0);
        Mem.put16(ip + 2, 20 + l4Length);
        Mem.put16(ip + 4, 0x1234);
        Mem.put16(ip + 6, 0x4000);
        Mem.put8(ip + 8, 64);
        Mem.put8(ip + 9, proto);
        Mem.put16(ip + 10, 0);
        Mem.put32(ip + 12, src);
        Mem.put32(ip + 16, dst);
        Checksum.setIpv4Header(ip);
    }

    private static void ipv6(long ip, int nextHeader, int payloadLength) {
        Mem.put32(ip, 0x6000_0000);
        Mem.put16(ip + 4, payloadLength);
        Mem.put8(ip + 6, nextHeader);
        Mem.put8(ip + 7, 64);
        for (int k = 8; k < 40; k += 4) {
            Mem.put32(ip + k, k == 20 ? 1 : k == 36 ? 2 : k == 8 || k == 24 ? 0x20010db8 : 0);
        }
    }

    private static void tcp(long t, int optionBytes) {
        Mem.put16(t, 40000);
        Mem.put16(t + 2, 5201);
        Mem.put32(t + 4, 1);
        Mem.put32(t + 8, 2);
        Mem.put8(t + 12, ((20 + optionBytes) / 4) << 4);
        Mem.put8(t + 13, 0x10);
        Mem.put16(t + 14, 512);
        Mem.put32(t + 16, 0);
        for (int k = 0; k < optionBytes; k++) {
            Mem.put8(t + 20 + k, 1);
        }
    }

    private static void udp(long u, int length) {
        Mem.put16(u, 53000);
        Mem.put16(u + 2, 4789);
        Mem.put16(u + 4, length);
        Mem.put16(u + 6, 0);
    }

    /** IPv4/TCP with 12 bytes of options (timestamps), {@code data} bytes of payload. */
    static int ipv4Tcp(long at, long dst, long src, int vlan, int data) {
        int l3 = eth(at, dst, src, vlan, 0x0800);
        ipv4(at + l3, 6, 32 + data, IP_A, IP_B);
        tcp(at + l3 + 20, 12);
        return l3 + 20 + 32 + data;
    }

    static int ipv4Udp(long at, long dst, long src, int data) {
        int l3 = eth(at, dst, src, -1, 0x0800);
        ipv4(at + l3, 17, 8 + data, IP_B, IP_C);
        udp(at + l3 + 20, 8 + data);
        return l3 + 28 + data;
    }

    static int ipv4Icmp(long at, long dst, long src) {
        int l3 = eth(at, dst, src, -1, 0x0800);
        ipv4(at + l3, 1, 64, IP_A, IP_C);
        Mem.put8(at + l3 + 20, 8);
        return l3 + 20 + 64;
    }

    static int ipv6Tcp(long at, long dst, long src, int data) {
        int l3 = eth(at, dst, src, -1, 0x86DD);
        ipv6(at + l3, 6, 32 + data);
        tcp(at + l3 + 40, 12);
        return l3 + 40 + 32 + data;
    }

    static int ipv6Udp(long at, long dst, long src, int data) {
        int l3 = eth(at, dst, src, -1, 0x86DD);
        ipv6(at + l3, 17, 8 + data);
        udp(at + l3 + 40, 8 + data);
        return l3 + 48 + data;
    }

    /** IPv6 hop-by-hop (router alert) + ICMPv6 MLD report to a multicast MAC. */
    static int ipv6HopByHopIcmpv6(long at, long src) {
        int l3 = eth(at, 0x33_33_00_00_00_16L, src, -1, 0x86DD);
        ipv6(at + l3, 0, 8 + 28);
        long h = at + l3 + 40;
        Mem.put8(h, 58);
        Mem.put8(h + 1, 0);
        Mem.put32(h + 2, 0x0502_0000);
        Mem.put16(h + 6, 0x0100);
        Mem.put8(h + 8, 143);
        return l3 + 40 + 8 + 28;
    }

    /** Broadcast ARP request from A for {@code tpa}. */
    static int arpRequest(long at, int tpa) {
        int l3 = eth(at, 0xFFFF_FFFF_FFFFL, MAC_A, -1, 0x0806);
        long a = at + l3;
        Mem.put16(a, 1);
        Mem.put16(a + 2, 0x0800);
        Mem.put8(a + 4, 6);
        Mem.put8(a + 5, 4);
        Mem.put16(a + 6, 1);
        Mem.putMac(a + 8, MAC_A);
        Mem.put32(a + 14, IP_A);
        Mem.putMac(a + 18, 0);
        Mem.put32(a + 24, tpa);
        return l3 + 28;
    }
}
