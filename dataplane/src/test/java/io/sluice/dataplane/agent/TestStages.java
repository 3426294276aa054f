package io.sluice.dataplane.agent;

import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.WorkerSpec;
import io.sluice.dataplane.ffi.Eal;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;

import java.util.ArrayList;
import java.util.List;

/** Test-only stages and configurations (the real stages live in io.sluice.dataplane.stage). */
public final class TestStages {
    private TestStages() {}

    /**
     * Every fate in turn by slot: i%4 == 0 → tx to port 1; 1 → drop L2_UNKNOWN_DESTINATION;
     * 2 → tx to port 7 (does not exist); 3 → left CONTINUE.
     */
    public static final class Mixed implements Stage {
        @Override
        public int process(Burst b) {
            for (int i = 0; i < b.count; i++) {
                switch (i & 3) {
                    case 0 -> b.tx(i, 1);
                    case 1 -> b.drop(i, DropReason.L2_UNKNOWN_DESTINATION);
                    case 2 -> b.tx(i, 7);
                    default -> { }
                }
            }
            return b.count;
        }

        @Override
        public String name() {
            return "mixed";
        }
    }

    /** A configuration with the given ports, one worker on lcore 0 polling queue 0 of {@code polled}. */
    public static SluiceConfig config(String prefix, List<PortSpec> ports, int[] polled, String idle, int mbufs) {
        List<String> eal = Eal.noHugeArgs("0", 1024, Eal.uniquePrefix(prefix));
        List<WorkerSpec.RxQueue> q = new ArrayList<>();
        for (int p : polled) {
            q.add(new WorkerSpec.RxQueue(p, 0));
        }
        return new SluiceConfig("test " + prefix, eal, ports, List.of(new WorkerSpec(0, q, 0)), 32, idle, mbufs,
                List.of(), List.of(), null);
    }

    public static PortSpec port(String name, String devargs) {
        return new PortSpec(name, devargs, 1, 1, -1);
    }
}
