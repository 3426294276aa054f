package io.sluice.bench.rules;

import io.sluice.rules.classbench.ClassBenchGen;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.Protocols;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import io.sluice.rules.model.VmInterface;
import io.sluice.rules.sg.EffectiveRules;
import io.sluice.rules.sg.SecurityGroupCompiler;
import io.sluice.rules.table.Classifier;

import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The security-group shape: {@code N} interfaces (default 1,000), each in its own group of 50
 * ingress IPv4 rules (48 CIDR rules: a /16../32 source in 10/8, TCP or UDP to one port or a
 * short range, some ICMP; 2 rules allowing a remote group, one of ten tiers of N/10 members)
 * and in one tier. All compiled by {@code SecurityGroupCompiler.apply}; reports the apply time,
 * the total table memory, and lookups per second over a trace of 64 headers per interface
 * (corners and interior points of its effective rules), classified one interface after another
 * in bursts of 64 (as a worker handles one port's burst), best of 5 rounds after warm-up.
 * Also writes interface 0's effective ingress list and trace in ClassBench format to {@code OUTDIR}
 * for the rte_acl side (one context per interface), and measures interface 0 alone on that trace. Usage: {@code RulesSgShape OUTDIR [N]}.
 */
public final class RulesSgShape {
    private RulesSgShape() {}

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        Path outDir = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        CloudConfig cfg = config(n, 5);
        SecurityGroupCompiler sgc = new SecurityGroupCompiler();
        long t0 = System.nanoTime();
        sgc.apply(cfg);
        long applyCold = System.nanoTime() - t0;
        long[] apply = new long[3];
        for (int i = 0; i < apply.length; i++) {
            SecurityGroupCompiler fresh = new SecurityGroupCompiler();
            long s = System.nanoTime();
            fresh.apply(cfg);
            apply[i] = System.nanoTime() - s;
        }
        java.util.Arrays.sort(apply);
        Classifier[] cs = new Classifier[n];
        int[][] traces = new int[n][];
        long memory = 0, ingressV4 = 0, ruleCount = 0;
        int[] trace0 = null;
        for (int i = 0; i < n; i++) {
            memory += sgc.slot("vm" + i).get().memoryBytes();
            cs[i] = sgc.slot("vm" + i).get().classifier(Direction.INGRESS, IpFamily.V4);
            ingressV4 += cs[i].memoryBytes();
            FlatRules r = EffectiveRules.of(cfg, "vm" + i, Direction.INGRESS, IpFamily.V4).rules();
            ruleCount += r.size();
            int[] t = ClassBenchGen.trace(r, Math.max(1, 64 / Math.max(1, r.size()) + 1), i);
            traces[i] = java.util.Arrays.copyOf(t, 64 * 5);
            if (i == 0) {
                write(outDir, r, t);
                trace0 = t;
            }
        }
        int[] order = new int[n];
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) { int j = rnd.nextInt(i + 1); int x = order[i]; order[i] = order[j]; order[j] = x; }
        int[] out = new int[64];
        long sink = 0;
        long warm = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < warm) sink += pass(cs, traces, order, out);
        long best = Long.MAX_VALUE;
        int passes = 50;
        for (int r = 0; r < 5; r++) {
            long s = System.nanoTime();
            for (int p = 0; p < passes; p++) sink += pass(cs, traces, order, out);
            best = Math.min(best, System.nanoTime() - s);
        }
        double lookups = 64.0 * n * passes;
        // interface 0 alone over the trace written for rte_acl (one hot table, as dpdk-test-acl measures one context)
        int h0 = trace0.length / 5;
        int[] out0 = new int[h0];
        long best0 = Long.MAX_VALUE;
        for (int r = 0; r < 5; r++) {
            long s = System.nanoTime();
            for (int p = 0; p < 2000; p++) { cs[0].classifyBurst(trace0, 0, h0, out0); sink += out0[h0 - 1]; }
            best0 = Math.min(best0, System.nanoTime() - s);
        }
        System.out.printf("interfaces=%d%nrules_per_interface=%.1f%napply_ms=%.1f%napply_ms_cold=%.1f%nmemory_bytes=%d%nmemory_bytes_ingress_v4=%d%n"
                        + "lookups_per_s=%.0f%nlookups_per_s_iface0=%.0f%nsink=%d%n",
                n, (double) ruleCount / n, apply[1] / 1e6, applyCold / 1e6, memory, ingressV4, lookups * 1e9 / best, 2000.0 * h0 * 1e9 / best0, sink);
    }

    private static long pass(Classifier[] cs, int[][] traces, int[] order, int[] out) {
        long s = 0;
        for (int i : order) {
            cs[i].classifyBurst(traces[i], 0, 64, out);
            s += out[63];
        }
        return s;
    }

    /** The configuration: interface i in group gi (its 50 rules) and tier i % 10. */
    static CloudConfig config(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, SecurityGroup> groups = new HashMap<>();
        Map<String, VmInterface> vms = new HashMap<>();
        for (int t = 0; t < 10; t++) groups.put("tier" + t, new SecurityGroup("tier" + t, List.of()));
        for (int i = 0; i < n; i++) {
            List<SgRule> rules = new ArrayList<>();
            for (int k = 0; k < 48; k++) {
                int len = 16 + rnd.nextInt(17);
                int addr = 0x0A000000 | rnd.nextInt(1 << 24);
                IpPrefix src = new IpPrefix(IpFamily.V4, 0, Integer.toUnsignedLong(addr & (len == 0 ? 0 : -1 << (32 - len))), len);
                if (rnd.nextInt(12) == 0) {
                    rules.add(new SgRule("g" + i + "/r" + k, Direction.INGRESS, IpFamily.V4, Protocols.ICMP, 0, 0, -1, -1, src, null));
                } else {
                    int p = 1 + rnd.nextInt(65000);
                    int q = rnd.nextInt(5) == 0 ? p + rnd.nextInt(100) : p;
                    rules.add(new SgRule("g" + i + "/r" + k, Direction.INGRESS, IpFamily.V4, rnd.nextBoolean() ? Protocols.TCP : Protocols.UDP, p, q, -1, -1, src, null));
                }
            }
            for (int k = 0; k < 2; k++) {
                rules.add(new SgRule("g" + i + "/peers" + k, Direction.INGRESS, IpFamily.V4, Protocols.TCP, 8000 + k, 8000 + k, -1, -1, null, "tier" + rnd.nextInt(10)));
            }
            groups.put("g" + i, new SecurityGroup("g" + i, rules));
            vms.put("vm" + i, new VmInterface("vm" + i, List.of(IpPrefix.v4Host(0xAC100000 + i)), List.of("g" + i, "tier" + (i % 10))));
        }
        return new CloudConfig(groups, vms, PlatformLayer.defaults());
    }

    /** Writes rules (prefix address ranges) and trace as ClassBench files {@code sg_iface0} and {@code sg_iface0_trace}. */
    private static void write(Path dir, FlatRules r, int[] trace) throws Exception {
        Files.createDirectories(dir);
        try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("sg_iface0"))) {
            for (int i = 0; i < r.size(); i++) {
                w.write("@" + prefix(r.lo(i, 0), r.hi(i, 0)) + "\t" + prefix(r.lo(i, 1), r.hi(i, 1)) + "\t" + r.lo(i, 2) + " : " + r.hi(i, 2) + "\t"
                        + r.lo(i, 3) + " : " + r.hi(i, 3) + "\t" + (r.lo(i, 4) == r.hi(i, 4) ? String.format("0x%02x/0xFF", r.lo(i, 4)) : "0x00/0x00")
                        + "\t0x0000/0x0000\n");
            }
        }
        try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("sg_iface0_trace"))) {
            for (int i = 0; i < trace.length; i += 5) {
                w.write(Integer.toUnsignedString(trace[i]) + "\t" + Integer.toUnsignedString(trace[i + 1]) + "\t" + trace[i + 2] + "\t" + trace[i + 3]
                        + "\t" + trace[i + 4] + "\t0\t" + (i / 5) + "\n");
            }
        }
    }

    private static String prefix(int lo, int hi) {
        long size = Integer.toUnsignedLong(hi) - Integer.toUnsignedLong(lo) + 1;
        if (Long.bitCount(size) != 1 || (Integer.toUnsignedLong(lo) & (size - 1)) != 0) throw new IllegalStateException("not a prefix: " + lo + ".." + hi);
        int len = 32 - Long.numberOfTrailingZeros(size);
        return ((lo >>> 24) & 255) + "." + ((lo >>> 16) & 255) + "." + ((lo >>> 8) & 255) + "." + (lo & 255) + "/" + len;
    }
}
