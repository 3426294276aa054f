package io.sluice.bench.firewall;

import io.sluice.bench.Operability;
import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.debug.AdminServer;
import io.sluice.dataplane.flowlog.FlowLogWiring;
import io.sluice.dataplane.flowlog.FlowLogs;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallPipelines;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.pipeline.DropReason;

import java.util.Map;

/**
 * End-to-end packet rate of Sluice's L2 + firewall pipeline on the same work as the OVS-DPDK
 * conntrack firewall peer (../shared/peers/ovs-dpdk, flows/br1-ct-fw.txt): a pcap replayed from
 * memory by {@code net_pcap infinite_rx} on port "ext" (not a VM port), switched by MAC to port
 * "vm" ({@code net_null,no-rx=1} sink, a VM port whose group allows UDP 1001 inbound, plus
 * {@code --extra-rules} more rules in front of it), one worker on one lcore.
 *
 * <pre>
 * java ... -cp sluice.jar:bench.jar io.sluice.bench.firewall.FirewallPcapBench --pcap FILE
 *     [--lcore 1] [--warmup 4] [--seconds 8] [--extra-rules 0] [--mbufs 16383] [--mem 1024] [--housekeeping off|on]
 * </pre>
 * net_pcap with infinite_rx holds the whole pcap in mbufs: give --mbufs above its packet count.
 * {@code --housekeeping on} moves the JVM's other threads off the worker's CPU as {@code ./sluice run}
 * does ({@code service.housekeeping-cpus: auto}); off (the default) leaves them where the JVM put them.
 *
 * <p>With {@code --once WARM} the pcap is read once from the file (no infinite_rx) and every
 * packet is meant to open a new connection (mkpcap.py one-way, one packet per flow): the first
 * WARM packets warm the JIT up, and the worker's CPU time is taken from the moment "ext" has
 * received WARM packets to the moment it has received them all ({@code --max-conns} must hold
 * them). Prints {@code new_ns=} (worker CPU ns per new connection) and {@code new_cpu_mpps=}.
 * Prints per-second rates, the counters, {@code window rx= tx= drops=} (the measured window),
 * {@code check rx= tx= drops=} (the whole run, after the worker stopped), then {@code cpu_mpps=}
 * (packets per CPU-second of the worker thread) and last {@code mpps=} (packets per wall-clock second
 * received on "ext").
 *
 * <p>Operability features (issue 14), through the operator's own mechanisms ({@link Operability}):
 * {@code --admin-socket PATH [--await-armed trace|capture]} serves {@code ./sluice trace / capture}
 * as {@code ./sluice run} does and starts the warm-up once a client armed it; {@code --flow-logs DIR
 * [--flow-log-interval S]} adds a {@code flow-logs:} section (directory DIR, {@code interval-s} S,
 * default 60, the config's default) to the configuration, opened by {@code FlowLogWiring.open} as
 * {@code ./sluice run} opens it.
 */
