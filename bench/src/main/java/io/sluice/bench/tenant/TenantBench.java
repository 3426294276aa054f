package io.sluice.bench.tenant;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Map;

/**
 * The whole tenant pipeline of a hypervisor, for {@code ./sluice bench tenant} (bench/scripts/tenant.sh),
 * on the same frames as the OVS-DPDK peer (OVN-shaped flows, bench/scripts/tenant-ovs-flows.py).
 *
 * <p>Topology: network blue (VNI 100, 10.254.0.0/16); local VM vm1 (10.254.0.1, port vm1) with the
 * floating IP 203.0.113.10; local VM vm2 (10.254.0.2, port vm2), outbound only (SNAT 203.0.113.1);
 * R remote VMs behind VTEP 192.168.50.2 (10.254.16.0 + r, MAC 02:00:00:rr:rr:0a); one security group
 * "sg" on both VMs: ingress UDP 1000, egress UDP 1001. The external port "ext" (MAC 02:00:00:00:ee:01,
 * gateway 203.0.113.254 / 02:00:00:00:99:99).
 *
 * <p>Mix {@code tenant} (N flows: a third each, every one established both ways):
 * <ul>
 *   <li>east-west: remote VM r:(1024 + e / R) → vm1:1000 arrives VXLAN on the uplink "up": decap →
 *       anti-spoof → route → SG/conntrack → vm1; vm1's reply → SG/conntrack → route → encap → up;</li>
 *   <li>floating IP: server f:2000 → 203.0.113.10:1000 on "ext": DNAT → SG/conntrack → vm1; vm1's
 *       reply → SG/conntrack → FIP SNAT → ext;</li>
 *   <li>SNAT: vm2:1024 → server s:1001 on "vm2": SG/conntrack → SNAT (203.0.113.1:1024, the first port
 *       of vm2's block; OVS's {@code nat(src=203.0.113.1)} keeps the port, so both send the same
 *       frames) → ext; the reply on "ext" → un-SNAT → SG/conntrack → vm2.</li>
 * </ul>
 * Mix {@code ew}: all N flows east-west (up and vm1 only, no NAT): the mix the two-worker line runs,
 * since Sluice's NAT takes one worker ({@code overlay.external} needs one worker).
 *
 * <pre>
 * java ... io.sluice.bench.tenant.TenantBench write-pcap --dir D --flows N [--remote-vms R]
 *     writes D/tenant-N-{up,ext,vm1,vm2}.pcap and D/ew-N-{up,vm1}.pcap
 * java ... io.sluice.bench.tenant.TenantBench run --mix tenant|ew --dir D --flows N [--remote-vms R]
 *     [--workers 1|2] [--lcore 1] [--warmup 3] [--seconds 3] [--mbufs M] [--mem MB]
 * </pre>
 * Devices: each source port is {@code net_pcap,rx_pcap=FILE,infinite_rx=1} (the file replayed from
 * memory inside the worker's own rx call: no generator thread; no tx file: what it sends is counted
 * and freed). With two workers every port has two queues (each worker its own tx queue): the second
 * rx queue replays a one-frame file and is polled by no one; worker 0 (lcore 0) polls up, worker 1
 * (lcore 1) polls vm1, so a flow's two directions arrive on two workers and one of them hands off.
 * Waits until the conntrack holds N connections (the first pass of every file), then {@code --warmup}
 * seconds, then measures {@code --seconds}. Prints the window's {@code window ports P=rx/tx ...} and {@code window rx= tx= drops=}, {@code worker cpu share=} (the smallest over
 * the workers), {@code cpu_mpps=} (packets received per CPU-second summed over the workers),
 * {@code mpps=} (wall), the hand-off counters and the non-zero counters.
 */
