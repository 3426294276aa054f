package io.sluice.rules;

import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.reference.LinearClassifier;
import io.sluice.rules.table.Classifier;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Rule sets built to defeat cut trees stay exact; their build time and memory are printed
 * (measured and reported in docs/rules-compiler.md, not asserted: speed belongs to benchmarks).
 */
class AdversarialSetsTest {
    interface Shape { void rule(int i, int n, SplittableRandom rnd, int[] lo, int[] hi); }

    static FlatRules build(int n, Shape s) {
        SplittableRandom rnd = new SplittableRandom(n);
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        int[] lo = new int[5], hi = new int[5];
        for (int i = 0; i < n; i++) {
            lo[0] = 0; hi[0] = -1; lo[1] = 0; hi[1] = -1; lo[2] = 0; hi[2] = 65535; lo[3] = 0; hi[3] = 65535; lo[4] = 0; hi[4] = 255;
            s.rule(i, n, rnd, lo, hi);
            b.add(lo, hi, (byte) (i & 1), i);
        }
        return b.build();
    }

    static int prefixLo(int a, int len) { return len == 0 ? 0 : a & (-1 << (32 - len)); }
    static int prefixHi(int a, int len) { return len == 0 ? -1 : a | ~(-1 << (32 - len)); }

    static List<Object[]> sets() {
        List<Object[]> sets = new ArrayList<>();
        // every rule is a wildcard on the source; destinations, ports and protocols vary
        sets.add(new Object[] {"source wildcard, 10k", build(10_000, (i, n, r, lo, hi) -> {
            int len = 8 + r.nextInt(25); int a = r.nextInt();
            lo[1] = prefixLo(a, len); hi[1] = prefixHi(a, len);
            int p = r.nextInt(65536); lo[3] = p; hi[3] = p; lo[4] = hi[4] = r.nextBoolean() ? 6 : 17;
        })});
        // nested: rule i is contained in rule i+1 in every dimension (prefixes grow shorter, ranges wider)
        sets.add(new Object[] {"nested ranges, 1k", build(1_000, (i, n, r, lo, hi) -> {
            int len = 32 - (i * 32 / n); int a = 0x0A0B0C0D;
            lo[0] = prefixLo(a, len); hi[0] = prefixHi(a, len); lo[1] = prefixLo(~a, len); hi[1] = prefixHi(~a, len);
            int w = i * 32768 / n; lo[2] = 32768 - w; hi[2] = 32768 + Math.min(32767, w); lo[3] = 30000 - Math.min(30000, i * 15); hi[3] = 30000 + Math.min(35535, i * 15);
        })});
        // all rules on one /32 pair: only the ports and the protocol tell them apart
        sets.add(new Object[] {"one /32, 10k", build(10_000, (i, n, r, lo, hi) -> {
            lo[0] = hi[0] = 0x0A000001; lo[1] = hi[1] = 0x0A000002;
            int s = r.nextInt(65536), d = r.nextInt(65536);
            lo[2] = s; hi[2] = Math.min(65535, s + r.nextInt(64)); lo[3] = d; hi[3] = d; lo[4] = hi[4] = r.nextInt(3) == 0 ? 17 : 6;
        })});
        // many overlapping port ranges on both ports, a handful of addresses
        sets.add(new Object[] {"overlapping port ranges, 5k", build(5_000, (i, n, r, lo, hi) -> {
            int a = 0x0A000000 | r.nextInt(8) << 8; lo[0] = prefixLo(a, 24); hi[0] = prefixHi(a, 24);
            int s = r.nextInt(65536), t = r.nextInt(65536), d = r.nextInt(65536), e = r.nextInt(65536);
            lo[2] = Math.min(s, t); hi[2] = Math.max(s, t); lo[3] = Math.min(d, e); hi[3] = Math.max(d, e);
        })});
        return sets;
    }

    @TestFactory
    List<DynamicTest> adversarialSetsAreExact() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Object[] s : sets()) {
            String name = (String) s[0];
            FlatRules rules = (FlatRules) s[1];
            tests.add(DynamicTest.dynamicTest(name, () -> {
                long t = System.nanoTime();
                Classifier c = new CutTreeCompiler().compile(rules);
                long ms = (System.nanoTime() - t) / 1_000_000;
                LinearClassifier oracle = new LinearClassifier(rules);
                int[] keys = RuleGen.keys(rules, new int[0], 3_000);
                int[] out = new int[3_000];
                c.classifyBurst(keys, 0, 3_000, out);
                for (int i = 0; i < 3_000; i++) {
                    int want = oracle.firstMatch(keys, i * 5);
                    assertEquals(want, c.classify(keys, i * 5), name + " key " + i);
                    assertEquals(want, out[i], name + " burst key " + i);
                }
                System.out.printf("adversarial %s: %d rules, %d trees, build %d ms, %d bytes%n", name, rules.size(), c.trees(), ms, c.memoryBytes());
            }));
        }
        return tests;
    }
}
