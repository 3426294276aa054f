package io.sluice.bench.nat;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;

import java.util.Map;

/**
 * Sluice's NAT path (overlay pipeline with security groups and an external network, one worker)
 * on the same frames as the OVS-DPDK {@code ct(nat)} peer of {@code ./sluice bench nat}
 * (bench/scripts/nat.sh): one VM "vm" (10.254.0.1, network 10.254.0.0/16) and the external port
 * "ext"; the VM's frames (to 10.253.x.y / 10.128+.x.y, outside its network, to the router MAC)
 * are replayed by {@code net_pcap} on "vm", the servers' replies on "ext"; what Sluice sends is
 * dropped by net_pcap (no tx file) or written to {@code --tx-dir}/tx-{ext,vm}.pcap with
 * {@code --check} (the file read once, for the translation check by natcheck.py).
 *
 * <pre>
 * java ... io.sluice.bench.nat.NatPcapBench --mode snat|fip --vm-pcap F [--ext-pcap F]
 *     [--lcore 1] [--warmup 3] [--seconds 3] [--mbufs N] [--mem MB] [--max-conns N]
 *     [--check DIR]          read each pcap once, write what leaves to DIR/tx-ext.pcap, DIR/tx-vm.pcap
 *     [--once WARM]          new connections: vm pcap read once, CPU time per packet after WARM packets
 * </pre>
 * Modes: {@code snat}: the VM is outbound-only, SNAT address 203.0.113.1 (one VM, so its flows from
 * one internal port share one external port, 1024: endpoint-independent, RFC 4787 REQ-1);
 * {@code fip}: floating IP 198.51.100.1. Security group "sg": egress UDP 1001, ingress UDP 1000.
 * Prints the non-zero counters, {@code check rx= tx= drops=}, {@code worker cpu share=},
 * {@code cpu_mpps=} (packets per CPU-second of the worker thread) and {@code mpps=} (wall).
 */
