package io.sluice.bench.rules;

import io.sluice.rules.classbench.ClassBenchGen;
import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.DeferredClassifier;
import io.sluice.rules.table.Classifier;
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
 * With {@code -Dsluice.rules.breakdown=true} it also prints, per set, the slowest 2 % of updates by
 * cause ({@link IncrementalClassifier#lastCost}: re-layout, general path, flipped cut, array growth,
 * wide change, GC, other) with their median thread CPU (bench/scripts/rules-update-ab.sh).
 */
public final class RulesUpdateLatency {
    private RulesUpdateLatency() {}

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        int updates = Integer.parseInt(args[0]);
        int kinds = args[1].equals("port") ? 1 : 5;
        if (DEFERRED_US >= 0) {
            deferred(updates, kinds, java.util.Arrays.copyOfRange(args, 2, args.length));
            return;
        }
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
            Why[] why = new Why[updates];
            int local = 0;
            for (int i = 0; i < updates; i++) {
                FlatRules next = ClassBenchGen.withOneRuleChanged(cur, rnd.nextInt(cur.size()), rnd, kinds);
                long g0 = gcCount();
                long c0 = mx.getCurrentThreadCpuTime();
                long t = System.nanoTime();
                inc.update(next);
                ns[i] = System.nanoTime() - t;
                cpu[i] = mx.getCurrentThreadCpuTime() - c0;
                if (breakdown) why[i] = new Why(ns[i], cpu[i], gcCount() - g0, inc.lastCost());
                if (inc.lastWasLocal()) local++;
                cur = next;
            }
            if (breakdown) whyRows.add(Why.row(args[a], why));
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
        if (breakdown) {
            System.out.println();
            System.out.println("Slowest 2 % of updates by wall time, each counted under its first cause: compaction (garbage re-layout), general path, "
                    + "flip (a large node rebuilt because its cut changed; largest rule list), array growth (backing array copied), "
                    + "wide (>= 64 subtrees built from scratch or >= 4096 child slots whose list changed), GC during the update, else preempted/other. "
                    + "Median thread CPU, subtrees, slots and ints appended per cause.");
            System.out.println();
            System.out.println("| set | slowest | compaction | general | GC | flip | growth | wide | other | all updates: compactions, growths, GCs, flips with reuse |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|");
            whyRows.forEach(System.out::println);
        }
    }

    private static final boolean breakdown = Boolean.getBoolean("sluice.rules.breakdown");
    /** {@code -Dsluice.rules.deferred=US}: time {@link DeferredClassifier#update} instead, one update every US microseconds (0: back to back). */
    private static final int DEFERRED_US = Integer.getInteger("sluice.rules.deferred", -1);

    /**
     * Deferred tree updates ({@link DeferredClassifier}, folds on their own thread): per set, the
     * time until a change takes effect (the update call: the new table is published when it
     * returns), the writer's CPU, how many updates waited for the folds, how long until the plain
     * trees held each change (tree lag), the most changed rules an overlay held, and lookups per
     * second of an overlay table against the settled plain table on the set's trace.
     */
    private static void deferred(int updates, int kinds, String[] sets) throws Exception {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        System.out.println("| set | rules | updates | every us | effect p50 us | p99 us | p99.9 us | max us | CPU p50 us | CPU p99 us | waited | tree lag p50 ms | p99 ms | max ms | most overlay rules | overlay lookups / plain |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        java.util.concurrent.ExecutorService folder = DeferredClassifier.folderThread("rules-fold");
        for (String set : sets) {
            RuleSets.Loaded rs = RuleSets.load(set);
            FlatRules rules = rs.rules();
            long[] start = new long[updates + 301], lag = new long[updates + 301];
            int[] lagDone = {0};
            int[] mostDelta = {0};
            Classifier[] lastOverlay = {null};
            DeferredClassifier[] holder = new DeferredClassifier[1];
            java.util.function.Consumer<Classifier> onPublish = t -> {
                if (t.overlay() != null) {
                    mostDelta[0] = Math.max(mostDelta[0], t.overlay().deltaRules());
                    lastOverlay[0] = t;
                    return;
                }
                if (holder[0] == null) return;
                long now = System.nanoTime();
                long v = holder[0].treesVersion();
                for (int i = lagDone[0]; i < v; i++) lag[i] = now - start[i];
                lagDone[0] = (int) Math.max(lagDone[0], v);
            };
            DeferredClassifier dc = new DeferredClassifier(new CutTreeCompiler(), rules, folder, onPublish);
            holder[0] = dc;
            SplittableRandom rnd = new SplittableRandom(17);
            FlatRules cur = rules;
            int warm = Math.min(updates, 300);
            long[] ns = new long[updates], cpu = new long[updates];
            long waits0 = 0;
            long next = System.nanoTime();
            for (int i = 0; i < warm + updates; i++) {
                if (i == warm) {
                    dc.settle();
                    waits0 = dc.counts()[0];
                    mostDelta[0] = 0;
                    next = System.nanoTime();
                }
                FlatRules nx = ClassBenchGen.withOneRuleChanged(cur, rnd.nextInt(cur.size()), rnd, kinds);
                next += DEFERRED_US * 1000L;
                while (System.nanoTime() < next) java.util.concurrent.locks.LockSupport.parkNanos(Math.min(50_000, next - System.nanoTime()));
                long c0 = mx.getCurrentThreadCpuTime();
                long t = System.nanoTime();
                start[i] = t;
                dc.update(nx);
                if (i >= warm) {
                    ns[i - warm] = System.nanoTime() - t;
                    cpu[i - warm] = mx.getCurrentThreadCpuTime() - c0;
                }
                cur = nx;
            }
            Classifier plain = dc.settle();
            long waited = dc.counts()[0] - waits0;
            long[] lg = java.util.Arrays.copyOfRange(lag, warm, warm + updates);
            double ratio = Double.NaN;
            if (lastOverlay[0] != null) {
                int[] keys = rs.trace();
                int n = keys.length / 5;
                int[] out = new int[n];
                long bestO = Long.MAX_VALUE, bestP = Long.MAX_VALUE;
                for (int round = 0; round < 5; round++) {
                    long t0 = System.nanoTime();
                    for (int r = 0; r < 10; r++) lastOverlay[0].classifyBurst(keys, 0, n, out);
                    long t1 = System.nanoTime();
                    for (int r = 0; r < 10; r++) plain.classifyBurst(keys, 0, n, out);
                    long t2 = System.nanoTime();
                    bestO = Math.min(bestO, t1 - t0);
                    bestP = Math.min(bestP, t2 - t1);
                }
                ratio = (double) bestP / bestO;
            }
            Arrays.sort(ns);
            Arrays.sort(cpu);
            Arrays.sort(lg);
            System.out.printf("| %s | %d | %d | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %d | %.2f | %.2f | %.2f | %d | %.2f |%n", set, cur.size(), updates, DEFERRED_US,
                    ns[updates / 2] / 1e3, ns[pct(updates, 0.99)] / 1e3, ns[pct(updates, 0.999)] / 1e3, ns[updates - 1] / 1e3,
                    cpu[updates / 2] / 1e3, cpu[pct(updates, 0.99)] / 1e3, waited,
                    lg[updates / 2] / 1e6, lg[pct(updates, 0.99)] / 1e6, lg[updates - 1] / 1e6, mostDelta[0], ratio);
        }
        folder.shutdownNow();
    }

    private static int pct(int n, double q) {
        return (int) Math.min(n - 1, Math.ceil(n * q) - 1);
    }
    private static final java.util.List<String> whyRows = new java.util.ArrayList<>();

    private static long gcCount() {
        long n = 0;
        for (var g : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, g.getCollectionCount());
        return n;
    }

    /** One update's time and what it did. */
    private record Why(long wall, long cpu, long gcs, boolean compacted, boolean general, int flipRules, boolean grown, int scratchNodes, long slots, long appended, int reused, char flipWhy) {
        Why(long wall, long cpu, long gcs, IncrementalClassifier.Cost c) {
            this(wall, cpu, gcs, c.compacted, c.relaidOut, c.flipRules, c.grown, c.scratchNodes, c.slotsVisited, c.appendedInts, c.reusedSubtrees, c.flipWhy);
        }

        int cause() {
            if (compacted) return 0;
            if (general) return 1;
            if (flipRules > 0) return 3;
            if (grown) return 4;
            if (scratchNodes >= 64 || slots >= 4096) return 5;
            if (gcs > 0) return 2;
            return 6;
        }

        static String row(String set, Why[] all) {
            Why[] w = all.clone();
            Arrays.sort(w, (x, y) -> Long.compare(y.wall, x.wall));
            int k = Math.max(1, w.length / 50);
            java.util.List<java.util.List<Why>> by = new java.util.ArrayList<>();
            for (int c = 0; c < 7; c++) by.add(new java.util.ArrayList<>());
            for (int i = 0; i < k; i++) by.get(w[i].cause()).add(w[i]);
            StringBuilder sb = new StringBuilder("| " + set + " | " + k + " (wall >= " + Math.round(w[k - 1].wall / 1e3) + " us) |");
            for (int c = 0; c < 7; c++) {
                java.util.List<Why> l = by.get(c);
                if (l.isEmpty()) { sb.append(" 0 |"); continue; }
                long[] cp = l.stream().mapToLong(Why::cpu).sorted().toArray();
                sb.append(' ').append(l.size()).append(" (CPU ").append(Math.round(cp[cp.length / 2] / 1e3)).append(" us");
                if (c == 3) sb.append(", ").append(l.stream().mapToInt(Why::flipRules).max().getAsInt()).append(" rules, ")
                        .append(l.stream().mapToInt(Why::reused).sorted().toArray()[l.size() / 2]).append(" subtrees reused, why ")
                        .append(l.stream().map(x -> String.valueOf(x.flipWhy)).sorted().collect(java.util.stream.Collectors.joining()));
                if (c == 5) sb.append(", ").append(l.stream().mapToInt(Why::scratchNodes).sorted().toArray()[l.size() / 2]).append(" subtrees, ")
                        .append(l.stream().mapToLong(Why::slots).sorted().toArray()[l.size() / 2]).append(" slots");
                if (c != 0 && c != 1) sb.append(", ").append(l.stream().mapToLong(Why::appended).sorted().toArray()[l.size() / 2] / 1000).append("k ints");
                sb.append(") |");
            }
            long comp = Arrays.stream(all).filter(Why::compacted).count(), grow = Arrays.stream(all).filter(Why::grown).count();
            long gcs = Arrays.stream(all).filter(x -> x.gcs > 0).count(), reuse = Arrays.stream(all).filter(x -> x.reused > 0).count();
            return sb.append(' ').append(comp).append(", ").append(grow).append(", ").append(gcs).append(", ").append(reuse).append(" |").toString();
        }
    }
}
