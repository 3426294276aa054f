package io.sluice.bench.pipeline;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.counters.WorkerCounters;
import io.sluice.dataplane.debug.Match;
import io.sluice.dataplane.debug.Tap;
import io.sluice.dataplane.debug.TapWorker;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.Pipelines;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Question (issue 14): what does the trace/capture hook cost the fast path when nothing is armed,
 * and what does arming cost? The L2 pipeline (parse -> arp -> l2) on a 32-packet burst of IPv4/TCP
 * frames in native memory, run the way {@code Worker.poll} runs it:
 * <ul>
 *   <li>{@link #noHook}: reset + every stage (the pipeline before issue 14);</li>
 *   <li>{@link #hookOff}: the same behind the worker's hook — one {@link Tap#mode()} acquire load and
 *       one branch per burst, nothing armed;</li>
 *   <li>{@link #traceArmedNoMatch}: a trace armed whose expression matches none of the packets (the
 *       match is read per packet, nothing recorded);</li>
 *   <li>{@link #captureArmedAll}: a capture of port 0 matching everything: each packet received on
 *       or sent to port 0 copied into the ring, which this thread drains after every burst (so the
 *       score includes the consumer's read of the ring).</li>
 * </ul>
 * Scores are per packet ({@code @OperationsPerInvocation(32)}); {@code -prof gc} shows allocation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(TapBench.BURST)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class TapBench {
    static final int BURST = 32;
    private static final int SLOT = 256;

    private Arena arena;
    private long frames;
    private final int[] lengths = new int[BURST];
    private final int[] ports = new int[BURST];
    private Burst burst;
    private Stage[] stages;
    private WorkerCounters counters;
    private Tap off, trace, capture;
    private TapWorker offWorker, traceWorker, captureWorker;

    @Setup
    public void setUp() throws Exception {
        arena = Arena.ofShared();
        frames = arena.allocate((long) BURST * SLOT, 64).address();
        long[] hosts = {BenchFrames.MAC_A, BenchFrames.MAC_B, BenchFrames.MAC_C};
        for (int i = 0; i < BURST; i++) {
            int in = i % 3;
            lengths[i] = BenchFrames.ipv4Tcp(frames + (long) i * SLOT, hosts[(in + 1) % 3], hosts[in], -1, i * 4);
            ports[i] = in;
        }
        SluiceConfig cfg = BenchFrames.l2Config(BURST);
        burst = new Burst(BURST);
        stages = Pipelines.l2(cfg);
        List<String> names = new ArrayList<>();
        for (Stage s : stages) names.add(s.name());
        counters = Counters.inMemory(4096).worker(0, List.of("p0", "p1", "p2"), names);
        off = new Tap(1);
        trace = new Tap(1);
        trace.armTrace(Match.parse("udp and dport 9"), -1);
        capture = new Tap(1);
        capture.armCapture(Match.ALL, 0, 65535);
        offWorker = new TapWorker(off, 0, stages);
        traceWorker = new TapWorker(trace, 0, stages);
        captureWorker = new TapWorker(capture, 0, stages);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    private void refill() {
        Burst b = burst;
        b.count = BURST;
        for (int i = 0; i < BURST; i++) b.reset(i, 0, frames + (long) i * SLOT, lengths[i], ports[i]);
    }

    private void stages(Burst b) {
        final Stage[] st = stages;
        final WorkerCounters c = counters;
        for (int s = 0; s < st.length; s++) c.stage(s, st[s].process(b));
    }

    /** As Worker.poll: one acquire load of the mode and one branch per burst. */
    private void hooked(Tap tap, TapWorker w, Burst b) {
        int mode = tap.mode();
        if (mode == 0) {
            stages(b);
        } else {
            w.run(mode, b, stages, 0, counters, 0L, true);
        }
    }

    @Benchmark
    public int noHook() {
        refill();
        stages(burst);
        return burst.next[BURST - 1];
    }

    @Benchmark
    public int hookOff() {
        refill();
        hooked(off, offWorker, burst);
        return burst.next[BURST - 1];
    }

    @Benchmark
    public int traceArmedNoMatch() {
        refill();
        hooked(trace, traceWorker, burst);
        return burst.next[BURST - 1];
    }

    @Benchmark
    public int captureArmedAll() {
        refill();
        hooked(capture, captureWorker, burst);
        return burst.next[BURST - 1] + capture.ring(0).read((t, buf, i, l) -> { }, 1024);
    }
}