public final class FirewallPcapBench {
    public static void main(String[] args) throws Exception {
        String pcap = null, adminSocket = null, awaitArmed = "none", flowLogs = null;
        int flowLogInterval = 60;
        boolean housekeeping = false;
        int lcore = 1, warmup = 4, seconds = 8, extra = 0, mbufs = 16383, memMb = 1024, once = -1, maxConns = 262_144;
        for (int i = 0; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--pcap" -> pcap = v;
                case "--lcore" -> lcore = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--seconds" -> seconds = Integer.parseInt(v);
                case "--extra-rules" -> extra = Integer.parseInt(v);
                case "--mbufs" -> mbufs = Integer.parseInt(v);
                case "--mem" -> memMb = Integer.parseInt(v);
                case "--once" -> once = Integer.parseInt(v);
                case "--max-conns" -> maxConns = Integer.parseInt(v);
                case "--admin-socket" -> adminSocket = v;
                case "--await-armed" -> awaitArmed = v;
                case "--flow-logs" -> flowLogs = v;
                case "--flow-log-interval" -> flowLogInterval = Integer.parseInt(v);
                case "--housekeeping" -> housekeeping = switch (v) {
                    case "on" -> true;
                    case "off" -> false;
                    default -> throw new IllegalArgumentException("--housekeeping must be on or off, was " + v);
                };
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (pcap == null) throw new IllegalArgumentException("--pcap FILE is required");
        StringBuilder y = new StringBuilder();
        y.append("eal: [\"--no-huge\", \"-m\", \"").append(memMb).append("\", \"--no-pci\", \"--no-shconf\", \"-l\", \"").append(lcore).append("\"]\n");
        y.append("burst-size: 32\nidle-strategy: busy-spin\nmbufs: ").append(mbufs).append("\n");
        y.append("ports:\n  - { name: ext, device: \"net_pcap0,rx_pcap=").append(pcap).append(once >= 0 ? "" : ",infinite_rx=1").append("\" }\n");
        y.append("  - { name: vm, device: \"net_null0,no-rx=1\" }\n");
        y.append("workers:\n  - { lcore: ").append(lcore).append(", rx: [ext] }\n");
        y.append("mac-table:\n  - { mac: \"02:00:00:00:00:02\", port: vm }\n");
        y.append("security-groups:\n  max-connections: ").append(maxConns).append("\n  max-connections-per-vm: ").append(maxConns).append("\n  groups:\n    - name: app\n      rules:\n");
        for (int i = 0; i < extra; i++) {
            y.append("        - { direction: ingress, protocol: tcp, ports: ").append(2000 + i).append(", remote: 192.168.").append(i % 256).append(".0/24 }\n");
        }
        y.append("        - { id: udp1001, direction: ingress, protocol: udp, ports: 1001, remote: 0.0.0.0/0 }\n");
        y.append("  vm-ports:\n    - { port: vm, addresses: [10.253.0.1], groups: [app] }\n");
        if (flowLogs != null) y.append("flow-logs:\n  directory: \"").append(flowLogs).append("\"\n  interval-s: ").append(flowLogInterval).append('\n');
        int armMode = Operability.mode(awaitArmed);
        SluiceConfig cfg = ConfigLoader.parse("pcap-bench.yaml", y.toString());
        FirewallState fw = new FirewallState(cfg.ports().size(), FirewallConfigLoader.parseDocument("pcap-bench.yaml", y.toString(), cfg));
        Counters counters = Counters.inMemory(1024);
        FlowLogs logs = FlowLogWiring.open(cfg, fw, counters); // null without --flow-logs; before the stages are made
        try (Dataplane dp = Dataplane.start(cfg, FirewallPipelines.l2Factory(fw), counters);
             AdminServer admin = Operability.admin(adminSocket, dp, fw)) {
            System.out.printf("pcap=%s lcore=%d extra-rules=%d flow-logs=%s%n", pcap, lcore, extra, flowLogs == null ? "off" : flowLogs + " interval " + flowLogInterval + " s");
            if (housekeeping) Operability.housekeeping(dp); // as ./sluice run (service.housekeeping-cpus: auto)
            Operability.awaitArmed(dp.tap(), armMode, 120_000);
            if (once >= 0) {
                newConnections(dp, counters, fw, once);
                System.out.println(Operability.endState(dp.tap(), armMode));
                flowLogEnd(logs);
                return;
            }
            Thread.sleep(warmup * 1000L);
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long tid = dp.workerThread(0).threadId();
            long cpu0 = mx.getThreadCpuTime(tid);
            long t0 = System.nanoTime();
            Map<String, Long> s0 = counters.snapshot();
            long p0 = rx(s0);
            long prevT = t0, prevP = p0;
            for (int s = 0; s < seconds; s++) {
                Thread.sleep(1000);
                long t = System.nanoTime();
                long p = rx(counters.snapshot());
                System.out.printf("  %2d s  %.3f Mpps%n", s + 1, (p - prevP) * 1e3 / (t - prevT));
                prevT = t;
                prevP = p;
            }
            long cpu1 = mx.getThreadCpuTime(tid);
            Map<String, Long> snap = counters.snapshot();
            String armed = Operability.endState(dp.tap(), armMode);
            double mpps = (rx(snap) - p0) * 1e3 / (prevT - t0);
            double cpuMpps = (rx(snap) - p0) * 1e3 / Math.max(1, cpu1 - cpu0);
            dp.stopWorkers();
            Map<String, Long> end = counters.snapshot();
            end.forEach((k, v) -> {
                if (v != 0) System.out.printf("  %-50s %d%n", k, v);
            });
            System.out.printf("firewall: created=%d hits(app/udp1001)=%d no_rule=%d invalid=%d%n", fw.created(), fw.hits("app/udp1001"),
                    fw.drops(1, DropReason.FW_NO_RULE), fw.drops(1, DropReason.FW_INVALID));
            System.out.println(armed);
            flowLogEnd(logs);
            System.out.printf("window rx=%d tx=%d drops=%d%n", rx(snap) - p0,
                    Operability.ports(snap, "tx packets") - Operability.ports(s0, "tx packets"), Operability.portDrops(snap) - Operability.portDrops(s0));
            System.out.printf("check rx=%d tx=%d drops=%d%n", Operability.ports(end, "rx packets"), Operability.ports(end, "tx packets"), Operability.portDrops(end));
            System.out.printf("worker cpu share=%.3f%n", (cpu1 - cpu0) / (double) (prevT - t0));
            System.out.printf("cpu_mpps=%.3f%n", cpuMpps);
            System.out.printf("mpps=%.3f%n", mpps);
        } finally {
            if (logs != null) logs.close();
        }
    }

    /** "flowlog written=N lost=N" (the flow-log run's evidence that the writer ran), or nothing. */
    private static void flowLogEnd(FlowLogs logs) {
        if (logs != null) System.out.printf("flowlog written=%d lost=%d%n", logs.written(), logs.lost());
    }

    /** The --once run: CPU time per packet while the non-warm-up part of the file goes through. */
    private static void newConnections(Dataplane dp, Counters counters, FirewallState fw, int warm) throws InterruptedException {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = dp.workerThread(0).threadId();
        org.agrona.concurrent.status.CountersReader reader = counters.reader();
        int[] id = {-1};
        reader.forEach((cid, label) -> {
            if (label.equals("port ext rx packets")) id[0] = cid;
        });
        if (id[0] < 0) throw new IllegalStateException("no counter 'port ext rx packets'");
        long deadline = System.nanoTime() + 120_000_000_000L;
        long rx;
        while ((rx = reader.getCounterValue(id[0])) < warm) { // the warm-up flows
            if (System.nanoTime() > deadline) throw new IllegalStateException("warm-up not done: rx=" + rx);
            Thread.onSpinWait();
        }
        long cpu0 = mx.getThreadCpuTime(tid), t0 = System.nanoTime(), p0 = rx;
        long last = rx, lastCpu = cpu0, lastT = t0, lastChange = t0;
        while (System.nanoTime() - lastChange < 500_000_000L) { // until the file is done (rx still for 0.5 s)
            Thread.sleep(0, 200_000);
            long r = reader.getCounterValue(id[0]);
            if (r != last) {
                last = r;
                lastCpu = mx.getThreadCpuTime(tid);
                lastT = System.nanoTime();
                lastChange = lastT;
            }
            if (lastT > deadline) throw new IllegalStateException("file not done: rx=" + r);
        }
        long n = last - p0;
        dp.stopWorkers();
        Map<String, Long> snap = counters.snapshot();
        snap.forEach((k, v) -> {
            if (v != 0) System.out.printf("  %-50s %d%n", k, v);
        });
        System.out.printf("firewall: created=%d hits(app/udp1001)=%d no_rule=%d invalid=%d limit=%d%n", fw.created(), fw.hits("app/udp1001"),
                fw.drops(1, DropReason.FW_NO_RULE), fw.drops(1, DropReason.FW_INVALID), fw.drops(1, DropReason.FW_LIMIT));
        System.out.printf("check rx=%d tx=%d drops=%d%n", Operability.ports(snap, "rx packets"), Operability.ports(snap, "tx packets"), Operability.portDrops(snap));
        System.out.printf("measured packets=%d (after %d warm-up) wall=%.3f ms worker cpu=%.3f ms share=%.2f%n", n, p0,
                (lastT - t0) / 1e6, (lastCpu - cpu0) / 1e6, (lastCpu - cpu0) / (double) Math.max(1, lastT - t0));
        System.out.printf("new_ns=%.1f%n", (lastCpu - cpu0) / (double) Math.max(1, n));
        System.out.printf("new_cpu_mpps=%.3f%n", n * 1e3 / Math.max(1, lastCpu - cpu0));
    }

    static long rx(Map<String, Long> snap) {
        return snap.getOrDefault("port ext rx packets", 0L);
    }
}
