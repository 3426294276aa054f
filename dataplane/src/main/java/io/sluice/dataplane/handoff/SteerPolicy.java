package io.sluice.dataplane.handoff;

import io.sluice.dataplane.pipeline.Burst;

/**
 * Which packets a {@link SteerStage} must move to their flow's owning worker, and in which zone
 * their owner is computed: the packets the stateful stage after it would track (its conntrack
 * shard must see both directions of the flow). Per worker, single-threaded, allocation-free.
 */
public interface SteerPolicy {
    /** Once per burst, before {@link #zone}: read snapshots here. */
    void begin();

    /**
     * The conntrack zone of packet {@code i} (&gt;= 0) when its owner must process it, or -1 when
     * any worker may (not tracked: ARP, non-IP, not decided, no VM port on either side).
     */
    int zone(Burst b, int i);
}
