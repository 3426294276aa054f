package io.sluice.dataplane.overlay;

import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Stage;

/** The overlay stages in pipeline order, for one simulated worker. */
final class Pipeline {
    final OverlayState state;
    final OverlayMeta meta;
    final UnderlayNeighbours neighbours = UnderlayNeighbours.withDefaults();
    final Stage[] stages;

    Pipeline(OverlaySnapshot s, int capacity) {
        state = new OverlayState(s);
        meta = new OverlayMeta(capacity);
        stages = new Stage[] {
                new VxlanDecapStage(state, meta),
                new UnderlayArpStage(state, meta, neighbours),
                new AntiSpoofStage(state, meta),
                new OverlayArpStage(state, meta),
                new RouteStage(state, meta),
                new VxlanEncapStage(state, meta, neighbours)};
    }

    void run(Burst b) {
        for (Stage st : stages) {
            st.process(b);
        }
    }

    OverlayDrop reason(int i) { return OverlayDrop.of(meta.reason[i]); }
}
