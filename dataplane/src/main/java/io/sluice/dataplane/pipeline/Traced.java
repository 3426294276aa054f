package io.sluice.dataplane.pipeline;

/**
 * A stage that can say, for one packet, what it decided beyond the packet's fate (which rule,
 * which conntrack state): read by the worker only while a trace is armed
 * ({@code io.sluice.dataplane.debug.Tap}), for the traced packets only. The stage keeps what it
 * needs in per-slot arrays, only between {@code traceRecording(true)} and {@code traceRecording(false)}
 * (the worker brackets a burst that has traced packets with them); nothing is stored, read or
 * cleared when no trace is armed.
 */
public interface Traced {
    /** Forgets what the stage recorded for slot i (called before the stages run on a traced packet). */
    void traceClear(int i);

    /**
     * Whether the stage records its detail for the bursts that follow: the worker turns it on
     * before running the stages over a burst with traced packets and off after. Worker thread.
     */
    void traceRecording(boolean on);

    /** What the stage decided for slot i, packed as the stage documents; 0 = it did not look at the packet. */
    long traceDetail(int i);
}
