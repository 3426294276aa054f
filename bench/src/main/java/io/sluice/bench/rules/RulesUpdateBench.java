package io.sluice.bench.rules;

import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.compile.IncrementalClassifier;
import io.sluice.rules.table.Classifier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Question: what does changing one rule in a 10K-rule table cost? Each invocation flips rule
 * {@code size/2}'s destination port and updates incrementally ({@code incremental}), against a
 * full compile of the same list ({@code fromScratch}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class RulesUpdateBench {
    @Param({"sg10000", "acl1_10k", "fw1_10k", "ipc1_10k"})
    public String set;

    FlatRules a;
    FlatRules b;
    IncrementalClassifier inc;
    boolean flip;
    final CutTreeCompiler compiler = new CutTreeCompiler();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        a = RuleSets.load(set).rules();
        b = withOnePortChanged(a, a.size() / 2);
        inc = new IncrementalClassifier(compiler, a);
    }

    static FlatRules withOnePortChanged(FlatRules r, int which) {
        FlatRules.Builder bl = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        int[] lo = new int[5], hi = new int[5];
        for (int i = 0; i < r.size(); i++) {
            for (int d = 0; d < 5; d++) { lo[d] = r.lo(i, d); hi[d] = r.hi(i, d); }
            if (i == which) { lo[3] = 4242; hi[3] = 4242; }
            bl.add(lo, hi, r.action(i), r.id(i));
        }
        return bl.build();
    }

    @Benchmark
    public Classifier incremental() {
        flip = !flip;
        return inc.update(flip ? b : a);
    }

    @Benchmark
    public Classifier fromScratch() {
        flip = !flip;
        return compiler.compile(flip ? b : a);
    }
}
