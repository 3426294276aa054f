package io.sluice.dataplane.agent;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.WorkerSpec;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.counters.WorkerCounters;
import io.sluice.dataplane.ffi.Eal;
import io.sluice.dataplane.handoff.Handoff;
import io.sluice.dataplane.handoff.SteerPolicy;
import io.sluice.dataplane.handoff.SteerStage;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shard hand-off under a receiver that cannot keep up, with real workers on net_null ports
 * (infinite rx, as the tenant bench's net_pcap replay): worker 0 receives on port {@code a} as
 * fast as it can and hands about half of every burst to worker 1, whose pipeline is slowed down
 * (it spins per burst), so worker 0 produces far faster than worker 1 drains.
 * <ol>
 *   <li>With a pause limit no scheduler delay reaches, worker 0 holds off its rx queue while the
 *       ring to worker 1 has no room for a burst: nothing is dropped as {@code handoff_full}, and
 *       {@code worker 0 handoff rx pauses} counts the skipped polls. (Before backpressure, the ring
 *       overflowed within milliseconds.)</li>
 *   <li>With a short limit and worker 1 stopped inside its pipeline (it drains nothing), worker 0
 *       receives again after the limit and the full ring drops, counted per worker and as
 *       {@code port a drop handoff_full}, equal.</li>
 * </ol>
 * Assertions wait on counters with generous deadlines; no outcome depends on timing.
 */
class HandoffBackpressureTest {
    /** Zone 0 for every packet: each is steered to the owner of its address pair. */
    static final class AllTracked implements SteerPolicy {
        @Override public void begin() {}
        @Override public int zone(Burst b, int i) { return 0; }
    }

    /**
     * Makes each received frame an IPv4 packet between 10.0.0.1 and one of 4096 addresses (so the
     * owners of consecutive packets mix), parse fields set as the parser would.
     */
    static final class Synth implements Stage {
        private int seq;

        @Override
        public int process(Burst b) {
            for (int i = 0; i < b.count; i++) {
                long d = b.data[i];
                Mem.put16(d + 12, 0x0800);
                Mem.put8(d + 14, 0x45);
                Mem.put8(d + 23, 17);
                Mem.put32(d + 26, 0x0a00_0001);
                Mem.put32(d + 30, 0x0a01_0000 | (seq++ & 0xfff));
                b.flags[i] = PacketFlags.IPV4;
                b.l3Offset[i] = 14;
                b.l4Offset[i] = 34;
                b.etherType[i] = 0x0800;
                b.ipProto[i] = 17;
            }
            return b.count;
        }

        @Override public String name() { return "synth"; }
    }

    /** Sends every packet back out of its in-port; on the slow worker spins per burst, and while {@link #stopped}. */
    static final class Out implements Stage {
        static volatile boolean stopped;
        private final boolean slow;

        Out(boolean slow) { this.slow = slow; }

        @Override
        public int process(Burst b) {
            if (slow) {
                long until = System.nanoTime() + 20_000;
                while (System.nanoTime() < until || stopped) {
                    Thread.onSpinWait();
                }
            }
            for (int i = 0; i < b.count; i++) {
                if (b.next[i] == Next.CONTINUE) b.tx(i, b.inPort[i]);
            }
            return b.count;
        }

        @Override public String name() { return "out"; }
    }

    @Test
    void aSlowOwnerHoldsItsSendersBackAndAStoppedOneMakesThemDropCounted() throws Exception {
        List<String> eal = Eal.noHugeArgs("0", 1024, Eal.uniquePrefix("slt-hbp"));
        SluiceConfig cfg = new SluiceConfig("test", eal,
                List.of(new PortSpec("a", "net_null0", 1, 2, -1), new PortSpec("b", "net_null1", 1, 2, -1)),
                List.of(new WorkerSpec(-1, List.of(new WorkerSpec.RxQueue(0, 0)), 0),
                        new WorkerSpec(-1, List.of(new WorkerSpec.RxQueue(1, 0)), 1)),
                32, "yield", 8191, List.of(), List.of(), null);
        Handoff handoff = new Handoff(2, 256);
        handoff.pauseLimitNs(3_600_000_000_000L); // phase 1: an hour, more than any scheduler delay
        Counters counters = Counters.inMemory(512);
        String in1 = WorkerCounters.handoffLabel(1, "in packets");
        String full0 = WorkerCounters.handoffLabel(0, "full drops"), full1 = WorkerCounters.handoffLabel(1, "full drops");
        String pauses0 = WorkerCounters.handoffLabel(0, "rx pauses");
        String portFull = Counters.dropLabel("a", DropReason.HANDOFF_FULL);
        Out.stopped = false;
        try (Dataplane dp = Dataplane.start(cfg, (c, w) -> new Stage[] {
                new Synth(), new SteerStage(handoff, w, new AllTracked(), null), new Out(w == 1)}, counters)) {
            try {
                // 1. slow owner, long limit: backpressure, no drop
                waitFor(() -> {
                    assertEquals(0, get(counters, full0), "hand-off drops while the owner keeps draining: " + nonZero(counters.snapshot()));
                    return get(counters, in1) >= 50_000 && get(counters, pauses0) > 0;
                }, counters, "worker 1 drained 50000 and worker 0 paused");
                Map<String, Long> s = counters.snapshot();
                assertEquals(0, s.getOrDefault(full0, 0L), "no hand-off drop while the owner keeps draining: " + nonZero(s));
                assertEquals(0, s.getOrDefault(portFull, 0L), nonZero(s));
                assertTrue(s.get(WorkerCounters.handoffLabel(0, "out packets")) >= s.get(in1), nonZero(s));

                // 2. stopped owner, short limit: worker 0 receives again after it and drops, counted
                handoff.pauseLimitNs(5_000_000L);
                Out.stopped = true;
                waitFor(() -> get(counters, full0) > 0, counters, "worker 0 dropped on the full ring");
            } finally {
                Out.stopped = false;
            }
            dp.stopWorkers();
            Map<String, Long> end = counters.snapshot();
            long full = end.getOrDefault(full0, 0L) + end.getOrDefault(full1, 0L);
            assertTrue(end.get(full0) > 0, nonZero(end));
            assertEquals(full, end.getOrDefault(portFull, 0L) + end.getOrDefault(Counters.dropLabel("b", DropReason.HANDOFF_FULL), 0L),
                    "every hand-off drop is a handoff_full drop of its in-port: " + nonZero(end));
            assertTrue(end.get(pauses0) > 0, nonZero(end));
        }
    }

    static long get(Counters c, String label) {
        return c.snapshot().getOrDefault(label, 0L);
    }

    static void waitFor(BooleanSupplier cond, Counters c, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!cond.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what + ": " + nonZero(c.snapshot()));
            Thread.sleep(20);
        }
    }

    static String nonZero(Map<String, Long> s) {
        StringBuilder b = new StringBuilder();
        s.forEach((k, v) -> { if (v != 0 && !k.startsWith("stage ")) b.append(k).append('=').append(v).append("; "); });
        return b.toString();
    }
}
