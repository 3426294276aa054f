package io.sluice.dataplane.stage;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.packet.PacketSpec;
import io.sluice.dataplane.packet.PacketSpec.Built;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Steady-state parse -> arp -> l2 allocates nothing: the thread's allocated-bytes counter
 * (com.sun.management.ThreadMXBean) does not move over 100K bursts of 32 mixed frames, after
 * a warm-up that lets the JIT compile the stages.
 */
class PipelineAllocationTest {
    private static final int BURST = 32;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    static Object sink;

    private static NativeFrames frames;
    private static long pristine;
    private static long work;
    private static int bytes;
    private static final int[] offsets = new int[BURST];
    private static final int[] lengths = new int[BURST];
    private static final int[] ports = new int[BURST];

    @BeforeAll
    static void setUp() {
        frames = new NativeFrames();
        List<Built> catalog = PacketSpec.catalog();
        List<Built> known = new ArrayList<>();
        long bcast = 0xFFFF_FFFF_FFFFL;
        // what the L2 pipeline mostly sees: unicast between known hosts, and ARP for configured addresses
        known.add(PacketSpec.frame("a->b").dst(TestConfigs.MAC_B).src(TestConfigs.MAC_A).ipv4(6).payload(100).build());
        known.add(PacketSpec.frame("b->c").dst(TestConfigs.MAC_C).src(TestConfigs.MAC_B).ipv6(17).payload(64).build());
        known.add(PacketSpec.frame("arp-gw").dst(bcast).src(TestConfigs.MAC_A)
                .arp(1, TestConfigs.MAC_A, TestConfigs.IP_A, 0, TestConfigs.IP_GW).build());
        // every other packet is traffic between known hosts, the rest every frame type there is
        List<Built> mix = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
            mix.add(i % 2 == 0 ? known.get((i / 2) % known.size()) : catalog.get(i / 2));
        }
        int total = 0;
        for (int i = 0; i < BURST; i++) {
            Built f = mix.get(i);
            offsets[i] = total;
            lengths[i] = f.bytes().length;
            ports[i] = i % 3;
            total += (f.bytes().length + 63) & ~63;
        }
        bytes = total;
        pristine = frames.allocate(total);
        work = frames.allocate(total);
        for (int i = 0; i < BURST; i++) {
            NativeFrames.write(pristine + offsets[i], mix.get(i).bytes());
        }
    }

    @AfterAll
    static void tearDown() {
        frames.close();
    }

    private static int runBursts(Stage[] stages, Burst b, int bursts) {
        int tx = 0;
        for (int n = 0; n < bursts; n++) {
            Mem.copy(pristine, work, bytes);          // ARP replies are written in place: start from the requests again
            b.count = BURST;
            for (int i = 0; i < BURST; i++) {
                b.reset(i, 0, work + offsets[i], lengths[i], ports[i]);
            }
            for (Stage s : stages) {
                s.process(b);
            }
            for (int i = 0; i < BURST; i++) {
                if (b.next[i] == Next.TX) {
                    tx++;
                }
            }
        }
        return tx;
    }

    @Test
    void parseArpL2AllocatesNothingPerBurst() {
        Stage[] stages = Pipelines.l2(TestConfigs.config());
        Burst b = new Burst(BURST);
        runBursts(stages, b, 30_000);                 // warm-up: interpreter, C1, C2
        long baseline = THREADS.getCurrentThreadAllocatedBytes();
        baseline = THREADS.getCurrentThreadAllocatedBytes() - baseline;   // cost of asking, if any
        long before = THREADS.getCurrentThreadAllocatedBytes();
        int tx = runBursts(stages, b, 100_000);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before - baseline;
        assertTrue(tx > 0, "some packets forwarded");
        assertEquals(0, allocated, "bytes allocated over 100K bursts of " + BURST);
    }

    @Test
    void theProbeSeesAllocation() {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        sink = new byte[4096];
        assertTrue(THREADS.getCurrentThreadAllocatedBytes() - before >= 4096);
    }
}