public final class TenantBench {
    static final long VM1_MAC = 0x02_00_00_00_01_02L, VM2_MAC = 0x02_00_00_00_01_03L, ROUTER_MAC = 0x02_00_00_00_ff_01L;
    static final long EXT_MAC = 0x02_00_00_00_ee_01L, GW_MAC = 0x02_00_00_00_99_99L;
    static final long UNDERLAY_MAC = 0x02_00_00_00_aa_01L, NEXT_HOP_MAC = 0x02_00_00_00_aa_02L;
    static final int VM1_IP = 0x0AFE_0001, VM2_IP = 0x0AFE_0002, FIP = 0xCB00_710A, SNAT_IP = 0xCB00_7101;
    static final int LOCAL_VTEP = 0xC0A8_3201, REMOTE_VTEP = 0xC0A8_3202;
    static final int MIN_PACKETS = 1024;

    static long remoteMac(int r) { return 0x02_00_00_00_00_0aL + ((long) (r & 0xffff) << 8) + ((long) (r >>> 16) << 24); }
    static int remoteIp(int r) { return 0x0AFE_1000 + r; }
    /** External servers: 10.253.x.y below 65536, then 10.(128 + k >> 16).x.y: outside 10.254/16 and the external subnet. */
    static int server(int k) { return k < 65536 ? 0x0AFD_0000 + k : 0x0A00_0000 + ((128 + (k >>> 16)) << 16) + (k & 0xffff); }

