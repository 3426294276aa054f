package io.sluice.bench.rules;

import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
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

/** Question: how long does a full compile take (warm JVM)? Table memory is printed at setup. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class RulesBuildBench {
    @Param({"sg10", "sg100", "sg1000", "acl1_1k", "fw1_1k", "ipc1_1k", "acl1_10k", "acl2_10k", "fw1_10k", "ipc1_10k"})
    public String set;

    FlatRules rules;
    final CutTreeCompiler compiler = new CutTreeCompiler();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rules = RuleSets.load(set).rules();
        Classifier c = compiler.compile(rules);
        System.out.println("\n[memory] " + set + " rules=" + rules.size() + " trees=" + c.trees() + " bytes=" + c.memoryBytes());
    }

    @Benchmark
    public Classifier build() {
        return compiler.compile(rules);
    }
}
