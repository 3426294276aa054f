package io.sluice.dataplane.overlay;

import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Stage;

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
        state = new OverlayState(s);
        meta = new OverlayMeta(capacity);
        stages = OverlayPipeline.vmStages(state, meta, neighbours, firewall, 0);
    }

    void run(Burst b) {
        for (Stage st : stages) {
            st.process(b);
        }
    }

    OverlayDrop reason(int i) { return OverlayDrop.of(meta.reason[i]); }
}
