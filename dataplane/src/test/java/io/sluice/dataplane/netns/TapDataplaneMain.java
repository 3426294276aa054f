package io.sluice.dataplane.netns;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.agent.TestStages;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.pipeline.Stage;

import java.util.List;

/** Test child process: a data plane on two TAP ports (names from args), "READY" on stdout, then runs until signalled. */
public final class TapDataplaneMain {
    public static void main(String[] args) throws Exception {
        var cfg = TestStages.config("slt-sig",
                List.of(TestStages.port("a", "net_tap0,iface=" + args[0]), TestStages.port("b", "net_tap1,iface=" + args[1])),
                new int[] {0, 1}, "sleep-1000", 2047);
        Dataplane dp = Dataplane.start(cfg, (c, w) -> new Stage[] {new io.sluice.dataplane.stage.WireStages.Crossover()}, Counters.inMemory(512));
        System.out.println("READY");
        System.out.flush();
        dp.awaitTermination();
    }
}
