package io.sluice.dataplane.agent;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker's duty cycle on real DPDK devices: net_null0 (an endless source, polled) and
 * net_ring0 (a ring that fills up, not polled). Every received packet ends up sent or dropped
 * and counted by reason; nothing leaks.
 */
class WorkerTest {
    @Test
    void everyPacketIsSentOrCountedAndNothingLeaks() throws Exception {
        var cfg = TestStages.config("slt-worker",
                List.of(TestStages.port("src", "net_null0"), TestStages.port("sink", "net_ring0")),
                new int[] {0}, "busy-spin", 8191);
        Counters counters = Counters.inMemory(256);
        Dataplane dp = Dataplane.start(cfg, (c, w) -> new Stage[] {new TestStages.Mixed()}, counters);
        try {
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (counters.snapshot().get("port src rx packets") < 1_000_000 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            dp.stopWorkers();
            Map<String, Long> s = counters.snapshot();
            long rx = s.get("port src rx packets");
            long tx = s.get("port sink tx packets");
            long unknown = s.get(Counters.dropLabel("src", DropReason.L2_UNKNOWN_DESTINATION));
            long badPort = s.get(Counters.dropLabel("src", DropReason.BAD_OUT_PORT));
            long noVerdict = s.get(Counters.dropLabel("src", DropReason.NO_VERDICT));
            long txFull = s.get(Counters.dropLabel("sink", DropReason.TX_FULL));
            assertTrue(rx >= 1_000_000, "worker received " + rx);
            assertEquals(rx / 4, unknown, "a quarter dropped as unknown destination");
            assertEquals(rx / 4, badPort);
            assertEquals(rx / 4, noVerdict);
            assertEquals(rx / 4, tx + txFull, "a quarter to the ring: sent or TX_FULL");
            assertTrue(txFull > 0, "the unpolled ring filled up");
            assertEquals(64 * tx, s.get("port sink tx bytes"));
            assertEquals(64 * rx, s.get("port src rx bytes"));
            assertEquals(rx, s.get("stage mixed packets"));

            // the ring holds exactly what was sent; drain it, then the pool is whole again
            long drained = 0;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment ptrs = a.allocate(8 * 32);
                int n;
                while ((n = Shim.rxBurst(dp.ports().get(1).portId(), 0, ptrs, 32)) > 0) {
                    Shim.mbufFreeBulk(ptrs, n);
                    drained += n;
                }
            }
            assertEquals(tx, drained);
            assertEquals(0, Shim.mempoolInUse(dp.pool()), "no mbuf leaked");
        } finally {
            dp.close();
        }
    }
}
