package io.sluice.dataplane.pipeline;

/** Next-step codes in {@link Burst#next}. Plain bytes, not an enum: they live in a flat array. */
public final class Next {
    /** Still in the pipeline: the next stage should look at it. */
    public static final byte CONTINUE = 0;
    /** Forwarding chose {@link Burst#outPort}: the tx side sends it. */
    public static final byte TX = 1;
    /** Dropped; {@link Burst#dropReason} says why. The tx side frees the mbuf and counts it. */
    public static final byte DROP = 2;
    /** The stage consumed the packet itself (e.g. turned it into a reply and sent it). */
    public static final byte CONSUMED = 3;

    private Next() {}
}
