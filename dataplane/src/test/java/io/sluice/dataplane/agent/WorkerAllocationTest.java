package io.sluice.dataplane.agent;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Steady-state forwarding allocates nothing: the worker thread's allocated bytes
 * (com.sun.management.ThreadMXBean) do not move across millions of packets on two net_null ports.
 */
class WorkerAllocationTest {
    @Test
    void steadyStateForwardingAllocatesNothing() throws Exception {
        var cfg = TestStages.config("slt-alloc",
                List.of(TestStages.port("a", "net_null0"), TestStages.port("b", "net_null1")),
                new int[] {0, 1}, "busy-spin", 8191);
        Counters counters = Counters.inMemory(256);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        mx.setThreadAllocatedMemoryEnabled(true);
        try (Dataplane dp = Dataplane.start(cfg, (c, w) -> new Stage[] {new TestStages.MacSwap()}, counters)) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (counters.snapshot().get("port a rx packets") < 2_000_000 && System.nanoTime() < deadline) {
                Thread.sleep(50); // warm-up: let the JIT compile the duty cycle
            }
            Thread.sleep(1000);
            Thread t = dp.workerThread(0);
            long before = mx.getThreadAllocatedBytes(t.threadId());
            long pkts0 = counters.snapshot().get("port a rx packets") + counters.snapshot().get("port b rx packets");
            Thread.sleep(2000);
            long after = mx.getThreadAllocatedBytes(t.threadId());
            long pkts1 = counters.snapshot().get("port a rx packets") + counters.snapshot().get("port b rx packets");
            long packets = pkts1 - pkts0;
            System.out.printf("worker allocated %d bytes over %d packets (%.1f Mpps)%n",
                    after - before, packets, packets / 2e6);
            assertTrue(before >= 0 && after >= 0, "allocation accounting available");
            assertTrue(packets > 1_000_000, "forwarded only " + packets);
            assertEquals(0, after - before, "bytes allocated by the worker over " + packets + " packets");
        }
    }
}
