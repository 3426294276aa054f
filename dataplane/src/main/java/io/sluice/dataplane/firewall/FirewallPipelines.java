package io.sluice.dataplane.firewall;

import io.sluice.dataplane.agent.PipelineFactory;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.Pipelines;

/** Pipelines with the firewall stage inserted after the forwarding decision, before tx. */
public final class FirewallPipelines {
    private FirewallPipelines() {}

    /** {@code parse -> arp -> l2 -> firewall}: new stages (and a new conntrack shard) per call. */
    public static Stage[] l2(SluiceConfig cfg, FirewallState state) {
        return l2(cfg, state, -1);
    }

    /** As {@link #l2(SluiceConfig, FirewallState)}, the firewall's counters exported under {@code worker}. */
    public static Stage[] l2(SluiceConfig cfg, FirewallState state, int worker) {
        Stage[] l2 = Pipelines.l2(cfg);
        Stage[] out = java.util.Arrays.copyOf(l2, l2.length + 1);
        out[l2.length] = state.newStage(worker, null);
        return out;
    }

    /** A factory for {@link io.sluice.dataplane.Dataplane#start}: one firewall stage (and shard) per worker. */
    public static PipelineFactory l2Factory(FirewallState state) {
        return (cfg, worker) -> l2(cfg, state, worker);
    }
}
