package io.sluice.dataplane.pipeline;

/**
 * One step of the packet pipeline. An implementation is a small final class with one job.
 * Its Javadoc says which {@link Burst} fields it uses and which it sets.
 *
 * <p>Rules: look only at packets whose {@link Burst#next} is {@link Next#CONTINUE}; never
 * allocate, lock or throw per packet; a packet that cannot go on is dropped with a
 * {@link DropReason}, which the worker counts.
 */
public interface Stage {
    /** Processes the whole burst in place. Returns the number of packets it acted on (for stats). */
    int process(Burst b);

    /** Short stable name, used in counter labels ("parse", "l2", "arp"). */
    String name();
}
