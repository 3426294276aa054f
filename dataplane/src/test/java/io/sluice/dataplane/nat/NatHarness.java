package io.sluice.dataplane.nat;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.conntrack.Conntrack;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallStage;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;
import io.sluice.dataplane.overlay.UnderlayNeighbours;
import io.sluice.dataplane.packet.Checksum;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The overlay pipeline with an external network and security groups, on net_null ports (no DPDK:
 * frames in native memory), for the NAT tests: ports up 0, ext 1, web 2 (floating IP .10), job 3
 * (outbound only), vault 4 (private). Frames are written with full checksums; {@link #run} passes
 * one frame through every stage (parse to out).
 */
public final class NatHarness implements AutoCloseable {
    static final int UP = 0, EXT = 1, WEB = 2, JOB = 3, VAULT = 4;
    static final long ROUTER = mac("02:00:00:00:ff:01"), EXT_MAC = mac("02:00:00:00:ee:01"), GW_MAC = mac("02:00:00:00:99:99");
    static final long WEB_MAC = mac("02:00:00:00:01:02"), JOB_MAC = mac("02:00:00:00:01:03"), VAULT_MAC = mac("02:00:00:00:01:04");
    static final int WEB_IP = ip("10.0.1.2"), JOB_IP = ip("10.0.1.3"), VAULT_IP = ip("10.0.1.4");
    static final int GW = ip("203.0.113.1"), SNAT = ip("203.0.113.5"), FIP = ip("203.0.113.10"), FIP2 = ip("203.0.113.11");
    static final int SERVER = ip("198.51.100.10"), SERVER2 = ip("198.51.100.20");

    /** The test host's configuration (net_null ports; {@link #yaml(int, int, String[], String[])} for other devices and MACs). */
    public static String yaml(int block, int perVm) {
        return yaml(block, perVm, new String[] {"net_null0", "net_null1", "net_null2", "net_null3", "net_null4"},
                new String[] {"02:00:00:00:01:02", "02:00:00:00:01:03", "02:00:00:00:01:04"});
    }

    /** With the five ports' devices (up, ext, web, job, vault) and the three VMs' MACs given. */
    public static String yaml(int block, int perVm, String[] devices, String[] vmMacs) {
        return """
                eal: ["--no-huge"]
                ports:
                  - {name: up, device: "%s"}
                  - {name: ext, device: "%s"}
                  - {name: web, device: "%s"}
                  - {name: job, device: "%s"}
                  - {name: vault, device: "%s"}
                overlay:
                  uplink: up
                  underlay-ip: 192.168.50.1/24
                  underlay-mac: "02:00:00:00:aa:01"
                  router-mac: "02:00:00:00:ff:01"
                  external:
                    port: ext
                    mac: "02:00:00:00:ee:01"
                    subnet: 203.0.113.0/24
                    gateway: 203.0.113.1
                    gateway6: "2001:db8:ee::1"
                    floating-ips: [203.0.113.10-203.0.113.11]
                    snat-addresses: [203.0.113.5]
                    port-block: %d
                    blocks-per-vm: %d
                  networks:
                    - name: blue
                      vni: 100
                      cidr: 10.0.0.0/16
                      subnets: [{name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1, cidr6: "2001:db8:1::/64", gateway6: "2001:db8:1::1"}]
                      vms:
                        - {name: web, subnet: a, mac: "%s", ip: 10.0.1.2, ip6: "2001:db8:1::2", port: web, public: 203.0.113.10}
                        - {name: job, subnet: a, mac: "%s", ip: 10.0.1.3, ip6: "2001:db8:1::3", port: job, public: outbound}
                        - {name: vault, subnet: a, mac: "%s", ip: 10.0.1.4, ip6: "2001:db8:1::4", port: vault}
                security-groups:
                  groups: []
                """.formatted(devices[0], devices[1], devices[2], devices[3], devices[4], block, perVm, vmMacs[0], vmMacs[1], vmMacs[2]);
    }

    final Arena arena = Arena.ofShared();
    final MemorySegment seg = arena.allocate(4096L * 64, 64);
    final Counters counters = Counters.inMemory(1024);
    final OverlayPipeline pipeline;
    final FirewallState fw;
    final Stage[] stages;
    final NatState nat;
    final Conntrack ct;
    final Burst b = new Burst(64);

    NatHarness(int block, int perVm) throws Exception {
        this(yaml(block, perVm), null);
    }

    /**
     * With the conntrack shard kept in a file under {@code conntrackDir} (warm restart, as
     * {@code ./sluice run} keeps it: one worker); {@code keepLog} receives the attach lines. A
     * second harness on the same directory after {@link #close} is the restarted data plane.
     */
    NatHarness(int block, int perVm, java.nio.file.Path conntrackDir, java.util.function.Consumer<String> keepLog) throws Exception {
        this(yaml(block, perVm).replace("security-groups:\n  groups: []",
                "security-groups:\n  conntrack-dir: \"" + conntrackDir + "\"\n  groups: []"), keepLog);
    }

    /** With this configuration (e.g. {@link #yaml} with other limits). */
    NatHarness(String y) throws Exception {
        this(y, null);
    }

    private NatHarness(String y, java.util.function.Consumer<String> keepLog) throws Exception {
        SluiceConfig cfg = ConfigLoader.parse("nat.yaml", y);
        fw = new FirewallState(cfg.ports().size(), FirewallConfigLoader.parseDocument("nat.yaml", y, cfg));
        if (keepLog != null) {
            if (!y.contains("conntrack-dir")) throw new IllegalStateException("no conntrack-dir in the test configuration");
            fw.keepConntrack(1, keepLog);
        }
        pipeline = new OverlayPipeline(cfg.overlay(), counters, UnderlayNeighbours.withDefaults(), fw);
        stages = pipeline.stages(0);
        nat = pipeline.nat();
        Conntrack found = null;
        for (Stage s : stages) if (s instanceof FirewallStage f) found = f.conntrack();
        ct = found;
    }

    long frame(int k) { return seg.address() + 4096L * k + 256; }

    // ------------------------------------------------------------------ frames (full checksums)

    /** Ethernet + IPv4 header (TTL 64, DF) at d; returns the L4 address. */
    static long ipv4(long d, long dstMac, long srcMac, int src, int dst, int proto, int l4Len) {
        Mem.putMac(d, dstMac);
        Mem.putMac(d + 6, srcMac);
        Mem.put16(d + 12, 0x0800);
        long ip = d + 14;
        Mem.put32(ip, 0x4500_0000 | (20 + l4Len));
        Mem.put32(ip + 4, 0x1234_4000);
        Mem.put32(ip + 8, (64 << 24) | (proto << 16));
        Mem.put32(ip + 12, src);
        Mem.put32(ip + 16, dst);
        Checksum.setIpv4Header(ip);
        return ip + 20;
    }

    /** TCP segment (20-byte header, {@code payload} bytes); returns the frame length. */
    public static int tcp(long d, long dstMac, long srcMac, int src, int dst, int sport, int dport, int flags, int seq, int ack, int payload) {
        long t = ipv4(d, dstMac, srcMac, src, dst, 6, 20 + payload);
        Mem.put32(t, (sport << 16) | dport);
        Mem.put32(t + 4, seq);
        Mem.put32(t + 8, ack);
        Mem.put16(t + 12, (5 << 12) | flags);
        Mem.put16(t + 14, 65535);
        Mem.put32(t + 16, 0);
        for (int k = 0; k < payload; k++) Mem.put8(t + 20 + k, k * 7 + 1);
        Mem.put16(t + 16, Checksum.l4(Checksum.pseudoHeaderV4(d + 14, 6, 20 + payload), t, 20 + payload, 16));
        return 34 + 20 + payload;
    }

    /** UDP datagram; {@code noChecksum}: checksum 0. Returns the frame length. */
    static int udp(long d, long dstMac, long srcMac, int src, int dst, int sport, int dport, int payload, boolean noChecksum) {
        long u = ipv4(d, dstMac, srcMac, src, dst, 17, 8 + payload);
        Mem.put32(u, (sport << 16) | dport);
        Mem.put32(u + 4, (8 + payload) << 16);
        for (int k = 0; k < payload; k++) Mem.put8(u + 8 + k, k * 13 + 5);
        if (!noChecksum) {
            int c = Checksum.l4(Checksum.pseudoHeaderV4(d + 14, 17, 8 + payload), u, 8 + payload, 6);
            Mem.put16(u + 6, c == 0 ? 0xFFFF : c);
        }
        return 34 + 8 + payload;
    }

    /** ICMP echo request (type 8) or reply (0) with 16 bytes of data. */
    static int echo(long d, long dstMac, long srcMac, int src, int dst, int type, int id, int seq) {
        long c = ipv4(d, dstMac, srcMac, src, dst, 1, 24);
        Mem.put32(c, type << 24);
        Mem.put32(c + 4, (id << 16) | seq);
        for (int k = 0; k < 16; k++) Mem.put8(c + 8 + k, k);
        Mem.put16(c + 2, Checksum.finish(Checksum.add(0, c, 24)));
        return 34 + 24;
    }

    /**
     * ICMP error (type, code, 4-byte rest) from {@code src} to {@code dst} quoting the IPv4 packet of
     * the frame at {@code about} (its header and 8 bytes of L4). Returns the frame length.
     */
    static int icmpError(long d, long dstMac, long srcMac, int src, int dst, int type, int code, int rest, long about) {
        int quoted = 28;
        long c = ipv4(d, dstMac, srcMac, src, dst, 1, 8 + quoted);
        Mem.put32(c, (type << 24) | (code << 16));
        Mem.put32(c + 4, rest);
        Mem.copy(about + 14, c + 8, quoted);
        Mem.put16(c + 2, Checksum.finish(Checksum.add(0, c, 8 + quoted)));
        return 34 + 8 + quoted;
    }

    /**
     * One IPv4 fragment, at {@code d}, of the whole frame at {@code whole}: the IP payload bytes
     * [offset, offset + len) (offset a multiple of 8), MF as given, same identification. Returns its length.
     */
    static int fragment(long d, long whole, int offset, int len, boolean more) {
        Mem.copy(whole, d, 34);
        Mem.copy(whole + 34 + offset, d + 34, len);
        long ip = d + 14;
        Mem.put16(ip + 2, 20 + len);
        Mem.put16(ip + 6, (more ? 0x2000 : 0) | (offset / 8));
        Checksum.setIpv4Header(ip);
        return 34 + len;
    }

    static final long GW6_MAC = mac("02:00:00:00:99:66");
    static final long[] GW6 = ip6("2001:db8:ee::1"), SERVER6 = ip6("2001:db8:99::10");
    static final long[] WEB6 = ip6("2001:db8:1::2"), JOB6 = ip6("2001:db8:1::3"), VAULT6 = ip6("2001:db8:1::4");

    static long[] ip6(String s) { return io.sluice.dataplane.config.Net.parseIpv6(s); }

    /** Ethernet + IPv6 header (hop limit {@code hop}) at d; returns the L4 address. */
    static long ipv6(long d, long dstMac, long srcMac, long[] src, long[] dst, int nh, int l4Len, int hop) {
        Mem.putMac(d, dstMac);
        Mem.putMac(d + 6, srcMac);
        Mem.put16(d + 12, 0x86DD);
        long ip = d + 14;
        Mem.put32(ip, 0x6000_0000);
        Mem.put32(ip + 4, (l4Len << 16) | (nh << 8) | hop);
        NdFrames.put6(ip + 8, src[0], src[1]);
        NdFrames.put6(ip + 24, dst[0], dst[1]);
        return ip + 40;
    }

    /** TCP over IPv6 (20-byte header, no payload), hop limit 64; returns the frame length. */
    static int tcp6(long d, long dstMac, long srcMac, long[] src, long[] dst, int sport, int dport, int flags, int seq, int ack) {
        long t = ipv6(d, dstMac, srcMac, src, dst, 6, 20, 64);
        Mem.put32(t, (sport << 16) | dport);
        Mem.put32(t + 4, seq);
        Mem.put32(t + 8, ack);
        Mem.put16(t + 12, (5 << 12) | flags);
        Mem.put16(t + 14, 65535);
        Mem.put32(t + 16, 0);
        Mem.put16(t + 16, Checksum.l4(Checksum.pseudoHeaderV6(d + 14, 6, 20), t, 20, 16));
        return 54 + 20;
    }

    /** Neighbour solicitation (op 135) or advertisement (136) for {@code target}, hop limit 255, with a link-layer option of srcMac. */
    static int nd(long d, long dstMac, long srcMac, long[] src, long[] dst, int type, long[] target) {
        long c = ipv6(d, dstMac, srcMac, src, dst, 58, 32, 255);
        Mem.put32(c, type << 24);
        Mem.put32(c + 4, type == 136 ? 0x6000_0000 : 0);
        NdFrames.put6(c + 8, target[0], target[1]);
        Mem.put8(c + 24, type == 135 ? 1 : 2);
        Mem.put8(c + 25, 1);
        Mem.putMac(c + 26, srcMac);
        Mem.put16(c + 2, Checksum.l4(Checksum.pseudoHeaderV6(d + 14, 58, 32), c, 32, 2));
        return 54 + 32;
    }

    /** The IPv6 frame's L4 checksum (TCP, UDP, ICMPv6; no extension headers) is valid. */
    static boolean checksums6Valid(long d) {
        long ip = d + 14;
        int len = Mem.u16(ip + 4);
        return Checksum.finish(Checksum.add(Checksum.pseudoHeaderV6(ip, Mem.u8(ip + 6), len), ip + 40, len)) == 0;
    }

    /** ARP request (op 1) or reply (op 2). */
    static int arp(long d, long dstMac, long srcMac, int op, long sha, int spa, long tha, int tpa) {
        Mem.putMac(d, dstMac);
        Mem.putMac(d + 6, srcMac);
        Mem.put16(d + 12, 0x0806);
        long a = d + 14;
        Mem.put32(a, 0x0001_0800);
        Mem.put32(a + 4, 0x0604_0000 | op);
        Mem.putMac(a + 8, sha);
        Mem.put32(a + 14, spa);
        Mem.putMac(a + 18, tha);
        Mem.put32(a + 24, tpa);
        for (int k = 42; k < 60; k++) Mem.put8(d + k, 0);
        return 60;
    }

    // ------------------------------------------------------------------ running

    /** Runs one frame (at frame(0), {@code len} bytes) arriving on {@code port}: -1 when sent, else the drop reason. */
    int run(int port, int len) {
        return run(port, len, 0);
    }

    /**
     * {@link #run(int, int)} for a multi-segment frame: only its first {@code len - tail} bytes are at
     * frame(0) (the rest is in other segments, which no stage may read: the caller poisons frame(0) after them).
     */
    int run(int port, int len, int tail) {
        b.reset(0, 0, frame(0), len, tail, (byte) 0, port);
        b.count = 1;
        for (Stage s : stages) s.process(b);
        if (b.next[0] == Next.TX) return -1;
        if (b.next[0] != Next.DROP) throw new AssertionError("neither sent nor dropped: " + b.next[0]);
        return b.dropReason[0];
    }

    /** Whole-packet check of the IPv4 header and L4 checksum of the frame at d (what a receiver does). */
    static boolean checksumsValid(long d) {
        long ip = d + 14;
        if (!Checksum.ipv4HeaderValid(ip)) return false;
        int total = Mem.u16(ip + 2);
        int proto = Mem.u8(ip + 9);
        long l4 = ip + 20;
        int l4Len = total - 20;
        if (proto == 6) return Checksum.finish(Checksum.add(Checksum.pseudoHeaderV4(ip, 6, l4Len), l4, l4Len)) == 0;
        if (proto == 17) {
            if (Mem.u16(l4 + 6) == 0) return true;
            return Checksum.finish(Checksum.add(Checksum.pseudoHeaderV4(ip, 17, l4Len), l4, l4Len)) == 0;
        }
        if (proto == 1) return Checksum.finish(Checksum.add(0, l4, l4Len)) == 0;
        return true;
    }

    static String reason(int r) { return r < 0 ? "TX" : DropReason.of(r).name(); }

    static int ip(String s) { return (int) ConfigLoader.parseIpv4(s); }

    static long mac(String s) { return ConfigLoader.parseMac(s); }

    @Override
    public void close() {
        ct.close();
        arena.close();
    }
}