public final class NatPcapBench {
    public static void main(String[] args) throws Exception {
        String mode = "snat", vmPcap = null, extPcap = null, check = null;
        int lcore = 1, warmup = 3, seconds = 3, mbufs = 16383, memMb = 1024, maxConns = 262_144, once = -1;
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--mode" -> mode = v;
                case "--vm-pcap" -> vmPcap = v;
                case "--ext-pcap" -> extPcap = v;
                case "--lcore" -> lcore = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--seconds" -> seconds = Integer.parseInt(v);
                case "--mbufs" -> mbufs = Integer.parseInt(v);
                case "--mem" -> memMb = Integer.parseInt(v);
                case "--max-conns" -> maxConns = Integer.parseInt(v);
                case "--check" -> check = v;
                case "--once" -> once = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (vmPcap == null) throw new IllegalArgumentException("--vm-pcap FILE is required");
        boolean fip = switch (mode) {
            case "snat" -> false;
            case "fip" -> true;
            default -> throw new IllegalArgumentException("--mode must be snat or fip");
        };
        boolean loop = check == null && once < 0;
        String rxOpt = loop ? ",infinite_rx=1" : "";
        String vmDev = "net_pcap0,rx_pcap=" + vmPcap + rxOpt + (check != null ? ",tx_pcap=" + check + "/tx-vm.pcap" : "");
        String extDev = extPcap != null
                ? "net_pcap1,rx_pcap=" + extPcap + rxOpt + (check != null ? ",tx_pcap=" + check + "/tx-ext.pcap" : "")
                : "net_null1,no-rx=1";
        if (check != null && extPcap == null) throw new IllegalArgumentException("--check needs --ext-pcap");
        String ext = fip
                ? "subnet: 198.51.100.0/24, gateway: 198.51.100.254, floating-ips: [198.51.100.1], snat-addresses: [198.51.100.2]"
                : "subnet: 203.0.113.0/24, gateway: 203.0.113.254, snat-addresses: [203.0.113.1], port-block: 1024, blocks-per-vm: 64";
        String yaml = """
                eal: ["--no-huge", "-m", "%d", "--no-pci", "--no-shconf", "-l", "%d"]
                burst-size: 32
                idle-strategy: busy-spin
                mbufs: %d
                ports:
                  - {name: up, device: "net_null2,no-rx=1"}
                  - {name: ext, device: "%s"}
                  - {name: vm, device: "%s"}
                workers:
                  - {lcore: %d, rx: [vm, ext]}
                overlay:
                  uplink: up
                  underlay-ip: 192.168.50.1/24
                  underlay-mac: "02:00:00:00:aa:01"
                  next-hop-mac: "02:00:00:00:aa:02"
                  router-mac: "02:00:00:00:ff:01"
                  external: {port: ext, mac: "02:00:00:00:ee:01", gateway-mac: "02:00:00:00:99:99", %s}
                  networks:
                    - name: blue
                      vni: 100
                      cidr: 10.254.0.0/16
                      subnets: [{name: a, cidr: 10.254.0.0/16, gateway: 10.254.255.254}]
                      vms:
                        - {name: vm, subnet: a, mac: "02:00:00:00:01:02", ip: 10.254.0.1, port: vm, public: %s}
                security-groups:
                  max-connections: %d
                  max-connections-per-vm: %d
                  groups:
                    - name: sg
                      rules:
                        - {id: out-udp1001, direction: egress, protocol: udp, ports: 1001}
                        - {id: in-udp1000, direction: ingress, protocol: udp, ports: 1000}
                  vm-ports:
                    - {port: vm, groups: [sg]}
                """.formatted(memMb, lcore, mbufs, extDev, vmDev, lcore, ext, fip ? "198.51.100.1" : "outbound", maxConns, maxConns);
        SluiceConfig cfg = ConfigLoader.parse("nat-bench.yaml", yaml);
        Counters counters = Counters.inMemory(2048);
        FirewallState fw = new FirewallState(cfg.ports().size(), FirewallConfigLoader.parseDocument("nat-bench.yaml", yaml, cfg));
        try (Dataplane dp = Dataplane.start(cfg, OverlayPipeline.factory(cfg, counters, fw), counters)) {
            System.out.printf("mode=%s vm-pcap=%s ext-pcap=%s lcore=%d%s%n", mode, vmPcap, extPcap, lcore, check != null ? " check=" + check : "");
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long tid = dp.workerThread(0).threadId();
            if (check != null || once >= 0) {
                // read once: wait until rx stops moving, CPU time after `once` packets
                long deadline = System.nanoTime() + 180_000_000_000L;
                long warm = Math.max(once, 0);
                while (rx(counters.snapshot()) < warm) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("warm-up not done");
                    Thread.sleep(1);
                }
                long cpu0 = mx.getThreadCpuTime(tid), t0 = System.nanoTime(), p0 = rx(counters.snapshot());
                long last = p0, lastCpu = cpu0, lastT = t0, lastChange = t0;
                while (System.nanoTime() - lastChange < 500_000_000L) {
                    Thread.sleep(0, 200_000);
                    long r = rx(counters.snapshot());
                    if (r != last) {
                        last = r;
                        lastCpu = mx.getThreadCpuTime(tid);
                        lastT = System.nanoTime();
                        lastChange = lastT;
                    }
                    if (lastT > deadline) throw new IllegalStateException("file not done: rx=" + r);
                }
                dp.stopWorkers();
                report(counters.snapshot());
                long n = last - p0;
                System.out.printf("measured packets=%d (after %d warm-up) wall=%.3f ms worker cpu=%.3f ms%n", n, p0, (lastT - t0) / 1e6, (lastCpu - cpu0) / 1e6);
                System.out.printf("worker cpu share=%.2f%n", (lastCpu - cpu0) / (double) Math.max(1, lastT - t0));
                System.out.printf("new_ns=%.1f%n", (lastCpu - cpu0) / (double) Math.max(1, n));
                System.out.printf("cpu_mpps=%.3f%n", n * 1e3 / Math.max(1, lastCpu - cpu0));
                return;
            }
            Thread.sleep(warmup * 1000L);
            long cpu0 = mx.getThreadCpuTime(tid);
            long t0 = System.nanoTime();
            Map<String, Long> s0 = counters.snapshot();
            Thread.sleep(seconds * 1000L);
            long t1 = System.nanoTime();
            long cpu1 = mx.getThreadCpuTime(tid);
            Map<String, Long> s1 = counters.snapshot();
            dp.stopWorkers();
            report(counters.snapshot());
            long n = rx(s1) - rx(s0);
            System.out.printf("window rx=%d tx=%d drops=%d%n", n, tx(s1) - tx(s0), drops(s1) - drops(s0));
            System.out.printf("worker cpu share=%.2f%n", (cpu1 - cpu0) / (double) (t1 - t0));
            System.out.printf("cpu_mpps=%.3f%n", n * 1e3 / Math.max(1, cpu1 - cpu0));
            System.out.printf("mpps=%.3f%n", n * 1e3 / (t1 - t0));
        }
    }

    static long rx(Map<String, Long> s) {
        return s.getOrDefault("port vm rx packets", 0L) + s.getOrDefault("port ext rx packets", 0L);
    }

    static long tx(Map<String, Long> s) {
        return s.getOrDefault("port vm tx packets", 0L) + s.getOrDefault("port ext tx packets", 0L);
    }

    static long drops(Map<String, Long> s) {
        long d = 0;
        for (Map.Entry<String, Long> e : s.entrySet()) if (e.getKey().contains(" drop ")) d += e.getValue();
        return d;
    }

    /** The non-zero counters, then "check rx= tx= drops=" over the whole run (drops: every per-port drop counter). */
    static void report(Map<String, Long> s) {
        for (Map.Entry<String, Long> e : s.entrySet()) {
            if (e.getValue() != 0) System.out.printf("  %-50s %d%n", e.getKey(), e.getValue());
        }
        System.out.printf("check rx=%d tx=%d drops=%d%n", rx(s), tx(s), drops(s));
    }
}
