package io.sluice.dataplane.port;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.agent.TestStages;
import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.WorkerSpec;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.ffi.Eal;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A configuration the devices cannot honour fails at start with a message naming the port,
 * and the data plane does not start (no device takes 2000 rx queues).
 */
class PortErrorsTest {
    @Test
    void tooManyQueuesNamesThePort() {
        List<String> eal = Eal.noHugeArgs("0", 1024, Eal.uniquePrefix("slt-perr"));
        SluiceConfig cfg = new SluiceConfig("test", eal,
                List.of(new PortSpec("ringy", "net_ring0", 2000, 1, -1)),
                List.of(new WorkerSpec(0, List.of(new WorkerSpec.RxQueue(0, 0), new WorkerSpec.RxQueue(0, 1)), 0)),
                32, "busy-spin", 2047, List.of(), List.of(), null);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Dataplane.start(cfg, (c, w) -> new Stage[] {new io.sluice.dataplane.stage.WireStages.Crossover()}, Counters.inMemory(64)));
        assertTrue(e.getMessage().contains("port ringy") && e.getMessage().contains("rx queues"), e.getMessage());
        // EAL was cleaned up after the failure and cannot start again in this process
        IllegalStateException again = assertThrows(IllegalStateException.class,
                () -> Dataplane.start(cfg, (c, w) -> new Stage[0], Counters.inMemory(64)));
        assertTrue(again.getMessage().contains("once per process") || again.getMessage().contains("cannot start again"),
                again.getMessage());
    }

    @Test
    void badIdleStrategyFailsBeforeEal() {
        SluiceConfig cfg = new SluiceConfig("test", List.of(), List.of(), List.of(), 32, "spinny", 2047,
                List.of(), List.of(), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dataplane.start(cfg, (c, w) -> new Stage[0], Counters.inMemory(64)));
        assertTrue(e.getMessage().contains("spinny"), e.getMessage());
    }
}
