package io.sluice.bench.firewall;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.conntrack.CtPacket;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallPipelines;
import io.sluice.dataplane.firewall.FirewallStage;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
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
 * Question: how many ns per packet does the whole firewall stage (conntrack + the port's compiled
 * security-group table, hit and drop counters) cost on a 32-packet burst, with a 100-rule group on
 * the destination VM port? The burst arrives as the L2 stage leaves it (parsed, TX, out-port set);
 * restoring that metadata is {@link #refillOnly}, included in the others. Per packet
 * ({@code @OperationsPerInvocation(32)}).
 *
 * <ul>
 *   <li>{@link #established}: data segments of established TCP connections (ext1 -> vm1:8099),
 *       {@code flows} connections tracked, the burst rotating over them;</li>
 *   <li>{@link #newFlowsCreateAndKill}: SYNs of never-seen connections allowed by rule r96 (port 8096 from 10.77.0.0/24) of the
 *       100 rules: conntrack miss + 100-rule classify + commit; each is then removed with
 *       {@code Conntrack.kill} inside the measured op so the table does not fill (the figure
 *       includes one delete per packet: an upper bound for "new");</li>
 *   <li>{@link #newFlowsDenied}: SYNs no rule allows: conntrack miss + classify + drop;</li>
 *   <li>{@link #laterFragmentsPass}: later IP fragments (no L4 header; MF = 1, so no entry
 *       completes) of {@value #DATAGRAMS} UDP datagrams vm1 -> ext1 whose first fragments passed in
 *       the setup, the burst rotating over them: fragment-table lookup hit, pass;</li>
 *   <li>{@link #laterFragmentsUnknown}: later fragments of datagrams never seen: lookup miss, drop
 *       {@code FW_FRAGMENT_UNKNOWN}.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(FirewallBench.BURST)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
        // Chronicle Queue (flowLogs=on)
        "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED", "-Dchronicle.analytics.disable=true"})
public class FirewallBench {
    static final int BURST = 32;
    private static final int SLOT = 128;
    static final int VM1 = 0, EXT1 = 2;
    /** Fragmented datagrams in flight for the fragment benchmarks. */
    static final int DATAGRAMS = 1000;
    private static final int VM_IP = 0x0A4D0001, EXT_IP = 0x0A4D000B;

    @Param({"10000"})
    public int flows;

    /**
     * Flow logs (docs/operations.md): "on" gives every worker stage a logger whose records (interim
     * every second: the worst case, every connection's record once a second; end records of killed
     * connections) go through the ring to a writer thread appending to a Chronicle Queue in a temp dir.
     */
    @Param({"off"})
    public String flowLogs;

    private io.sluice.dataplane.flowlog.FlowLogs logs;
    private java.nio.file.Path logDir;

    private Arena arena;
    private long estFrames, newFrames, denyFrames, laterFrames, unknownFrames;
    private int fragCursor;
    private int frameLen;
    private int synLen;
    private Burst burst;
    private FirewallState fw;
    private FirewallStage stage;
    private final CtPacket kill = new CtPacket();
    private int estCursor;
    private int newCounter;

    static String config() {
        StringBuilder y = new StringBuilder();
        y.append("ports:\n");
        String[] names = {"vm1", "vm2", "ext1", "ext2"};
        for (int p = 0; p < 4; p++) y.append("  - { name: ").append(names[p]).append(", device: net_null").append(p).append(" }\n");
        y.append("security-groups:\n  max-connections: 65536\n  max-connections-per-vm: 65536\n"
                + "  max-fragment-datagrams: 8192\n  fragment-timeout-ms: 60000\n  groups:\n    - name: web\n      rules:\n");
        for (int i = 0; i < 100; i++) {
            String remote = i % 3 == 0 ? "10.77.0.0/24" : i % 3 == 1 ? "192.168." + i + ".0/24" : "172.16.0.0/12";
            if (i == 99) remote = "10.77.0.11/32";
            y.append("        - { id: r").append(i).append(", direction: ingress, protocol: ").append(i % 4 == 1 ? "udp" : "tcp")
             .append(", ports: ").append(8000 + i).append(", remote: ").append(remote).append(" }\n");
        }
        y.append("  vm-ports:\n    - { port: vm1, addresses: [10.77.0.1], groups: [default, web] }\n    - { port: vm2, addresses: [10.77.0.2] }\n");
        return y.toString();
    }

    static int frame(long at, int src, int dst, int sport, int dport, int flags, int seq, int ack) {
        return frame(at, src, dst, sport, dport, flags, seq, ack, (flags & 0x02) != 0 || flags == 0x10 ? 0 : 10);
    }

    static int frame(long at, int src, int dst, int sport, int dport, int flags, int seq, int ack, int payload) {
        Mem.putMac(at, 0x02_5f_00_00_00_01L);
        Mem.putMac(at + 6, 0x02_5f_00_00_00_03L);
        Mem.put16(at + 12, 0x0800);
        long ip = at + 14;
        Mem.put8(ip, 0x45);
        Mem.put8(ip + 1, 0);
        Mem.put16(ip + 2, 20 + 20 + payload);
        Mem.put16(ip + 4, 1);
        Mem.put16(ip + 6, 0x4000);
        Mem.put8(ip + 8, 64);
        Mem.put8(ip + 9, 6);
        Mem.put32(ip + 12, src);
        Mem.put32(ip + 16, dst);
        long t = ip + 20;
        Mem.put16(t, sport);
        Mem.put16(t + 2, dport);
        Mem.put32(t + 4, seq);
        Mem.put32(t + 8, ack);
        Mem.put8(t + 12, 5 << 4);
        Mem.put8(t + 13, flags);
        Mem.put16(t + 14, 65535);
        return 14 + 20 + 20 + payload;
    }

    @Setup
    public void setUp() throws Exception {
        String y = config();
        SluiceConfig cfg = ConfigLoader.parse("bench.yaml", y);
        fw = new FirewallState(4, FirewallConfigLoader.parseDocument("bench.yaml", y, cfg));
        if (flowLogs.equals("on")) {
            logDir = java.nio.file.Files.createTempDirectory("sluice-flowbench");
            logs = io.sluice.dataplane.flowlog.FlowLogs.open(new io.sluice.dataplane.config.FlowLogSettings(logDir, 1, 10, "hourly", 24, 1024,
                    io.sluice.dataplane.config.FlowLogSettings.Project.ALL, java.util.Map.of()), cfg, null);
            fw.flowLogs(logs);
            logs.start();
        }
        Stage[] st = FirewallPipelines.l2(cfg, fw);
        stage = (FirewallStage) st[st.length - 1];
        arena = Arena.ofShared();
        int ext = 0x0A4D000B, vm = 0x0A4D0001;
        estFrames = arena.allocate((long) flows * SLOT, 64).address();
        newFrames = arena.allocate((long) BURST * SLOT, 64).address();
        denyFrames = arena.allocate((long) BURST * SLOT, 64).address();
        burst = new Burst(BURST);
        // establish `flows` connections: SYN, SYN/ACK, ACK through the stage
        long scratch = arena.allocate(SLOT, 64).address();
        for (int f = 0; f < flows; f++) {
            int sport = 1024 + f % 60000, src = ext + (f / 60000) * 0; // one client, many ports
            int seqC = 1000, seqS = 5000;
            run(scratch, frame(scratch, src, vm, sport, 8099, 0x02, seqC, 0), EXT1, VM1);
            run(scratch, frame(scratch, vm, src, 8099, sport, 0x12, seqS, seqC + 1), VM1, EXT1);
            run(scratch, frame(scratch, src, vm, sport, 8099, 0x10, seqC + 1, seqS + 1), EXT1, VM1);
            frameLen = frame(estFrames + (long) f * SLOT, src, vm, sport, 8099, 0x18, seqC + 1, seqS + 1);
            if (f >= 60000) throw new IllegalStateException("flows > 60000 needs more clients");
        }
        for (int i = 0; i < BURST; i++) {
            synLen = frame(newFrames + (long) i * SLOT, ext, vm, 0, 8096, 0x02, 1, 0);
            frame(denyFrames + (long) i * SLOT, ext, vm, 40000 + i, 9999, 0x02, 1, 0);
        }
        if (stage.conntrack().size() != flows) throw new IllegalStateException("established " + stage.conntrack().size() + " of " + flows);
        // fragmented datagrams: first fragments through the stage (conntrack + rules + record)
        laterFrames = arena.allocate((long) DATAGRAMS * SLOT, 64).address();
        unknownFrames = arena.allocate((long) BURST * SLOT, 64).address();
        for (int d = 0; d < DATAGRAMS; d++) {
            Burst b = burst;
            b.count = 1;
            prepFragment(b, 0, scratch, fragment(scratch, d, 0), true);
            stage.process(b);
            if (b.next[0] != Next.TX) throw new IllegalStateException("first fragment dropped: " + b.dropReason[0]);
            fragment(laterFrames + (long) d * SLOT, d, 185);
        }
        for (int i = 0; i < BURST; i++) fragment(unknownFrames + (long) i * SLOT, 60000 + i, 185);
        if (stage.fragments().size() != DATAGRAMS) throw new IllegalStateException("recorded " + stage.fragments().size());
    }

    /** An IPv4 fragment (1480 bytes of data; a UDP header when offset 0) from vm1 to ext1; returns the header bytes written. */
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

    /** The metadata parse + l2 would leave for a fragment vm1 -> ext1. */
    private static void prepFragment(Burst b, int i, long at, int len, boolean first) {
        b.reset(i, 0, at, len, VM1);
        b.l3Offset[i] = 14;
        b.l4Offset[i] = (short) (first ? 34 : -1);
        b.etherType[i] = 0x0800;
        b.ipProto[i] = 17;
        b.flags[i] = io.sluice.dataplane.pipeline.PacketFlags.IPV4 | io.sluice.dataplane.pipeline.PacketFlags.FRAGMENT
                | (first ? io.sluice.dataplane.pipeline.PacketFlags.UDP : io.sluice.dataplane.pipeline.PacketFlags.LATER_FRAGMENT);
        b.next[i] = Next.TX;
        b.outPort[i] = EXT1;
    }

    private void run(long at, int len, int in, int out) {
        Burst b = burst;
        b.count = 1;
        prep(b, 0, at, len, in, out);
        stage.process(b);
        if (b.next[0] != Next.TX) throw new IllegalStateException("setup packet dropped: " + b.dropReason[0]);
    }

    /** The metadata parse + l2 would leave for these IPv4/TCP frames. */
    static void prep(Burst b, int i, long at, int len, int in, int out) {
        b.reset(i, 0, at, len, in);
        b.l3Offset[i] = 14;
        b.l4Offset[i] = 34;
        b.etherType[i] = 0x0800;
        b.ipProto[i] = 6;
        b.flags[i] = io.sluice.dataplane.pipeline.PacketFlags.IPV4 | io.sluice.dataplane.pipeline.PacketFlags.TCP;
        b.next[i] = Next.TX;
        b.outPort[i] = out;
    }

    @TearDown
    public void tearDown() throws java.io.IOException {
        if (stage.fragments().size() != DATAGRAMS) throw new IllegalStateException("fragment entries lost: " + stage.fragments().size());
        stage.conntrack().close();
        arena.close();
        if (logs != null) {
            System.out.println("flow logs: " + logs.written() + " records written, " + logs.lost() + " lost (ring full)");
            logs.close();
            io.sluice.dataplane.flowlog.FlowLogs.deleteQueue(logDir);
        }
    }

    @Benchmark
    public int refillOnly() {
        Burst b = burst;
        b.count = BURST;
        for (int i = 0; i < BURST; i++) prep(b, i, denyFrames + (long) i * SLOT, synLen, EXT1, VM1);
        return b.count;
    }

    @Benchmark
    public int established() {
        Burst b = burst;
        b.count = BURST;
        int c = estCursor;
        for (int i = 0; i < BURST; i++) {
            prep(b, i, estFrames + (long) c * SLOT, frameLen, EXT1, VM1);
            if (++c == flows) c = 0;
        }
        estCursor = c;
        int n = stage.process(b);
        if (b.next[0] != Next.TX) throw new IllegalStateException("established packet dropped: " + b.dropReason[0]);
        return n;
    }

    @Benchmark
    public int newFlowsCreateAndKill() {
        Burst b = burst;
        b.count = BURST;
        int k = newCounter;
        for (int i = 0; i < BURST; i++) {
            long at = newFrames + (long) i * SLOT;
            int id = k++;
            Mem.put32(at + 14 + 12, 0x0A4D000B);
            Mem.put16(at + 34, id & 0xFFFF);
            Mem.put32(at + 34 + 4, id);
            prep(b, i, at, synLen, EXT1, VM1);
        }
        newCounter = k;
        int n = stage.process(b);
        if (b.next[0] != Next.TX) throw new IllegalStateException("new flow dropped: " + b.dropReason[0]);
        for (int i = 0; i < BURST; i++) {
            long at = newFrames + (long) i * SLOT;
            kill.v4(1, 0x0A4D000B, 0x0A4D0001).tcp(Mem.u16(at + 34), 8096, 0x02, 1, 0, 65535, 0);
            stage.conntrack().kill(kill);
        }
        return n;
    }

    @Benchmark
    public int newFlowsDenied() {
        Burst b = burst;
        b.count = BURST;
        for (int i = 0; i < BURST; i++) prep(b, i, denyFrames + (long) i * SLOT, synLen, EXT1, VM1);
        int n = stage.process(b);
        if (b.next[0] != Next.DROP) throw new IllegalStateException("denied flow passed");
        return n;
    }

    @Benchmark
    public int laterFragmentsPass() {
        Burst b = burst;
        b.count = BURST;
        int c = fragCursor;
        for (int i = 0; i < BURST; i++) {
            prepFragment(b, i, laterFrames + (long) c * SLOT, 34, false);
            if (++c == DATAGRAMS) c = 0;
        }
        fragCursor = c;
        int n = stage.process(b);
        if (b.next[0] != Next.TX) throw new IllegalStateException("later fragment dropped: " + b.dropReason[0]);
        return n;
    }

    @Benchmark
    public int laterFragmentsUnknown() {
        Burst b = burst;
        b.count = BURST;
        for (int i = 0; i < BURST; i++) prepFragment(b, i, unknownFrames + (long) i * SLOT, 34, false);
        int n = stage.process(b);
        if (b.next[0] != Next.DROP) throw new IllegalStateException("unknown fragment passed");
        return n;
    }
}