    public static void main(String[] args) throws Exception {
        String cmd = args.length > 0 ? args[0] : "";
        String mix = "tenant", dir = ".";
        int flows = 1000, remoteVms = 1000, workers = 1, lcore = 1, warmup = 3, seconds = 3, mbufs = 16383, memMb = 1024;
        for (int i = 1; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--mix" -> mix = v;
                case "--dir" -> dir = v;
                case "--flows" -> flows = Integer.parseInt(v);
                case "--remote-vms" -> remoteVms = Integer.parseInt(v);
                case "--workers" -> workers = Integer.parseInt(v);
                case "--lcore" -> lcore = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--seconds" -> seconds = Integer.parseInt(v);
                case "--mbufs" -> mbufs = Integer.parseInt(v);
                case "--mem" -> memMb = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (remoteVms < 1 || remoteVms > 60_000) throw new IllegalArgumentException("--remote-vms must be 1..60000");
        switch (cmd) {
            case "write-pcap" -> writePcaps(dir, flows, remoteVms);
            case "run" -> run(mix, dir, flows, remoteVms, workers, lcore, warmup, seconds, mbufs, memMb);
            default -> throw new IllegalArgumentException("usage: TenantBench write-pcap|run [options] (see the class comment)");
        }
    }

    // ------------------------------------------------------------------ frames

    /** Flows of group {@code g} (0 east-west, 1 floating IP, 2 SNAT) of N: a third each, the rest to east-west. */
    static int groupSize(int n, int g) { return g == 0 ? n - 2 * (n / 3) : n / 3; }

    static void writePcaps(String dir, int n, int remoteVms) throws IOException {
        if (n < 3) throw new IllegalArgumentException("--flows must be at least 3 (a third per group)");
        int ew = groupSize(n, 0), fip = groupSize(n, 1), snat = groupSize(n, 2);
        byte[] f = new byte[114];
        try (Pcap up = new Pcap(dir + "/tenant-" + n + "-up.pcap"); Pcap vm1 = new Pcap(dir + "/tenant-" + n + "-vm1.pcap");
             Pcap vm2 = new Pcap(dir + "/tenant-" + n + "-vm2.pcap"); Pcap ext = new Pcap(dir + "/tenant-" + n + "-ext.pcap")) {
            // each file holds at least MIN_PACKETS frames (repeated) so a tiny flow count still fills bursts
            int least = Math.min(ew, Math.min(fip, snat)), reps = Math.max(1, (MIN_PACKETS + least - 1) / least);
            // the groups interleaved in every file, so any window of a port's loop holds the same mix
            for (int rep = 0; rep < reps; rep++) {
                for (int k = 0; k < ew; k++) {
                    int r = k % remoteVms, rp = 1024 + k / remoteVms;
                    up.write(f, vxlan(f, k, remoteMac(r), VM1_MAC, remoteIp(r), VM1_IP, rp, 1000));
                    vm1.write(f, udp(f, 0, remoteMac(r), VM1_MAC, VM1_IP, remoteIp(r), 1000, rp));
                    if (k < fip) {
                        ext.write(f, udp(f, 0, EXT_MAC, GW_MAC, server(k), FIP, 2000, 1000));
                        vm1.write(f, udp(f, 0, ROUTER_MAC, VM1_MAC, VM1_IP, server(k), 1000, 2000));
                    }
                    if (k < snat) {
                        vm2.write(f, udp(f, 0, ROUTER_MAC, VM2_MAC, VM2_IP, server(fip + k), 1024, 1001));
                        ext.write(f, udp(f, 0, EXT_MAC, GW_MAC, server(fip + k), SNAT_IP, 1001, 1024));
                    }
                }
            }
        }
        try (Pcap up = new Pcap(dir + "/ew-" + n + "-up.pcap"); Pcap vm1 = new Pcap(dir + "/ew-" + n + "-vm1.pcap")) {
            for (int rep = 0; rep < Math.max(1, (MIN_PACKETS + n - 1) / n); rep++) {
                for (int e = 0; e < n; e++) {
                    int r = e % remoteVms, rp = 1024 + e / remoteVms;
                    up.write(f, vxlan(f, e, remoteMac(r), VM1_MAC, remoteIp(r), VM1_IP, rp, 1000));
                    vm1.write(f, udp(f, 0, remoteMac(r), VM1_MAC, VM1_IP, remoteIp(r), 1000, rp));
                }
            }
        }
        // the second rx queue of every port in the two-worker layout: one frame, never polled
        try (Pcap one = new Pcap(dir + "/one.pcap")) {
            one.write(f, udp(f, 0, remoteMac(0), VM1_MAC, VM1_IP, remoteIp(0), 1000, 1024));
        }
        System.out.printf("wrote %s/tenant-%d-{up,ext,vm1,vm2}.pcap (east-west %d, floating IP %d, SNAT %d flows) and %s/ew-%d-{up,vm1}.pcap%n",
                dir, n, ew, fip, snat, dir, n);
    }

    /** 64-byte Ethernet/IPv4/UDP frame at {@code o}, IPv4 and UDP checksums set; returns the end offset. */
    static int udp(byte[] b, int o, long dmac, long smac, int sip, int dip, int sp, int dp) {
        mac(b, o, dmac);
        mac(b, o + 6, smac);
        put16(b, o + 12, 0x0800);
        int ip = o + 14;
        b[ip] = 0x45; b[ip + 1] = 0;
        put16(b, ip + 2, 50); put16(b, ip + 4, 0); put16(b, ip + 6, 0x4000);
        b[ip + 8] = 64; b[ip + 9] = 17; put16(b, ip + 10, 0);
        put32(b, ip + 12, sip); put32(b, ip + 16, dip);
        put16(b, ip + 10, ~sum(b, ip, 20, 0) & 0xffff);
        int u = ip + 20;
        put16(b, u, sp); put16(b, u + 2, dp); put16(b, u + 4, 30); put16(b, u + 6, 0);
        for (int k = u + 8; k < o + 64; k++) b[k] = 0;
        int pseudo = (sip >>> 16) + (sip & 0xffff) + (dip >>> 16) + (dip & 0xffff) + 17 + 30;
        int c = ~sum(b, u, 30, pseudo) & 0xffff;
        put16(b, u + 6, c == 0 ? 0xffff : c);
        return o + 64;
    }

    /** 114-byte VXLAN frame (underlay 192.168.50.2 → .1, VNI 100, outer UDP source 49152 + flow % 16384) around a 64-byte UDP frame. */
    static int vxlan(byte[] b, int flow, long smac, long dmac, int sip, int dip, int sp, int dp) {
        mac(b, 0, UNDERLAY_MAC);
        mac(b, 6, NEXT_HOP_MAC);
        put16(b, 12, 0x0800);
        b[14] = 0x45; b[15] = 0;
        put16(b, 16, 100); put16(b, 18, 0); put16(b, 20, 0x4000);
        b[22] = 64; b[23] = 17; put16(b, 24, 0);
        put32(b, 26, REMOTE_VTEP); put32(b, 30, LOCAL_VTEP);
        put16(b, 24, ~sum(b, 14, 20, 0) & 0xffff);
        put16(b, 34, 49152 + flow % 16384); put16(b, 36, 4789); put16(b, 38, 80); put16(b, 40, 0);
        put32(b, 42, 0x0800_0000); put32(b, 46, 100 << 8);
        return udp(b, 50, dmac, smac, sip, dip, sp, dp);
    }

    static int sum(byte[] b, int o, int len, int s) {
        for (int k = 0; k < len; k += 2) s += ((b[o + k] & 0xff) << 8) | (k + 1 < len ? b[o + k + 1] & 0xff : 0);
        while ((s >>> 16) != 0) s = (s & 0xffff) + (s >>> 16);
        return s;
    }

    static void mac(byte[] b, int o, long m) { for (int k = 0; k < 6; k++) b[o + k] = (byte) (m >>> (40 - 8 * k)); }
    static void put16(byte[] b, int o, int v) { b[o] = (byte) (v >>> 8); b[o + 1] = (byte) v; }
    static void put32(byte[] b, int o, int v) { put16(b, o, v >>> 16); put16(b, o + 2, v); }

    /** A little-endian pcap file (v2.4, Ethernet) written frame by frame. */
    static final class Pcap implements AutoCloseable {
        final DataOutputStream out;

        Pcap(String path) throws IOException {
            out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(path), 1 << 20));
            le(0xa1b2c3d4); le(2 | 4 << 16); le(0); le(0); le(65535); le(1);
        }

