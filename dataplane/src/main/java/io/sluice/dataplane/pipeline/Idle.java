package io.sluice.dataplane.pipeline;

/**
 * A stage with timed work that must go on while no packet arrives (connection expiry, flow-log
 * records): the worker calls {@link #idle} from its duty cycle when it found no packet, and at
 * least every counter-publishing interval while busy. Same thread as {@link Stage#process}; no
 * allocation, lock or wait.
 */
public interface Idle {
    void idle(long nowNs);
}
