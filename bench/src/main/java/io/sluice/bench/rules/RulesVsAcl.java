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
 * 5 warm builds), and classifies the whole trace {@code iter} times in bursts of 256 headers on
 * one thread, reporting the best of 5 rounds. Prints {@code key=value} lines.
 * Usage: {@code RulesVsAcl RULES TRACE [ITER]}.
 */
public final class RulesVsAcl {
    private RulesVsAcl() {}

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        FlatRules rules = ClassBench.readRules(Path.of(args[0]));
        int[] trace = ClassBench.readTrace(Path.of(args[1]));
        int iter = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        CutTreeCompiler cc = new CutTreeCompiler();
        long t0 = System.nanoTime();
        Classifier c = cc.compile(rules);
        long cold = System.nanoTime() - t0;
        long[] warm = new long[5];
        for (int i = 0; i < 3 + warm.length; i++) {
            long s = System.nanoTime();
            c = cc.compile(rules);
            if (i >= 3) warm[i - 3] = System.nanoTime() - s;
        }
        Arrays.sort(warm);
        int n = trace.length / 5;
        int[] out = new int[256];
        long sink = 0;
        for (int w = 0; w < Math.max(3, iter / 5); w++) sink += pass(c, trace, n, out);
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long s = System.nanoTime();
            for (int i = 0; i < iter; i++) sink += pass(c, trace, n, out);
            best = Math.min(best, System.nanoTime() - s);
        }
        double lookups = (double) n * iter;
        System.out.printf("rules=%d%nheaders=%d%ntrees=%d%nbuild_ms_cold=%.3f%nbuild_ms=%.3f%nmemory_bytes=%d%nlookups_per_s=%.0f%nns_per_lookup=%.2f%nsink=%d%n",
                rules.size(), n, c.trees(), cold / 1e6, warm[warm.length / 2] / 1e6, c.memoryBytes(),
                lookups * 1e9 / best, best / lookups, sink);
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
