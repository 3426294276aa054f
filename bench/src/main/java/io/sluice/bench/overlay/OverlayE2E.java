package io.sluice.bench.overlay;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.packet.Checksum;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.overlay.OverlayPipeline;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * End-to-end rate of the overlay pipeline on DPDK {@code net_null} ports, one worker on one lcore:
 * <ul>
 *   <li>{@code decap}: the uplink (port 0) receives 114-byte VXLAN frames (VNI 100, from the
 *       allowed VTEP 192.168.50.2, 64-byte inner frame remote VM → local VM in the same subnet):
 *       parse → decap → anti-spoof → route → tx on the VM port (port 1, a sink: {@code no-rx=1});</li>
 *   <li>{@code encap}: the VM port receives 64-byte frames local VM → remote VM: parse →
 *       anti-spoof → route → encap (static next-hop MAC) → tx on the uplink (a sink).</li>
 * </ul>
 * Every mbuf of the pool is pre-filled with the frame ({@code net_null} does not write packet data;
 * neither path writes the bytes at the frame's start: decap moves {@code data} forward, encap
 * writes the outer headers into the headroom, L2 inside a subnet leaves the inner frame alone).
 * Decap → route → encap in one host is a hairpin the data plane refuses by design (no transit),
 * so the two halves are measured separately, like OVS's {@code vxlan-decap} / {@code vxlan-encap}.
 *
 * <pre>java ... io.sluice.bench.overlay.OverlayE2E decap|encap [--lcore 1] [--warmup 3] [--seconds 6]
 *     [--pcap FILE [--mbufs N] [--mem MB]]
 * java ... io.sluice.bench.overlay.OverlayE2E write-pcap --dir DIR --flows N [--remote-vms R]</pre>
 * {@code --remote-vms R} (default 1, the same value for write-pcap and the run) puts R remote VMs
 * behind VTEP 192.168.50.2 (10.0.1.20 + i, MAC 02:00:00:ii:ii:0a) in the configuration, and flow k
 * of the pcaps goes from / to remote VM k % R, so anti-spoof and route look up R different VMs.
 * With {@code --pcap} the receiving port is {@code net_pcap0,rx_pcap=FILE,infinite_rx=1} (the pcap
 * replayed from memory, one copy per packet, the device dpdk-testpmd and OVS-DPDK read in
 * bench/scripts/overlay.sh) instead of a pre-filled {@code net_null}; net_pcap holds the whole file
 * in mbufs, so give {@code --mbufs} above its packet count. {@code write-pcap} writes
 * {@code DIR/decap-N.pcap} and {@code DIR/encap-N.pcap}: the frames this harness's configuration
 * forwards, over N inner flows (inner UDP ports vary per flow; for decap the outer UDP source port
 * too, 49152 + flow % 16384, as a VTEP derives it from the inner flow), IPv4 checksums set.
 * Prints {@code check rx= forwarded=} (whole run), {@code cpu_mpps=} (packets per CPU-second of the
 * worker) and last {@code mpps=} (wall clock).
 */
public final class OverlayE2E {
    static final long LOCAL_MAC = 0x02_00_00_00_00_0bL;
    static final long REMOTE_MAC = 0x02_00_00_00_00_0aL;
    static final int LOCAL_IP = 0x0A00_010A;
    static final int REMOTE_IP = 0x0A00_0114;

