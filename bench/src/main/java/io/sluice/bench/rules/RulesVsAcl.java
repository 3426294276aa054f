package io.sluice.bench.rules;

import io.sluice.rules.classbench.ClassBench;
import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.table.Classifier;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The Sluice side of {@code sluice bench rules}, shaped like {@code dpdk-test-acl}: reads a
 * ClassBench rule file and trace, builds the classifier (first build cold, then the median of
 * 5 builds after 2 s of JIT warm-up), and classifies the whole trace {@code iter} times in bursts of 256 headers on
 * one thread after 1 s of untimed JIT warm-up passes, timing one block of {@code iter} passes (as one
 * {@code dpdk-test-acl} run does; {@code bench/scripts/rules.sh} takes the best of the same number of
 * runs on both sides). Prints {@code key=value} lines, among them {@code cpu_share}: the thread's CPU time
 * over the timed block's wall time (the script rejects a run below 0.95, bench/scripts/accept.py).
 * Usage: {@code RulesVsAcl RULES TRACE [ITER]}.
 */
public final class RulesVsAcl {
    private RulesVsAcl() {}

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        FlatRules rules = ClassBench.readRules(Path.of(args[0]));
        int[] trace = ClassBench.readTrace(Path.of(args[1]));
        int iter = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        CutTreeCompiler.Params d = CutTreeCompiler.Params.defaults();
        CutTreeCompiler cc = new CutTreeCompiler(new CutTreeCompiler.Params(Integer.getInteger("binth", d.binth()),
                Double.parseDouble(System.getProperty("spfac", Double.toString(d.spfac()))), Integer.getInteger("cutBits", d.maxCutBits()),
                Integer.getInteger("largeBits", d.largeBits())));
        long t0 = System.nanoTime();
        Classifier c = cc.compile(rules);
        long cold = System.nanoTime() - t0;
        long warmUntil = System.nanoTime() + 2_000_000_000L; // JIT warm-up: at least 3 builds and 2 s
        for (int i = 0; i < 3 || System.nanoTime() < warmUntil; i++) c = cc.compile(rules);
        long[] warm = new long[5];
        for (int i = 0; i < warm.length; i++) {
            long s = System.nanoTime();
            c = cc.compile(rules);
            warm[i] = System.nanoTime() - s;
        }
        Arrays.sort(warm);
        int n = trace.length / 5;
        int[] out = new int[256];
        long sink = 0;
        long lookupWarm = System.nanoTime() + 1_000_000_000L;
        for (int w = 0; w < 3 || System.nanoTime() < lookupWarm; w++) sink += pass(c, trace, n, out);
        // one timed block of iter passes, like one dpdk-test-acl run; the script takes the best of its rounds for both sides
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpu0 = mx.getCurrentThreadCpuTime();
        long s0 = System.nanoTime();
        for (int i = 0; i < iter; i++) sink += pass(c, trace, n, out);
        long best = System.nanoTime() - s0;
        long cpu = mx.getCurrentThreadCpuTime() - cpu0; // the share of its core the thread got over the block (accept.py)
        double lookups = (double) n * iter;
        System.out.printf("rules=%d%nheaders=%d%ntrees=%d%nbuild_ms_cold=%.3f%nbuild_ms=%.3f%nmemory_bytes=%d%nlookups_per_s=%.0f%nns_per_lookup=%.2f%ncpu_share=%.3f%nsink=%d%n",
                rules.size(), n, c.trees(), cold / 1e6, warm[warm.length / 2] / 1e6, c.memoryBytes(),
                lookups * 1e9 / best, best / lookups, Math.min(1.0, (double) cpu / best), sink);
    }

    private static long pass(Classifier c, int[] trace, int n, int[] out) {
        long s = 0;
        for (int i = 0; i < n; i += 256) {
            int cnt = Math.min(256, n - i);
            c.classifyBurst(trace, i, cnt, out);
            s += out[cnt - 1];
        }
        return s;
    }
}
