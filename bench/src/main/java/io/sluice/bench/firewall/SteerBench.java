package io.sluice.bench.firewall;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.handoff.FlowOwner;
import io.sluice.dataplane.handoff.Handoff;
import io.sluice.dataplane.handoff.SteerStage;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
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
import java.util.concurrent.TimeUnit;

/**
 * Question: what does the steer stage (shard hand-off, two workers) cost per packet, when the
 * packet stays on the receiving worker and when it is handed to the other one? A 32-packet burst as
 * the L2 stage leaves it (parsed, TX from ext1 to the VM port vm1), per packet
 * ({@code @OperationsPerInvocation(32)}); restoring the metadata is {@link #refillOnly}, included in
 * the others.
 * <ul>
 *   <li>{@link #stayLocal}: 32 packets whose flows this worker owns: policy (snapshot, VM-port check,
 *       zone) + owner hash, nothing moves;</li>
 *   <li>{@link #handedOff}: 32 packets owned by the other worker: the same + the push into the SPSC
 *       ring (64-byte slot) + one publish, and the other worker's drain into its burst (run in this
 *       thread, so the ring never fills; the two sides' cache-line transfers between cores are not
 *       in this figure);</li>
 *   <li>{@link #mixed}: half and half.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(SteerBench.BURST)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class SteerBench {
    static final int BURST = 32;
    private static final int SLOT = 128;
    static final int VM1 = 0, EXT1 = 2;

    private Arena arena;
    private long local, remote, mix;
    private int len;
    private Burst burst, drained;
    private SteerStage steer0, steer1;

    static String config() {
        StringBuilder y = new StringBuilder("eal: [\"-l\", \"0,1\"]\nports:\n");
        String[] names = {"vm1", "vm2", "ext1", "ext2"};
        for (int p = 0; p < 4; p++) y.append("  - { name: ").append(names[p]).append(", device: net_null").append(p).append(", tx-queues: 2 }\n");
        y.append("workers:\n  - { lcore: 0, rx: [vm1, vm2] }\n  - { lcore: 1, rx: [ext1, ext2] }\n");
        y.append("security-groups:\n  vm-ports:\n    - { port: vm1, addresses: [10.77.0.1] }\n    - { port: vm2, addresses: [10.77.0.2] }\n");
        return y.toString();
    }

    @Setup
    public void setUp() throws Exception {
        String y = config();
        SluiceConfig cfg = ConfigLoader.parse("bench.yaml", y);
        FirewallState fw = new FirewallState(4, FirewallConfigLoader.parseDocument("bench.yaml", y, cfg));
        Handoff h = new Handoff(2);
        steer0 = new SteerStage(h, 0, fw.steerPolicy(null), null);
        steer1 = new SteerStage(h, 1, fw.steerPolicy(null), null);
        arena = Arena.ofShared();
        local = arena.allocate((long) BURST * SLOT, 64).address();
        remote = arena.allocate((long) BURST * SLOT, 64).address();
        mix = arena.allocate((long) BURST * SLOT, 64).address();
        burst = new Burst(BURST);
        drained = new Burst(BURST);
        int vm = 0x0A4D0001;
        int nLocal = 0, nRemote = 0;
        for (int host = 0x0A000001; nLocal < BURST || nRemote < BURST; host++) {
            int owner = FlowOwner.reduce(FlowOwner.mix(1, 4, 0, Math.min(host & 0xFFFF_FFFFL, vm), 0, Math.max(host & 0xFFFF_FFFFL, vm)), 2);
            if (owner == 0 && nLocal < BURST) {
                len = FirewallBench.frame(local + (long) nLocal++ * SLOT, host, vm, 40000, 22, 0x18, 1, 1);
            } else if (owner == 1 && nRemote < BURST) {
                FirewallBench.frame(remote + (long) nRemote++ * SLOT, host, vm, 40000, 22, 0x18, 1, 1);
            }
        }
        for (int i = 0; i < BURST; i++) {
            long src = (i % 2 == 0 ? local : remote) + (long) (i / 2) * SLOT;
            io.sluice.dataplane.packet.Mem.copy(src, mix + (long) i * SLOT, SLOT);
        }
        // check the sets: worker 0 keeps `local`, hands off `remote`
        if (steerOnce(local) != 0 || steerOnce(remote) != BURST || steerOnce(mix) != BURST / 2) {
            throw new IllegalStateException("owner sets are wrong");
        }
    }

    private int steerOnce(long frames) {
        Burst b = burst;
        b.count = BURST;
        for (int i = 0; i < BURST; i++) FirewallBench.prep(b, i, frames + (long) i * SLOT, len, EXT1, VM1);
        int moved = steer0.process(b);
        steer1.drain(drained);
        return moved;
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public int refillOnly() {
        Burst b = burst;
        b.count = BURST;
        for (int i = 0; i < BURST; i++) FirewallBench.prep(b, i, local + (long) i * SLOT, len, EXT1, VM1);
        return b.count;
    }

    @Benchmark
    public int stayLocal() {
        return steerOnce(local);
    }

    @Benchmark
    public int handedOff() {
        int n = steerOnce(remote);
        if (drained.count != BURST || burst.next[0] != Next.CONSUMED) throw new IllegalStateException("not handed off");
        return n;
    }

    @Benchmark
    public int mixed() {
        return steerOnce(mix);
    }
}
