package io.sluice.dataplane.pipeline;

/**
 * A stage that can say, for one packet, what it decided beyond the packet's fate (which rule,
 * which conntrack state): read by the worker only while a trace is armed
 * ({@code io.sluice.dataplane.debug.Tap}), for the traced packets only. The stage keeps what it
 * needs in per-slot arrays it writes anyway (one store per packet at most); nothing is read or
 * cleared when no trace is armed.
 */
public interface Traced {
    /** Forgets what the stage recorded for slot i (called before the stages run on a traced packet). */
    void traceClear(int i);

    /** What the stage decided for slot i, packed as the stage documents; 0 = it did not look at the packet. */
    long traceDetail(int i);
}
