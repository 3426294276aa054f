package io.sluice.bench.forward;

import io.sluice.bench.Operability;
import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.agent.PipelineFactory;
import io.sluice.dataplane.stage.Pipelines;
import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.WorkerSpec;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.ffi.Eal;
import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Stage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * End-to-end forwarding rate of Sluice on two DPDK ports (net_null by default: an endless
 * source and a sink that frees), one worker on one lcore polling both ports, every received
 * packet through the pipeline and out by tx_burst (or dropped and counted).
 *
 * <pre>
 * java ... -cp benchmarks.jar io.sluice.bench.forward.ForwardBench
 *     [--pipeline io|macswap|parse-l2|FQCN] [--lcore 1] [--warmup 4] [--seconds 8]
 *     [--rx-meta true|false] [--burst 32] [--mbufs 16384] [--devs net_null] [--macs 1000]
 *     [--admin-socket PATH [--await-armed none|trace|capture]]
 * </pre>
 *
 * {@code FQCN} names a {@link PipelineFactory} with a no-argument constructor. Every mbuf of the
 * pool is pre-filled with a 64-byte Ethernet/IPv4/UDP frame (net_null does not write packet data).
 * {@code parse-l2} forwards every packet both ways over {@code --macs} learned MAC entries, as
 * testpmd io does (port 0 → port 1 and port 1 → port 0): the MAC table holds {@code macs / 2}
 * entries behind each port ({@link #peerMac}), and the first stage, {@link PeerMacs} (the traffic
 * generator's part: net_null cannot send different frames per port), writes into each received
 * frame the next destination MAC behind the other port, rotating over them; then the demo's own
 * stages (parse with every length check, ARP responder, L2 forwarding by the table). Its one 4-byte
 * store per packet is charged to Sluice. (Before 2026-12-06 parse-l2 sent every frame to one MAC
 * behind port 1, so port 1's half was dropped as L2_SAME_PORT.)
 *
 * <p>{@code --admin-socket PATH} serves {@code ./sluice trace / capture} on PATH as {@code ./sluice run}
 * does ({@link Operability}); with {@code --await-armed trace|capture} the warm-up starts only once a
 * client has armed that (the bench script runs {@code ./sluice trace --socket PATH ...}).
 *
 * <p>Prints one line per second, then {@code window rx= tx= drops=} (the measured window),
 * {@code check rx= tx= drops=} (the whole run, read after the worker stopped), {@code worker cpu share=},
 * {@code cpu_mpps=<packets per CPU-second of the worker thread / 1e6>} and, last,
 * {@code mpps=<packets per wall-clock second / 1e6>}.
 */
public final class ForwardBench {
    public static final long MAC_B = 0x02_00_00_00_00_0bL;
    public static final long MAC_A = 0x02_00_00_00_00_0aL;

    public static void main(String[] args) throws Exception {
        String pipeline = "macswap";
        int lcore = 1;
        int warmup = 4;
        int seconds = 8;
        boolean rxMeta = false;
        int burst = 32;
        int mbufs = 16384;
        String devs = "net_null";
        int nmacs = 1000;
        String adminSocket = null;
        String awaitArmed = "none";
        for (int i = 0; i < args.length; i += 2) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null) {
                throw new IllegalArgumentException("missing value after " + args[i]);
            }
            switch (args[i]) {
                case "--pipeline" -> pipeline = v;
                case "--lcore" -> lcore = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--seconds" -> seconds = Integer.parseInt(v);
                case "--rx-meta" -> rxMeta = Boolean.parseBoolean(v);
                case "--burst" -> burst = Integer.parseInt(v);
                case "--mbufs" -> mbufs = Integer.parseInt(v);
                case "--devs" -> devs = v;
                case "--macs" -> nmacs = Integer.parseInt(v);
                case "--admin-socket" -> adminSocket = v;
                case "--await-armed" -> awaitArmed = v;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        int perPort = nmacs / 2;
        int armMode = Operability.mode(awaitArmed);
        List<SluiceConfig.MacEntry> macs = macTable(nmacs);
        List<String> eal = Eal.noHugeArgs(Integer.toString(lcore), 1024, Eal.uniquePrefix("slb-fwd"));
        List<PortSpec> ports = List.of(new PortSpec("p0", devs + "0", 1, 1, -1), new PortSpec("p1", devs + "1", 1, 1, -1));
        WorkerSpec w = new WorkerSpec(lcore, List.of(new WorkerSpec.RxQueue(0, 0), new WorkerSpec.RxQueue(1, 0)), 0);
        SluiceConfig cfg = new SluiceConfig("forward bench", eal, ports, List.of(w), burst, "busy-spin", mbufs,
                macs, List.of(), null);

        PipelineFactory factory = switch (pipeline) {
            case "macswap" -> (c, i) -> new Stage[] {new io.sluice.dataplane.stage.WireStages.MacSwap()};
            case "io" -> (c, i) -> new Stage[] {new io.sluice.dataplane.stage.WireStages.Crossover()};
            case "parse-l2" -> (c, i) -> { // the generator's destination MACs, then the demo's stages: parse, arp, l2
                Stage[] l2 = Pipelines.l2(c);
                Stage[] st = new Stage[l2.length + 1];
                st[0] = new PeerMacs(perPort);
                System.arraycopy(l2, 0, st, 1, l2.length);
                return st;
            };
            default -> (PipelineFactory) Class.forName(pipeline).getDeclaredConstructor().newInstance();
        };
        Counters counters = Counters.inMemory(1024);
        try (Dataplane dp = Dataplane.prepare(cfg, factory, counters, rxMeta)) {
            int filled = prefill(dp.pool(), mbufs);
            System.out.printf("pipeline=%s rx-meta=%s burst=%d lcore=%d mbufs prefilled=%d macs=%d%n",
                    pipeline, rxMeta, burst, lcore, filled, macs.size());
            io.sluice.dataplane.debug.AdminServer admin = Operability.admin(adminSocket, dp, null);
            try {
                dp.startWorkers();
                Operability.housekeeping(dp);
                Operability.awaitArmed(dp.tap(), armMode, 120_000);
                Thread.sleep(warmup * 1000L);
                java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
                long tid = dp.workerThread(0).threadId();
                long cpu0 = mx.getThreadCpuTime(tid);
                long t0 = System.nanoTime();
                Map<String, Long> s0 = counters.snapshot();
                long p0 = rxPackets(s0);
                long prevT = t0;
                long prevP = p0;
                for (int s = 0; s < seconds; s++) {
                    Thread.sleep(1000);
                    long t = System.nanoTime();
                    long p = rxPackets(counters.snapshot());
                    System.out.printf("  %2d s  %.2f Mpps%n", s + 1, (p - prevP) * 1e3 / (t - prevT));
                    prevT = t;
                    prevP = p;
                }
                long cpu1 = mx.getThreadCpuTime(tid);
                Map<String, Long> snap = counters.snapshot();
                String armed = Operability.endState(dp.tap(), armMode);
                double mpps = (rxPackets(snap) - p0) * 1e3 / (prevT - t0);
                double cpuMpps = (rxPackets(snap) - p0) * 1e3 / Math.max(1, cpu1 - cpu0);
                dp.stopWorkers();
                Map<String, Long> end = counters.snapshot();
                end.forEach((k, v) -> {
                    if (v != 0) {
                        System.out.printf("  %-40s %d%n", k, v);
                    }
                });
                System.out.println(armed);
                System.out.printf("window rx=%d tx=%d drops=%d%n", rxPackets(snap) - p0,
                        Operability.ports(snap, "tx packets") - Operability.ports(s0, "tx packets"),
                        Operability.portDrops(snap) - Operability.portDrops(s0));
                System.out.printf("check rx=%d tx=%d drops=%d%n", Operability.ports(end, "rx packets"),
                        Operability.ports(end, "tx packets"), Operability.portDrops(end));
                System.out.printf("worker cpu share=%.3f%n", (cpu1 - cpu0) / (double) (prevT - t0));
                System.out.printf("cpu_mpps=%.3f%n", cpuMpps);
                System.out.printf("mpps=%.3f%n", mpps);
            } finally {
                if (admin != null) admin.close();
            }
        }
    }

    /**
     * The MAC table: MAC_B behind port 1, MAC_A behind port 0, and {@code nmacs / 2} learned MACs
     * behind each port ({@link #peerMac}).
     */
    public static List<SluiceConfig.MacEntry> macTable(int nmacs) {
        if (nmacs < 2 || nmacs > 2 * 65536) throw new IllegalArgumentException("--macs 2..131072, not " + nmacs);
        List<SluiceConfig.MacEntry> macs = new ArrayList<>();
        macs.add(new SluiceConfig.MacEntry(MAC_B, 1));
        macs.add(new SluiceConfig.MacEntry(MAC_A, 0));
        for (int k = 0; k < nmacs / 2; k++) {
            macs.add(new SluiceConfig.MacEntry(peerMac(0, k), 0));
            macs.add(new SluiceConfig.MacEntry(peerMac(1, k), 1));
        }
        return macs;
    }

    /** Learned MAC k (0..65535) behind port p (0, 1): 02:00:00:0(p+1):kk:kk. */
    public static long peerMac(int p, int k) {
        return 0x02_00_00_00_00_00L | ((long) (p + 1) << 16) | k;
    }

    /**
     * The generator's part of parse-l2: each received frame gets as destination the next of the
     * {@code perPort} learned MACs behind the other port ({@link #peerMac}), rotating (one cursor per
     * destination port), as a generator on that port would send (bytes 2..5 of the destination: one
     * 4-byte store; the pre-filled frame starts with 02:00).
     */
    public static final class PeerMacs implements Stage {
        private final int perPort;
        private final int[] next = new int[2];

        public PeerMacs(int perPort) {
            if (perPort < 1 || perPort > 65536) throw new IllegalArgumentException("perPort 1..65536, not " + perPort);
            this.perPort = perPort;
        }

        @Override
        public int process(io.sluice.dataplane.pipeline.Burst b) {
            int n = b.count;
            int[] k = next;
            for (int i = 0; i < n; i++) {
                int out = (b.inPort[i] ^ 1) & 1;
                int c = k[out];
                Mem.put32(b.data[i] + 2, (out + 1) << 16 | c);
                k[out] = c + 1 == perPort ? 0 : c + 1;
            }
            return n;
        }

        @Override
        public String name() {
            return "gen-peer-macs";
        }
    }

    static long rxPackets(Map<String, Long> snap) {
        return snap.getOrDefault("port p0 rx packets", 0L) + snap.getOrDefault("port p1 rx packets", 0L);
    }

    /** Writes a 64-byte Ethernet/IPv4/UDP frame to MAC_B at the data address of every mbuf of the pool. */
    static int prefill(long pool, int n) {
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
                    writeFrame(Mbuf.data(ptrs.getAtIndex(ValueLayout.JAVA_LONG, i)));
                }
                total += chunk;
            }
            for (MemorySegment ptrs : held) {
                Shim.mbufFreeBulk(ptrs, (int) (ptrs.byteSize() / 8));
            }
        }
        return total;
    }

    static void writeFrame(long d) {
        Mem.putMac(d, MAC_B);
        Mem.putMac(d + 6, MAC_A);
        Mem.put16(d + 12, 0x0800);
        Mem.put8(d + 14, 0x45);
        Mem.put8(d + 15, 0);
        Mem.put16(d + 16, 50);          // total length: 64 - 14
        Mem.put32(d + 18, 0);            // id, flags, fragment offset
        Mem.put8(d + 22, 64);            // TTL
        Mem.put8(d + 23, 17);            // UDP
        Mem.put16(d + 24, 0);
        Mem.put32(d + 26, 0x0AC70101);   // 10.199.1.1
        Mem.put32(d + 30, 0x0AC70102);   // 10.199.1.2
        Mem.put16(d + 34, 40000);
        Mem.put16(d + 36, 9);
        Mem.put16(d + 38, 30);           // UDP length: 50 - 20
        Mem.put16(d + 40, 0);
    }
}
