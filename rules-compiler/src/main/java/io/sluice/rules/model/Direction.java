package io.sluice.rules.model;

/** Traffic direction as seen from the VM interface. */
public enum Direction {
    /** Toward the VM: the remote side is the source. */
    INGRESS,
    /** From the VM: the remote side is the destination. */
    EGRESS
}
