/**
 * Pipeline stages: one final class per job, each processing a whole
 * {@link io.sluice.dataplane.pipeline.Burst} and saying in its Javadoc what it uses and sets.
 * {@link io.sluice.dataplane.stage.Pipelines#l2} builds the L2 pipeline
 * ({@link io.sluice.dataplane.stage.ParseStage}, {@link io.sluice.dataplane.stage.ArpResponderStage},
 * {@link io.sluice.dataplane.stage.L2ForwardStage}). See docs/stages.md.
 */
package io.sluice.dataplane.stage;
