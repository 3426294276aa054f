package io.sluice.dataplane.stage;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.pipeline.Stage;

/**
 * The stage arrays workers run. A worker calls every stage of the array in order on each burst,
 * then transmits packets with {@code next == TX} on {@code outPort} and frees and counts those
 * with {@code next == DROP}.
 */
public final class Pipelines {
    private Pipelines() {}

    /**
     * L2 switching: {@link ParseStage} -> {@link ArpResponderStage} -> {@link L2ForwardStage}.
     * After it every packet of the burst is TX or DROP. A new array and new stages per call:
     * give each worker its own.
     *
     * @throws IllegalArgumentException when the MAC table or ARP entries are inconsistent
     */
    public static Stage[] l2(SluiceConfig cfg) {
        return new Stage[] {new ParseStage(), new ArpResponderStage(cfg), new L2ForwardStage(cfg)};
    }
}
