package io.sluice.bench.rules;

import io.sluice.rules.classbench.ClassBench;
import io.sluice.rules.classbench.ClassBenchGen;
import io.sluice.rules.compile.FlatRules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Rule sets and traces for the rules benchmarks: ClassBench files from {@code CLASSBENCH} (env)
 * or {@code sluice.classbench.dir} (property), and synthetic security-group-shaped sets
 * {@code gen-KIND-N} ({@link ClassBenchGen}, KIND acl, fw or ipc, seed 1) and {@code sgN} (N allow rules: a remote /16../32 IPv4 prefix, TCP/UDP single port or small
 * range, some ICMP and any-protocol rules) with a trace of 10 headers per rule.
 */
public final class RuleSets {
    private RuleSets() {}

    /** A rule set and its trace (5 ints per header). */
    public record Loaded(FlatRules rules, int[] trace) {}

    /** ClassBench directory: $CLASSBENCH, -Dsluice.classbench.dir, else ../shared/classbench beside the checkout. */
    public static Path dir() {
        String env = System.getenv("CLASSBENCH");
        if (env != null) return Path.of(env);
        String prop = System.getProperty("sluice.classbench.dir");
        if (prop != null) return Path.of(prop);
        return Path.of(System.getProperty("sluice.home", "."), "..", "shared", "classbench").normalize();
    }

    /** Loads {@code name}: "sgN" or a ClassBench set (trace = name_trace, or generated if missing). */
    public static Loaded load(String name) throws Exception {
        if (name.startsWith("gen-")) { // gen-acl-10000: ClassBenchGen, seed 1
            String[] f = name.split("-");
            FlatRules r = ClassBenchGen.rules(ClassBenchGen.Kind.valueOf(f[1].toUpperCase()), Integer.parseInt(f[2]), 1);
            return new Loaded(r, TraceGen.trace(r, 10, 7));
        }
        if (name.startsWith("sg")) {
            FlatRules r = securityGroupLike(Integer.parseInt(name.substring(2)), 42);
            return new Loaded(r, TraceGen.trace(r, 10, 7));
        }
        FlatRules r = ClassBench.readRules(dir().resolve(name));
        Path t = dir().resolve(name + "_trace");
        return new Loaded(r, Files.exists(t) ? ClassBench.readTrace(t) : TraceGen.trace(r, 10, 7));
    }

    /** A synthetic security-group-like rule set of {@code n} allow rules (remote on the source side). */
    public static FlatRules securityGroupLike(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        int[] lo = new int[5], hi = new int[5];
        for (int i = 0; i < n; i++) {
            int len = rnd.nextInt(10) == 0 ? 0 : 16 + rnd.nextInt(17);
            int addr = 0x0A000000 | rnd.nextInt(1 << 24);
            int mask = len == 0 ? 0 : -1 << (32 - len);
            lo[0] = addr & mask; hi[0] = (addr & mask) | ~mask;
            lo[1] = 0; hi[1] = -1; // the local side: any address of the VM
            lo[2] = 0; hi[2] = 65535;
            int kind = rnd.nextInt(20);
            if (kind == 0) { lo[4] = 0; hi[4] = 255; lo[3] = 0; hi[3] = 65535; }
            else if (kind == 1) { lo[4] = hi[4] = 1; lo[2] = 0; hi[2] = 255; lo[3] = 0; hi[3] = 255; }
            else {
                lo[4] = hi[4] = rnd.nextBoolean() ? 6 : 17;
                int p = 1 + rnd.nextInt(65535);
                lo[3] = p; hi[3] = rnd.nextInt(5) == 0 ? Math.min(65535, p + rnd.nextInt(100)) : p;
            }
            b.add(lo, hi, FlatRules.ALLOW, i);
        }
        return b.build();
    }
}
