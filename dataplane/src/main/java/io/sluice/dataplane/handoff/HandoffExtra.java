package io.sluice.dataplane.handoff;

/**
 * Per-packet state a pipeline keeps outside the {@link io.sluice.dataplane.pipeline.Burst}
 * (parallel arrays indexed by burst slot, e.g. the overlay's {@code OverlayMeta}) that the stages
 * after the steer stage need: two {@code long}s per packet travel in the hand-off slot with it.
 * Implementations are per worker, single-threaded, allocation-free.
 */
public interface HandoffExtra {
    /** First word of slot {@code i}'s state (producer side). */
    long word0(int i);

    /** Second word of slot {@code i}'s state (producer side). */
    long word1(int i);

    /** Restores slot {@code i} from the two words on the owning worker (consumer side). */
    void restore(int i, long w0, long w1);

    /** Once after a non-empty drain, before the burst runs through the stages after steer (e.g. read the time). */
    default void beginResume() {}
}
