package io.sluice.bench.firewall;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallPipelines;
import io.sluice.dataplane.firewall.FirewallStage;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.config.FlowLogSettings;
import io.sluice.dataplane.flowlog.FlowLogs;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Question: how much lower is the established-flow rate of the firewall stage with flow logs on?
 * One process, three firewall stages over the same work ({@link FirewallBench}'s configuration:
 * {@code flows} established TCP connections ext1 -> vm1:8099, 32-packet bursts rotating over them):
 * flow logs off, on (interim every 60 s, the default) and on with interim records every second (the
 * worst case: every connection reported every second through the ring to the writer thread). Rounds
 * alternate the order of the three; each measures the <b>CPU time of this thread</b> (not wall time:
 * the machine is shared and loaded) over {@code bursts} bursts. Prints per round and the median of
 * each variant in ns per packet, and the ratios on/off, the figure that goes into bench/results.
 *
 * <pre>
 * java ... -cp benchmarks.jar io.sluice.bench.firewall.FlowLogCostBench [flows 10000] [rounds 21] [bursts 20000]
 * </pre>
 */
public final class FlowLogCostBench {
    static final int SLOT = 128;

    static final class Variant {
        final String name;
        final FirewallStage stage;
        final FlowLogs logs;
        final Path dir;
        final long frames;
        final int frameLen;
        final int flows;
        final Burst burst = new Burst(FirewallBench.BURST);
        int cursor;
        final long[] nsPerPacket;

        Variant(String name, int interim, int flows, int rounds, Arena arena) throws Exception {
            this.name = name;
            this.flows = flows;
            this.nsPerPacket = new long[rounds];
            String y = FirewallBench.config();
            SluiceConfig cfg = ConfigLoader.parse("bench.yaml", y);
            FirewallState fw = new FirewallState(4, FirewallConfigLoader.parseDocument("bench.yaml", y, cfg));
            if (interim > 0) {
                dir = Files.createTempDirectory("sluice-flowcost");
                logs = FlowLogs.open(new FlowLogSettings(dir, interim, 10, "hourly", 24, 1024, FlowLogSettings.Project.ALL, Map.of()), cfg, null);
                fw.flowLogs(logs);
                logs.start();
            } else {
                dir = null;
                logs = null;
            }
            Stage[] st = FirewallPipelines.l2(cfg, fw);
            stage = (FirewallStage) st[st.length - 1];
            frames = arena.allocate((long) flows * SLOT, 64).address();
            long scratch = arena.allocate(SLOT, 64).address();
            int ext = 0x0A4D000B, vm = 0x0A4D0001, len = 0;
            for (int f = 0; f < flows; f++) {
                int sport = 1024 + f;
                run(scratch, FirewallBench.frame(scratch, ext, vm, sport, 8099, 0x02, 1000, 0), FirewallBench.EXT1, FirewallBench.VM1);
                run(scratch, FirewallBench.frame(scratch, vm, ext, 8099, sport, 0x12, 5000, 1001), FirewallBench.VM1, FirewallBench.EXT1);
                run(scratch, FirewallBench.frame(scratch, ext, vm, sport, 8099, 0x10, 1001, 5001), FirewallBench.EXT1, FirewallBench.VM1);
                len = FirewallBench.frame(frames + (long) f * SLOT, ext, vm, sport, 8099, 0x18, 1001, 5001);
            }
            frameLen = len;
            if (stage.conntrack().size() != flows) throw new IllegalStateException(name + ": established " + stage.conntrack().size());
        }

        private void run(long at, int len, int in, int out) {
            burst.count = 1;
            FirewallBench.prep(burst, 0, at, len, in, out);
            stage.process(burst);
            if (burst.next[0] != Next.TX) throw new IllegalStateException("setup packet dropped: " + burst.dropReason[0]);
        }

        /** {@code n} bursts of established packets; returns a value to keep. */
        int bursts(int n) {
            Burst b = burst;
            int acted = 0;
            int c = cursor;
            for (int k = 0; k < n; k++) {
                b.count = FirewallBench.BURST;
                for (int i = 0; i < FirewallBench.BURST; i++) {
                    FirewallBench.prep(b, i, frames + (long) c * SLOT, frameLen, FirewallBench.EXT1, FirewallBench.VM1);
                    if (++c == flows) c = 0;
                }
                acted += stage.process(b);
                if (b.next[0] != Next.TX) throw new IllegalStateException(name + ": established packet dropped: " + b.dropReason[0]);
            }
            cursor = c;
            return acted;
        }
    }

    public static void main(String[] args) throws Exception {
        int flows = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 21;
        int bursts = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofShared()) {
            Variant[] v = {new Variant("off", 0, flows, rounds, arena), new Variant("on", 60, flows, rounds, arena),
                    new Variant("on-1s", 1, flows, rounds, arena)};
            for (int w = 0; w < 5; w++) for (Variant x : v) x.bursts(bursts); // JIT warm-up, all three
            long sink = 0;
            int[][] orders = {{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {0, 2, 1}, {2, 0, 1}, {1, 2, 0}};
            for (int r = 0; r < rounds; r++) {
                StringBuilder line = new StringBuilder("round " + r + ":");
                for (int idx : orders[r % orders.length]) {
                    Variant x = v[idx];
                    long t0 = mx.getCurrentThreadCpuTime();
                    sink += x.bursts(bursts);
                    long t1 = mx.getCurrentThreadCpuTime();
                    x.nsPerPacket[r] = (t1 - t0) * 1000 / ((long) bursts * FirewallBench.BURST); // picoseconds
                    line.append(String.format(" %s %.1f", x.name, x.nsPerPacket[r] / 1000.0));
                }
                System.out.println(line + " ns/packet (CPU)");
            }
            double[] med = new double[3];
            for (int i = 0; i < 3; i++) {
                long[] s = v[i].nsPerPacket.clone();
                Arrays.sort(s);
                med[i] = s[s.length / 2] / 1000.0;
            }
            double[] ratios = new double[rounds];
            double[] ratios1 = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratios[r] = (double) v[1].nsPerPacket[r] / v[0].nsPerPacket[r];
                ratios1[r] = (double) v[2].nsPerPacket[r] / v[0].nsPerPacket[r];
            }
            Arrays.sort(ratios);
            Arrays.sort(ratios1);
            for (Variant x : v) {
                if (x.logs != null) {
                    System.out.println(x.name + ": flow-log records written " + x.logs.written() + ", lost " + x.logs.lost());
                    x.logs.close();
                    FlowLogs.deleteQueue(x.dir);
                }
                x.stage.conntrack().close();
            }
            System.out.printf("median ns/packet (CPU): off %.1f, on %.1f, on-1s %.1f%n", med[0], med[1], med[2]);
            System.out.printf("median of per-round ratios: on/off %.3f (rate %.1f%% lower), on-1s/off %.3f (rate %.1f%% lower)%n",
                    ratios[rounds / 2], (1 - 1 / ratios[rounds / 2]) * 100, ratios1[rounds / 2], (1 - 1 / ratios1[rounds / 2]) * 100);
            System.out.println("sink " + sink);
        }
    }
}