    /** Remote VM i (all behind VTEP 192.168.50.2): MAC 02:00:00:ii:ii:0a, IPv4 10.0.1.20 + i. */
    static long remoteMac(int i) { return REMOTE_MAC + ((long) i << 8); }
    static int remoteIp(int i) { return REMOTE_IP + i; }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "decap";
        int lcore = 1, warmup = 3, seconds = 6, mbufs = 16384, memMb = 1024, flows = 1, remoteVms = 1;
        String pcap = null, dir = ".";
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--lcore" -> lcore = Integer.parseInt(args[i + 1]);
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--pcap" -> pcap = args[i + 1];
                case "--mbufs" -> mbufs = Integer.parseInt(args[i + 1]);
                case "--mem" -> memMb = Integer.parseInt(args[i + 1]);
                case "--dir" -> dir = args[i + 1];
                case "--flows" -> flows = Integer.parseInt(args[i + 1]);
                case "--remote-vms" -> remoteVms = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (mode.equals("write-pcap")) {
            writePcap(dir + "/decap-" + flows + ".pcap", flows, remoteVms, true);
            writePcap(dir + "/encap-" + flows + ".pcap", flows, remoteVms, false);
            System.out.printf("wrote %s/decap-%d.pcap %s/encap-%d.pcap (%d packets each)%n", dir, flows, dir, flows, Math.max(flows, MIN_PCAP_PACKETS));
            return;
        }
        boolean decap = mode.equals("decap");
        if (!decap && !mode.equals("encap")) {
            throw new IllegalArgumentException("mode must be decap, encap or write-pcap");
        }
        String source = pcap != null ? "net_pcap0,rx_pcap=" + pcap + ",infinite_rx=1" : null;
        String up = decap ? (source != null ? source : "net_null0,size=114") : "net_null0,no-rx=1";
        String vm = decap ? "net_null1,no-rx=1" : (source != null ? source : "net_null1,size=64");
        String eal = "--no-huge\", \"-m\", \"" + memMb + "\", \"--no-pci\", \"--no-shconf\", \"-l\", \"" + lcore;
        String yaml = """
                eal: ["%s"]
                burst-size: 32
                idle-strategy: busy-spin
                mbufs: %d
                ports:
                  - {name: up, device: "%s"}
                  - {name: vm, device: "%s"}
                workers:
                  - {lcore: %d, rx: [up, vm]}
                overlay:
                  uplink: up
                  underlay-ip: 192.168.50.1/24
                  underlay-mac: "02:00:00:00:aa:01"
                  next-hop-mac: "02:00:00:00:aa:02"
                  router-mac: "02:00:00:00:ff:01"
                  networks:
                    - name: blue
                      vni: 100
                      cidr: 10.0.0.0/16
                      subnets: [{name: a, cidr: 10.0.0.0/16, gateway: 10.0.0.1}]
                      vms:
                        - {name: local, subnet: a, mac: "02:00:00:00:00:0b", ip: 10.0.1.10, port: vm}
                """.formatted(eal, mbufs, up, vm, lcore) + remoteVmsYaml(remoteVms);
        SluiceConfig cfg = ConfigLoader.parse("overlay-bench", yaml);
        Counters counters = Counters.inMemory(1024);
        try (Dataplane dp = Dataplane.prepare(cfg, OverlayPipeline.factory(cfg, counters), counters, false)) {
            if (pcap == null) {
                int filled = prefill(dp.pool(), mbufs, decap);
                System.out.printf("mode=%s lcore=%d mbufs prefilled=%d%n", mode, lcore, filled);
            } else {
                System.out.printf("mode=%s lcore=%d pcap=%s mbufs=%d%n", mode, lcore, pcap, mbufs);
            }
            dp.startWorkers();
            Thread.sleep(warmup * 1000L);
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long tid = dp.workerThread(0).threadId();
            long cpu0 = mx.getThreadCpuTime(tid);
            long t0 = System.nanoTime();
            long p0 = forwarded(counters.snapshot(), decap);
            Thread.sleep(seconds * 1000L);
            long t1 = System.nanoTime();
            long cpu1 = mx.getThreadCpuTime(tid);
            long p1 = forwarded(counters.snapshot(), decap);
            dp.stopWorkers();
            Map<String, Long> end = counters.snapshot();
            end.forEach((k, v) -> {
                if (v != 0) {
                    System.out.printf("  %-40s %d%n", k, v);
                }
            });
            // the whole run: every packet received on the source port must have left by the expected one
            System.out.printf("check rx=%d forwarded=%d%n", end.getOrDefault(decap ? "port up rx packets" : "port vm rx packets", 0L),
                    forwarded(end, decap));
            System.out.printf("worker cpu share=%.2f%n", (cpu1 - cpu0) / (double) (t1 - t0));
            System.out.printf("cpu_mpps=%.3f%n", (p1 - p0) * 1e3 / Math.max(1, cpu1 - cpu0));
            System.out.printf("mpps=%.3f%n", (p1 - p0) * 1e3 / (t1 - t0));
        }
    }

    /** Packets that left by the expected port (decap: the VM port; encap: the uplink). */
    static long forwarded(Map<String, Long> snap, boolean decap) {
        return snap.getOrDefault(decap ? "port vm tx packets" : "port up tx packets", 0L);
    }

    static int prefill(long pool, int n, boolean decap) {
        List<MemorySegment> held = new ArrayList<>();
        int total = 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = MemorySegment.ofAddress(pool);
            int chunk = 256;
            while (chunk > 0) {
                MemorySegment ptrs = a.allocate(8L * chunk);
                if (Shim.mbufAllocBulk(p, ptrs, chunk) != 0) {
                    chunk /= 2;
                    continue;
                }
                held.add(ptrs);
                for (int i = 0; i < chunk; i++) {
                    long d = Mbuf.data(ptrs.getAtIndex(ValueLayout.JAVA_LONG, i));
                    if (decap) {
                        writeVxlan(d, 0, 0);
                    } else {
                        writeInner(d, LOCAL_MAC, REMOTE_MAC, LOCAL_IP, REMOTE_IP, 0);
                    }
                }
                total += chunk;
            }
            for (MemorySegment ptrs : held) {
                Shim.mbufFreeBulk(ptrs, (int) (ptrs.byteSize() / 8));
            }
        }
        return total;
    }

    /** The remote VMs' entries of the bench configuration (network blue, subnet a, VTEP 192.168.50.2). */
    static String remoteVmsYaml(int n) {
        if (n < 1 || n > 60_000) {
            throw new IllegalArgumentException("--remote-vms must be 1..60000");
        }
        StringBuilder y = new StringBuilder();
        for (int i = 0; i < n; i++) {
            long mac = remoteMac(i);
            int ip = remoteIp(i);
            y.append(String.format("        - {name: r%d, subnet: a, mac: \"%02x:%02x:%02x:%02x:%02x:%02x\", ip: %d.%d.%d.%d, vtep: 192.168.50.2}%n", i,
                    (mac >>> 40) & 0xff, (mac >>> 32) & 0xff, (mac >>> 24) & 0xff, (mac >>> 16) & 0xff, (mac >>> 8) & 0xff, mac & 0xff,
                    ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff));
        }
        return y.toString();
    }

    /** At least this many packets per pcap (net_pcap replays the file; 1 flow = the same frame repeated). */
    static final int MIN_PCAP_PACKETS = 1024;

    /** decap: 114-byte VXLAN frames; encap: 64-byte inner frames local → remote; packet i is flow i % flows. */
    static void writePcap(String file, int flows, int remoteVms, boolean decap) throws IOException {
        int len = decap ? 114 : 64;
        int packets = Math.max(flows, MIN_PCAP_PACKETS);
        try (Arena a = Arena.ofConfined();
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(file), 1 << 20))) {
            MemorySegment frame = a.allocate(len);
            byte[] bytes = new byte[len];
            // pcap global header, little endian: magic, v2.4, tz 0, sigfigs 0, snaplen 65535, Ethernet
            out.write(le(0xa1b2c3d4)); out.write(le(2 | 4 << 16)); out.write(le(0)); out.write(le(0)); out.write(le(65535)); out.write(le(1));
            for (int i = 0; i < packets; i++) {
                int flow = i % flows;
                int r = flow % remoteVms;
                if (decap) {
                    writeVxlan(frame.address(), flow, r);
                } else {
                    writeInner(frame.address(), LOCAL_MAC, remoteMac(r), LOCAL_IP, remoteIp(r), flow);
                }
                MemorySegment.copy(frame, ValueLayout.JAVA_BYTE, 0, bytes, 0, len);
                out.write(le(0)); out.write(le(0)); out.write(le(len)); out.write(le(len));
                out.write(bytes);
            }
        }
    }

    private static byte[] le(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    /**
     * 64-byte Ethernet/IPv4/UDP frame src → dst; flow k uses UDP ports 40000 + k % 25000 → 9 + k / 25000
     * (flow 0: 40000 → 9). IPv4 header checksum set (OVS checks it), UDP checksum 0.
     */
    static void writeInner(long d, long srcMac, long dstMac, int srcIp, int dstIp, int flow) {
        Mem.putMac(d, dstMac);
        Mem.putMac(d + 6, srcMac);
        Mem.put16(d + 12, 0x0800);
        Mem.put8(d + 14, 0x45);
        Mem.put8(d + 15, 0);
        Mem.put16(d + 16, 50);
        Mem.put32(d + 18, 0);
        Mem.put8(d + 22, 64);
        Mem.put8(d + 23, 17);
        Mem.put16(d + 24, 0);
        Mem.put32(d + 26, srcIp);
        Mem.put32(d + 30, dstIp);
        Mem.put16(d + 34, 40000 + flow % 25000);
        Mem.put16(d + 36, 9 + flow / 25000);
        Mem.put16(d + 38, 30);
        Mem.put16(d + 40, 0);
        for (int k = 42; k < 64; k++) {
            Mem.put8(d + k, 0);
        }
        Checksum.setIpv4Header(d + 14);
    }

    /**
     * 114-byte VXLAN frame: underlay 192.168.50.2 → 192.168.50.1, VNI 100, inner remote → local
     * (inner flow {@code flow}, outer UDP source port 49152 + flow % 16384).
     */
    static void writeVxlan(long d, int flow, int remoteVm) {
        Mem.putMac(d, 0x02_00_00_00_aa_01L);
        Mem.putMac(d + 6, 0x02_00_00_00_aa_02L);
        Mem.put16(d + 12, 0x0800);
        Mem.put8(d + 14, 0x45);
        Mem.put8(d + 15, 0);
        Mem.put16(d + 16, 100);
        Mem.put32(d + 18, 0x0000_4000);
        Mem.put8(d + 22, 64);
        Mem.put8(d + 23, 17);
        Mem.put16(d + 24, 0);
        Mem.put32(d + 26, 0xC0A8_3202);
        Mem.put32(d + 30, 0xC0A8_3201);
        Mem.put16(d + 34, 49152 + flow % 16384);
        Mem.put16(d + 36, 4789);
        Mem.put16(d + 38, 80);
        Mem.put16(d + 40, 0);
        Mem.put32(d + 42, 0x0800_0000);
        Mem.put32(d + 46, 100 << 8);
        writeInner(d + 50, remoteMac(remoteVm), LOCAL_MAC, remoteIp(remoteVm), LOCAL_IP, flow);
        Checksum.setIpv4Header(d + 14);
    }
}
