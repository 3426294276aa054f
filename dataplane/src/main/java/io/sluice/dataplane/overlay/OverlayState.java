package io.sluice.dataplane.overlay;

/**
 * The published overlay snapshot: the control side swaps it with one volatile write
 * ({@link #publish}); every overlay stage reads {@link #current()} once per burst. Readers never
 * lock and never see half an update.
 */
public final class OverlayState {
    private volatile OverlaySnapshot current;

    public OverlayState(OverlaySnapshot initial) { current = initial; }

    public OverlaySnapshot current() { return current; }

    public void publish(OverlaySnapshot next) { current = next; }
}