        void write(byte[] f, int len) throws IOException {
            le(0); le(0); le(len); le(len);
            out.write(f, 0, len);
        }

        void le(int v) throws IOException { out.writeInt(Integer.reverseBytes(v)); }

        @Override
        public void close() throws IOException { out.close(); }
    }

    // ------------------------------------------------------------------ run

    static String ip(int a) { return (a >>> 24) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff); }

    static String macStr(long m) {
        return String.format("%02x:%02x:%02x:%02x:%02x:%02x", (m >>> 40) & 0xff, (m >>> 32) & 0xff, (m >>> 24) & 0xff, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff);
    }

    static String config(String mix, String dir, int n, int remoteVms, int workers, int lcore, int mbufs, int memMb) {
        boolean tenant = mix.equals("tenant");
        if (!tenant && !mix.equals("ew")) throw new IllegalArgumentException("--mix must be tenant or ew");
        if (workers != 1 && workers != 2) throw new IllegalArgumentException("--workers must be 1 or 2");
        if (tenant && workers != 1) throw new IllegalArgumentException("the tenant mix has NAT, which takes one worker (overlay.external)");
        String q = workers == 2 ? ", rx-queues: 2, tx-queues: 2" : "";
        String one = workers == 2 ? ",rx_pcap=" + dir + "/one.pcap" : "";
        StringBuilder y = new StringBuilder();
        y.append("eal: [\"--no-huge\", \"-m\", \"").append(memMb).append("\", \"--no-pci\", \"--no-shconf\", \"-l\", \"").append(workers == 2 ? "0,1" : lcore).append("\"]\n");
        y.append("burst-size: 32\nidle-strategy: busy-spin\nmbufs: ").append(mbufs).append('\n');
        y.append("ports:\n");
        String src = dir + "/" + mix + "-" + n + "-";
        y.append("  - {name: up, device: \"net_pcap0,rx_pcap=").append(src).append("up.pcap").append(one).append(",infinite_rx=1\"").append(q).append("}\n");
        y.append("  - {name: vm1, device: \"net_pcap1,rx_pcap=").append(src).append("vm1.pcap").append(one).append(",infinite_rx=1\"").append(q).append("}\n");
        if (tenant) {
            y.append("  - {name: vm2, device: \"net_pcap2,rx_pcap=").append(src).append("vm2.pcap,infinite_rx=1\"}\n");
            y.append("  - {name: ext, device: \"net_pcap3,rx_pcap=").append(src).append("ext.pcap,infinite_rx=1\"}\n");
            y.append("workers:\n  - {lcore: ").append(lcore).append(", rx: [up, vm1, vm2, ext]}\n");
        } else if (workers == 2) {
            y.append("workers:\n  - {lcore: 0, rx: [\"up:0\"]}\n  - {lcore: 1, rx: [\"vm1:0\"]}\n");
        } else {
            y.append("workers:\n  - {lcore: ").append(lcore).append(", rx: [up, vm1]}\n");
        }
        y.append("""
                overlay:
                  uplink: up
                  underlay-ip: 192.168.50.1/24
                  underlay-mac: "02:00:00:00:aa:01"
                  next-hop-mac: "02:00:00:00:aa:02"
                  router-mac: "02:00:00:00:ff:01"
                """);
        if (tenant) {
            y.append("  external: {port: ext, mac: \"02:00:00:00:ee:01\", gateway-mac: \"02:00:00:00:99:99\", subnet: 203.0.113.0/24, gateway: 203.0.113.254, "
                    + "floating-ips: [203.0.113.10], snat-addresses: [203.0.113.1], port-block: 1024, blocks-per-vm: 64}\n");
        }
        y.append("""
                  networks:
                    - name: blue
                      vni: 100
                      cidr: 10.254.0.0/16
                      subnets: [{name: a, cidr: 10.254.0.0/16, gateway: 10.254.255.254}]
                      vms:
                """);
        y.append("        - {name: vm1, subnet: a, mac: \"02:00:00:00:01:02\", ip: 10.254.0.1, port: vm1").append(tenant ? ", public: 203.0.113.10" : "").append("}\n");
        if (tenant) y.append("        - {name: vm2, subnet: a, mac: \"02:00:00:00:01:03\", ip: 10.254.0.2, port: vm2, public: outbound}\n");
        for (int r = 0; r < remoteVms; r++) {
            y.append("        - {name: r").append(r).append(", subnet: a, mac: \"").append(macStr(remoteMac(r))).append("\", ip: ").append(ip(remoteIp(r)))
                    .append(", vtep: 192.168.50.2}\n");
        }
        int conns = 2 * n + 4096;
        y.append("security-groups:\n  max-connections: ").append(conns).append("\n  max-connections-per-vm: ").append(conns).append('\n');
        y.append("""
                  groups:
                    - name: sg
                      rules:
                        - {id: in-udp1000, direction: ingress, protocol: udp, ports: 1000}
                        - {id: out-udp1001, direction: egress, protocol: udp, ports: 1001}
                  vm-ports:
                    - {port: vm1, groups: [sg]}
                """);
        if (tenant) y.append("    - {port: vm2, groups: [sg]}\n");
        return y.toString();
    }

    static void run(String mix, String dir, int n, int remoteVms, int workers, int lcore, int warmup, int seconds, int mbufs, int memMb) throws Exception {
        String yaml = config(mix, dir, n, remoteVms, workers, lcore, mbufs, memMb);
        SluiceConfig cfg = ConfigLoader.parse("tenant-bench.yaml", yaml);
        Counters counters = Counters.inMemory(4096);
        FirewallState fw = new FirewallState(cfg.ports().size(), FirewallConfigLoader.parseDocument("tenant-bench.yaml", yaml, cfg));
        try (Dataplane dp = Dataplane.start(cfg, OverlayPipeline.factory(cfg, counters, fw), counters)) {
            System.out.printf("mix=%s flows=%d remote-vms=%d workers=%d mbufs=%d%n", mix, n, remoteVms, workers, mbufs);
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long[] tid = new long[workers];
            for (int w = 0; w < workers; w++) tid[w] = dp.workerThread(w).threadId();
            // every flow established (its conntrack entry made by the first pass of the files), then the warm-up
            long deadline = System.nanoTime() + 300_000_000_000L, tracked = 0;
            while ((tracked = counters.snapshot().getOrDefault("firewall connections tracked", 0L)) < n) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("only " + tracked + " of " + n + " connections after 300 s");
                Thread.sleep(20);
            }
            System.out.printf("established=%d after %.1f s%n", tracked, (System.nanoTime() - deadline + 300_000_000_000L) / 1e9);
            Thread.sleep(warmup * 1000L);
            long[] c0 = new long[workers], c1 = new long[workers];
            for (int w = 0; w < workers; w++) c0[w] = mx.getThreadCpuTime(tid[w]);
            long t0 = System.nanoTime();
            Map<String, Long> s0 = counters.snapshot();
            Thread.sleep(seconds * 1000L);
            long t1 = System.nanoTime();
            for (int w = 0; w < workers; w++) c1[w] = mx.getThreadCpuTime(tid[w]);
            Map<String, Long> s1 = counters.snapshot();
            dp.stopWorkers();
            Map<String, Long> end = counters.snapshot();
            for (Map.Entry<String, Long> e : end.entrySet()) {
                if (e.getValue() != 0) System.out.printf("  %-55s %d%n", e.getKey(), e.getValue());
            }
            long rx = sum(s1, " rx packets") - sum(s0, " rx packets");
            long tx = sum(s1, " tx packets") - sum(s0, " tx packets");
            long drops = sum(s1, " drop ") - sum(s0, " drop ");
            long cpu = 0;
            double minShare = 1e9;
            for (int w = 0; w < workers; w++) {
                cpu += c1[w] - c0[w];
                double share = (c1[w] - c0[w]) / (double) (t1 - t0);
                minShare = Math.min(minShare, share);
                System.out.printf("worker %d cpu share=%.3f handoff out=%d in=%d full=%d rx_pauses=%d%n", w, share,
                        delta(s0, s1, "worker " + w + " handoff out packets"), delta(s0, s1, "worker " + w + " handoff in packets"),
                        delta(s0, s1, "worker " + w + " handoff full drops"), delta(s0, s1, "worker " + w + " handoff rx pauses"));
            }
            StringBuilder ports = new StringBuilder("window ports");
            for (String p : mix.equals("tenant") ? new String[] {"up", "vm1", "vm2", "ext"} : new String[] {"up", "vm1"}) {
                ports.append(' ').append(p).append('=').append(delta(s0, s1, "port " + p + " rx packets")).append('/').append(delta(s0, s1, "port " + p + " tx packets"));
            }
            System.out.println(ports);
            System.out.printf("window rx=%d tx=%d drops=%d secs=%.3f%n", rx, tx, drops, (t1 - t0) / 1e9);
            System.out.printf("worker cpu share=%.3f%n", minShare);
            System.out.printf("cpu_mpps=%.3f%n", rx * 1e3 / Math.max(1, cpu));
            System.out.printf("mpps=%.3f%n", rx * 1e3 / (t1 - t0));
        }
    }

    static long delta(Map<String, Long> a, Map<String, Long> b, String key) { return b.getOrDefault(key, 0L) - a.getOrDefault(key, 0L); }

    /** Sum of the per-port counters "port P ..." whose name contains {@code what}. */
    static long sum(Map<String, Long> s, String what) {
        long t = 0;
        for (Map.Entry<String, Long> e : s.entrySet()) {
            if (e.getKey().startsWith("port ") && e.getKey().contains(what)) t += e.getValue();
        }
        return t;
    }
}
