package io.sluice.bench.firewall;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.firewall.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallPipelines;
import io.sluice.dataplane.firewall.FirewallStage;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;
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
 * Question: how many ns per packet does the firewall stage cost for a <b>later IP fragment</b> (no L4
 * header: a fragment-table lookup instead of conntrack + rules), on a 32-packet burst, with
 * {@code datagrams} fragmented datagrams in flight? Per packet ({@code @OperationsPerInvocation(32)}).
 *
 * <ul>
 *   <li>{@link #laterFragmentsPass}: later fragments (MF = 1, so no entry completes) of recorded
 *       datagrams vm1 -> ext1, the burst rotating over them: lookup hit, pass;</li>
 *   <li>{@link #laterFragmentsUnknown}: later fragments of datagrams never seen: lookup miss, drop
 *       {@code FW_FRAGMENT_UNKNOWN};</li>
 *   <li>{@link #refillOnly}: restoring the burst's metadata, included in the others.</li>
 * </ul>
 * The first fragments go through the stage in the setup (conntrack + rules + record).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(FragmentBench.BURST)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class FragmentBench {
    static final int BURST = 32;
    private static final int SLOT = 64;
    static final int VM1 = 0, EXT1 = 2;
    static final int VM_IP = 0x0A4D0001, EXT_IP = 0x0A4D000B;

    @Param({"1000", "4000"})
    public int datagrams;

    private Arena arena;
    private long later, unknown;
    private Burst burst;
    private FirewallState fw;
    private FirewallStage stage;
    private int cursor;

    /** An IPv4 fragment header (+ a UDP header when offset 0) from vm1 to ext1; returns the frame length. */
    static int fragment(long at, int id, int offset) {
        Mem.putMac(at, 0x02_5f_00_00_00_03L);
        Mem.putMac(at + 6, 0x02_5f_00_00_00_01L);
        Mem.put16(at + 12, 0x0800);
        long ip = at + 14;
        Mem.put8(ip, 0x45);
        Mem.put8(ip + 1, 0);
        Mem.put16(ip + 2, 20 + 1480);
        Mem.put16(ip + 4, id);
        Mem.put16(ip + 6, 0x2000 | offset);
        Mem.put8(ip + 8, 64);
        Mem.put8(ip + 9, 17);
        Mem.put32(ip + 12, VM_IP);
        Mem.put32(ip + 16, EXT_IP);
        if (offset == 0) {
            Mem.put16(ip + 20, 5000 + id);
            Mem.put16(ip + 22, 53);
            Mem.put16(ip + 24, 4008);
        }
        return 14 + 20 + (offset == 0 ? 8 : 0);
    }

    @Setup
    public void setUp() throws Exception {
        String y = FirewallBench.config().replace("  max-connections-per-vm: 65536\n",
                "  max-connections-per-vm: 65536\n  max-fragment-datagrams: 8192\n  fragment-timeout-ms: 60000\n");
        SluiceConfig cfg = ConfigLoader.parse("bench.yaml", y);
        fw = new FirewallState(4, FirewallConfigLoader.parseDocument("bench.yaml", y, cfg));
        Stage[] st = FirewallPipelines.l2(cfg, fw);
        stage = (FirewallStage) st[st.length - 1];
        arena = Arena.ofShared();
        later = arena.allocate((long) datagrams * SLOT, 64).address();
        unknown = arena.allocate((long) BURST * SLOT, 64).address();
        burst = new Burst(BURST);
        long scratch = arena.allocate(SLOT, 64).address();
        for (int d = 0; d < datagrams; d++) {
            int len = fragment(scratch, d, 0);
            burst.count = 1;
            prep(burst, 0, scratch, len, true);
            stage.process(burst);
            if (burst.next[0] != Next.TX) throw new IllegalStateException("first fragment dropped: " + burst.dropReason[0]);
            fragment(later + (long) d * SLOT, d, 185);
        }
        for (int i = 0; i < BURST; i++) fragment(unknown + (long) i * SLOT, 60000 + i, 185);
        if (stage.fragments().size() != datagrams) throw new IllegalStateException("recorded " + stage.fragments().size());
    }

    /** The metadata parse + l2 would leave for these fragments. */
    private static void prep(Burst b, int i, long at, int len, boolean first) {
        b.reset(i, 0, at, len, VM1);
        b.l3Offset[i] = 14;
        b.l4Offset[i] = (short) (first ? 34 : -1);
        b.etherType[i] = 0x0800;
        b.ipProto[i] = 17;
        b.flags[i] = PacketFlags.IPV4 | PacketFlags.FRAGMENT | (first ? PacketFlags.UDP : PacketFlags.LATER_FRAGMENT);
        b.next[i] = Next.TX;
        b.outPort[i] = EXT1;
    }

    @TearDown
    public void tearDown() {
        if (stage.fragments().size() != datagrams) throw new IllegalStateException("entries lost: " + stage.fragments().size());
        stage.conntrack().close();
        arena.close();
    }

    @Benchmark
    public int refillOnly() {
        Burst b = burst;
        b.count = BURST;
        for (int i = 0; i < BURST; i++) prep(b, i, unknown + (long) i * SLOT, 34, false);
        return b.count;
    }

    @Benchmark
    public int laterFragmentsPass() {
        Burst b = burst;
        b.count = BURST;
        int c = cursor;
        for (int i = 0; i < BURST; i++) {
            prep(b, i, later + (long) c * SLOT, 34, false);
            if (++c == datagrams) c = 0;
        }
        cursor = c;
        int n = stage.process(b);
        if (b.next[0] != Next.TX) throw new IllegalStateException("later fragment dropped: " + b.dropReason[0]);
        return n;
    }

    @Benchmark
    public int laterFragmentsUnknown() {
        Burst b = burst;
        b.count = BURST;
        for (int i = 0; i < BURST; i++) prep(b, i, unknown + (long) i * SLOT, 34, false);
        int n = stage.process(b);
        if (b.next[0] != Next.DROP) throw new IllegalStateException("unknown fragment passed");
        return n;
    }
}
