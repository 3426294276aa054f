package io.sluice.dataplane.firewall;

import io.sluice.dataplane.agent.PipelineFactory;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.handoff.Handoff;
import io.sluice.dataplane.handoff.SteerStage;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.Pipelines;

/**
 * Pipelines with the firewall stage inserted after the forwarding decision, before tx; with two or
 * more workers a {@link SteerStage} in front of it hands each tracked packet to its flow's owner.
 */
public final class FirewallPipelines {
    private FirewallPipelines() {}

    /** {@code parse -> arp -> l2 -> firewall}: new stages (and a new conntrack shard) per call. */
    public static Stage[] l2(SluiceConfig cfg, FirewallState state) {
        return l2(cfg, state, -1, null);
    }

    /** As {@link #l2(SluiceConfig, FirewallState)}, the firewall's counters exported under {@code worker}. */
    public static Stage[] l2(SluiceConfig cfg, FirewallState state, int worker) {
        return l2(cfg, state, worker, null);
    }

    /**
     * {@code parse -> arp -> l2 -> steer -> firewall} for worker {@code worker} of a data plane whose
     * workers share {@code handoff}; without a hand-off (null: one worker) no steer stage.
     */
    public static Stage[] l2(SluiceConfig cfg, FirewallState state, int worker, Handoff handoff) {
        Stage[] l2 = Pipelines.l2(cfg);
        Stage[] out = java.util.Arrays.copyOf(l2, l2.length + (handoff == null ? 1 : 2));
        if (handoff != null) out[l2.length] = new SteerStage(handoff, worker, state.steerPolicy(null), null);
        out[out.length - 1] = state.newStage(worker, null);
        return out;
    }

    /**
     * A factory for {@link io.sluice.dataplane.Dataplane#start}: one firewall stage (and shard) per
     * worker; with more than one worker, one {@link Handoff} shared by them and a steer stage each.
     */
    public static PipelineFactory l2Factory(FirewallState state) {
        return new PipelineFactory() {
            private Handoff handoff;

            @Override
            public synchronized Stage[] stages(SluiceConfig cfg, int worker) {
                int n = cfg.workers().size();
                if (n > 1 && (handoff == null || handoff.workers() != n)) handoff = new Handoff(n);
                return l2(cfg, state, worker, n > 1 ? handoff : null);
            }
        };
    }
}
