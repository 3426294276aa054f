package io.sluice.bench.rules;

import io.sluice.rules.compile.CutTreeCompiler;
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
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * Question: how many lookups per second (and ns per lookup) does one core get from a compiled
 * table? One invocation = 256 headers of the set's trace, in bursts ({@code burst}) or one at a
 * time ({@code single}); the score is per header. Run with {@code -prof gc} to see 0 B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class RulesLookupBench {
    static final int BATCH = 256;

    @Param({"sg10", "sg100", "sg1000", "acl1_1k", "fw1_1k", "ipc1_1k", "acl1_10k", "acl2_10k", "fw1_10k", "ipc1_10k"})
    public String set;

    Classifier table;
    int[] trace;
    int headers;
    int pos;
    final int[] out = new int[BATCH];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        RuleSets.Loaded l = RuleSets.load(set);
        table = new CutTreeCompiler().compile(l.rules());
        trace = l.trace();
        headers = trace.length / 5;
    }

    private int next() {
        int p = pos;
        pos = p + BATCH + BATCH > headers ? 0 : p + BATCH;
        return p;
    }

    /** 256 headers in bursts of 256. */
    @Benchmark
    @org.openjdk.jmh.annotations.OperationsPerInvocation(BATCH)
    public void burst(Blackhole bh) {
        table.classifyBurst(trace, next(), BATCH, out);
        bh.consume(out[BATCH - 1]);
    }

    /** 256 headers one lookup at a time. */
    @Benchmark
    @org.openjdk.jmh.annotations.OperationsPerInvocation(BATCH)
    public void single(Blackhole bh) {
        int p = next();
        for (int i = 0; i < BATCH; i++) bh.consume(table.classify(trace, (p + i) * 5));
    }
}
