package io.sluice.dataplane.agent;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.pipeline.Stage;

import java.util.function.Function;

/**
 * Builds the stages of one worker. Called once per worker on the control thread, before the
 * worker starts, so per-worker state (conntrack shards, scratch buffers) belongs to one thread.
 */
@FunctionalInterface
public interface PipelineFactory {
    Stage[] stages(SluiceConfig config, int workerIndex);

    /** Adapts a factory that ignores the worker index. */
    static PipelineFactory of(Function<SluiceConfig, Stage[]> f) {
        return (cfg, worker) -> f.apply(cfg);
    }
}
