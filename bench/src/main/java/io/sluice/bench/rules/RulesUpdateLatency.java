package io.sluice.bench.rules;

import io.sluice.rules.classbench.ClassBenchGen;
import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.compile.IncrementalClassifier;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Latency of a one-rule change: {@code IncrementalClassifier.update} timed per call over a
 * sequence of random one-rule box changes ({@link ClassBenchGen#withOneRuleChanged}), after a
 * warm-up sequence; the full compile of
 * the same list is timed alongside. Prints a table row per set: wall-clock p50/p99/max, the
 * thread's CPU time p50/p99 (what the update costs when the shared machine preempts it), the share
 * of updates done node by node, and the median full compile.
 * Usage: {@code RulesUpdateLatency UPDATES port|mixed SET...} (names as in {@link RuleSets}; {@code port}:
 * each edit sets a random rule's destination port, as RulesUpdateBench does; {@code mixed}: all five
 * edit kinds of {@link ClassBenchGen#withOneRuleChanged}, a fifth of them widening a source to any address).
 */
public final class RulesUpdateLatency {
    private RulesUpdateLatency() {}

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        int updates = Integer.parseInt(args[0]);
        int kinds = args[1].equals("port") ? 1 : 5;
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        System.out.println("| set | rules | updates | p50 us | p99 us | max us | CPU p50 us | CPU p99 us | node-by-node | full compile ms |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (int a = 2; a < args.length; a++) {
            FlatRules rules = RuleSets.load(args[a]).rules();
            CutTreeCompiler cc = new CutTreeCompiler();
            IncrementalClassifier inc = new IncrementalClassifier(cc, rules);
            SplittableRandom rnd = new SplittableRandom(17);
            FlatRules cur = rules;
            for (int i = 0; i < Math.min(updates, 300); i++) { // warm-up (JIT)
                cur = ClassBenchGen.withOneRuleChanged(cur, rnd.nextInt(cur.size()), rnd, kinds);
                inc.update(cur);
            }
            long[] ns = new long[updates], cpu = new long[updates];
            int local = 0;
            for (int i = 0; i < updates; i++) {
                FlatRules next = ClassBenchGen.withOneRuleChanged(cur, rnd.nextInt(cur.size()), rnd, kinds);
                long c0 = mx.getCurrentThreadCpuTime();
                long t = System.nanoTime();
                inc.update(next);
                ns[i] = System.nanoTime() - t;
                cpu[i] = mx.getCurrentThreadCpuTime() - c0;
                if (inc.lastWasLocal()) local++;
                cur = next;
            }
            long[] full = new long[5];
            for (int i = 0; i < full.length; i++) {
                long t = System.nanoTime();
                cc.compile(cur);
                full[i] = System.nanoTime() - t;
            }
            Arrays.sort(ns);
            Arrays.sort(cpu);
            int p99 = (int) Math.min(updates - 1, Math.ceil(updates * 0.99) - 1);
            Arrays.sort(full);
            System.out.printf("| %s | %d | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f%% | %.1f |%n", args[a], cur.size(), updates, ns[updates / 2] / 1e3,
                    ns[p99] / 1e3, ns[updates - 1] / 1e3, cpu[updates / 2] / 1e3, cpu[p99] / 1e3, 100.0 * local / updates, full[2] / 1e6);
        }
    }
}
