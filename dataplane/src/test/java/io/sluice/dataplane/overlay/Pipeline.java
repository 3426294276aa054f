package io.sluice.dataplane.overlay;

import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.ParseStage;

/** The overlay stages in pipeline order (with the firewall when given), for one simulated worker. */
final class Pipeline {
    final OverlayState state;
    final OverlayMeta meta;
    final UnderlayNeighbours neighbours = UnderlayNeighbours.withDefaults();
    final Stage[] stages;

    Pipeline(OverlaySnapshot s, int capacity) {
        this(s, capacity, null);
    }

    Pipeline(OverlaySnapshot s, int capacity, FirewallState firewall) {
        this(s, capacity, firewall, false);
    }

    /** With {@code parse}, the real {@link ParseStage} runs first (raw frames in; the fuzz targets). */
    Pipeline(OverlaySnapshot s, int capacity, FirewallState firewall, boolean parse) {
        state = new OverlayState(s);
        meta = new OverlayMeta(capacity);
        Stage[] vm = OverlayPipeline.vmStages(state, meta, neighbours, firewall, 0);
        if (parse) {
            stages = new Stage[vm.length + 1];
            stages[0] = new ParseStage();
            System.arraycopy(vm, 0, stages, 1, vm.length);
        } else {
            stages = vm;
        }
    }

    void run(Burst b) {
        for (Stage st : stages) {
            st.process(b);
        }
    }

    OverlayDrop reason(int i) { return OverlayDrop.of(meta.reason[i]); }
}
