package io.sluice.dataplane.agent;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.WorkerSpec;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.ffi.Eal;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.port.Port;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two workers, each owning one rx queue of a two-queue port and its own tx queue on every
 * port: the port is configured with 2 rx / 2 tx queues (RSS on where the device offers it),
 * each worker is registered with EAL under its own lcore id, and both forward traffic.
 */
class MultiQueueTest {
    @Test
    void twoWorkersTwoQueues() throws Exception {
        List<String> eal = Eal.noHugeArgs("0", 1024, Eal.uniquePrefix("slt-mq"));
        SluiceConfig cfg = new SluiceConfig("test", eal,
                List.of(new PortSpec("src", "net_null0", 2, 2, -1), new PortSpec("dst", "net_null1", 1, 1, -1)),
                List.of(new WorkerSpec(0, List.of(new WorkerSpec.RxQueue(0, 0)), 0),
                        new WorkerSpec(0, List.of(new WorkerSpec.RxQueue(0, 1)), 1)),
                32, "yield", 8191, List.of(), List.of(), null);
        Counters counters = Counters.inMemory(512);
        try (Dataplane dp = Dataplane.start(cfg, (c, w) -> new Stage[] {new io.sluice.dataplane.stage.WireStages.Crossover()}, counters)) {
            Port src = dp.ports().get(0);
            Port dst = dp.ports().get(1);
            assertEquals(2, src.rxQueues());
            assertEquals(2, src.txQueues());
            assertEquals(1, dst.rxQueues());
            assertEquals(2, dst.txQueues(), "one tx queue per worker, although the spec asked for 1");
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < deadline
                    && (dp.workers().get(0).cycles() < 1000 || dp.workers().get(1).cycles() < 1000)) {
                Thread.sleep(20);
            }
            dp.stopWorkers();
            int l0 = dp.workers().get(0).registeredLcore();
            int l1 = dp.workers().get(1).registeredLcore();
            assertTrue(l0 >= 0 && l1 >= 0 && l0 != l1, "distinct EAL lcore ids: " + l0 + ", " + l1);
            long perWorker0 = counters.reader().getCounterValue(findCounter(counters, "port src rx packets", 0));
            long perWorker1 = counters.reader().getCounterValue(findCounter(counters, "port src rx packets", 1));
            assertTrue(perWorker0 > 0 && perWorker1 > 0, "both queues polled: " + perWorker0 + ", " + perWorker1);
            long rx = counters.snapshot().get("port src rx packets");
            assertEquals(rx, counters.snapshot().get("port dst tx packets"), "everything forwarded");
        }
    }

    static int findCounter(Counters c, String label, int worker) {
        int[] found = {-1};
        c.reader().forEach((id, typeId, key, l) -> {
            if (l.equals(label) && key.getInt(0) == worker) {
                found[0] = id;
            }
        });
        assertTrue(found[0] >= 0, "no counter " + label + " of worker " + worker);
        return found[0];
    }
}
