package io.sluice.bench.pipeline;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.ParseStage;
import io.sluice.dataplane.stage.Pipelines;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * Question: how many ns per packet do the parser alone, and the whole L2 pipeline
 * (parse -> arp -> l2), cost on a 32-packet burst of mixed realistic frames in native memory?
 * {@link #resetOnly} is the harness cost (refilling the burst's metadata as rx would), included
 * in the other two. Scores are per packet ({@code @OperationsPerInvocation(32)}).
 *
 * <p>Mix: 12 IPv4/TCP (timestamps option, 2 of them VLAN-tagged), 6 IPv4/UDP, 2 IPv4/ICMP,
 * 4 IPv6/TCP, 3 IPv6/UDP, 1 IPv6 hop-by-hop + ICMPv6 to multicast, 2 ARP requests for a
 * configured address (answered in place; restored before every invocation), 2 frames to an
 * unknown MAC. In-ports rotate over three ports.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(PipelineBench.BURST)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class PipelineBench {
    static final int BURST = 32;
    private static final int SLOT = 256;

    /** "mixed" (the mix above) or "ipv4-tcp" (32 unicast IPv4/TCP frames between known hosts: the common case, no branch variety). */
    @Param({"mixed", "ipv4-tcp"})
    public String mix = "mixed";

    private Arena arena;
    private long frames;
    private long pristine;
    private final int[] lengths = new int[BURST];
    private final int[] ports = new int[BURST];
    private final int[] arpSlots = new int[2];
    private Burst burst;
    private Stage parse;
    private Stage[] l2;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        frames = arena.allocate((long) BURST * SLOT, 64).address();
        pristine = arena.allocate((long) BURST * SLOT, 64).address();
        long[] hosts = {BenchFrames.MAC_A, BenchFrames.MAC_B, BenchFrames.MAC_C};
        int arp = 0;
        for (int i = 0; i < BURST; i++) {
            long at = frames + (long) i * SLOT;
            int in = i % 3;
            long src = hosts[in];
            long dst = hosts[(in + 1 + (i / 3) % 2) % 3];
            int len;
            switch ("ipv4-tcp".equals(mix) ? 0 : i) {
                case 0, 2, 3, 5, 8, 11, 14, 17, 20, 23 -> len = BenchFrames.ipv4Tcp(at, dst, src, -1, i * 4);
                case 26, 29 -> len = BenchFrames.ipv4Tcp(at, dst, src, 100, 64);
                case 1, 4, 7, 10, 13, 16 -> len = BenchFrames.ipv4Udp(at, dst, src, 18 + i);
                case 19, 22 -> len = BenchFrames.ipv4Icmp(at, dst, src);
                case 6, 9, 12, 15 -> len = BenchFrames.ipv6Tcp(at, dst, src, i * 3);
                case 18, 21, 24 -> len = BenchFrames.ipv6Udp(at, dst, src, 40);
                case 25 -> len = BenchFrames.ipv6HopByHopIcmpv6(at, src);
                case 27, 30 -> {
                    len = BenchFrames.arpRequest(at, BenchFrames.IP_GW);
                    arpSlots[arp++] = i;
                }
                default -> len = BenchFrames.ipv4Udp(at, 0x02_00_00_00_99_99L, src, 30); // unknown destination
            }
            lengths[i] = len;
            ports[i] = in;
        }
        Mem.copy(frames, pristine, (long) BURST * SLOT);
        SluiceConfig cfg = BenchFrames.l2Config(BURST);
        burst = new Burst(BURST);
        parse = new ParseStage();
        l2 = Pipelines.l2(cfg);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    private void refill() {
        Burst b = burst;
        b.count = BURST;
        long base = frames;
        for (int i = 0; i < BURST; i++) {
            b.reset(i, 0, base + (long) i * SLOT, lengths[i], ports[i]);
        }
    }

    @Benchmark
    public int resetOnly() {
        refill();
        return burst.count;
    }

    @Benchmark
    public int parse() {
        refill();
        return parse.process(burst);
    }

    @Benchmark
    public int parseArpL2() {
        for (int s : arpSlots) {                       // the ARP stage turned them into replies last time
            Mem.copy(pristine + (long) s * SLOT, frames + (long) s * SLOT, 64);
        }
        refill();
        int n = 0;
        for (Stage s : l2) {
            n += s.process(burst);
        }
        return n;
    }

    /**
     * Run by hand: prints the fate of each packet of the mix, then (with an argument N) the
     * minimum ns/packet over N rounds of 20K bursts for each method (second argument: the mix),
 * rounds interleaved: the
     * minimum filters out the other tenants of a shared machine, which JMH's mean does not.
     */
    public static void main(String[] args) {
        PipelineBench bench = new PipelineBench();
        if (args.length > 1) {
            bench.mix = args[1];
        }
        bench.setUp();
        if (args.length > 0) {
            int rounds = Integer.parseInt(args[0]);
            double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
            String[] names = {"resetOnly", "parse", "parseArpL2"};
            int sink = 0;
            for (int r = 0; r < rounds; r++) {
                for (int m = 0; m < 3; m++) {
                    long t0 = System.nanoTime();
                    for (int k = 0; k < 20_000; k++) {
                        sink += m == 0 ? bench.resetOnly() : m == 1 ? bench.parse() : bench.parseArpL2();
                    }
                    double ns = (System.nanoTime() - t0) / (20_000.0 * BURST);
                    if (r >= rounds / 5) {          // first fifth is warm-up
                        best[m] = Math.min(best[m], ns);
                    }
                }
            }
            for (int m = 0; m < 3; m++) {
                System.out.printf("min %-11s %6.2f ns/packet%n", names[m], best[m]);
            }
            System.out.println("(sink " + sink + ")");
            bench.tearDown();
            return;
        }
        bench.parseArpL2();
        Burst b = bench.burst;
        for (int i = 0; i < BURST; i++) {
            System.out.printf("%2d len %3d in %d next %d out %2d reason %s%n", i, b.length[i], b.inPort[i], b.next[i],
                    b.outPort[i], io.sluice.dataplane.pipeline.DropReason.of(b.dropReason[i]));
        }
        bench.tearDown();
    }
}
