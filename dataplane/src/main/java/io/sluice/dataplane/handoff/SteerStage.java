package io.sluice.dataplane.handoff;

import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;

/**
 * {@code steer}: sends each packet the stateful stage after it will track to the worker that owns
 * its flow ({@link FlowOwner}: zone + unordered address pair), so both directions of a flow meet
 * the same conntrack shard. Present only with two or more workers (with one, pipelines do not
 * contain it: zero cost).
 *
 * <p>Per burst: {@link SteerPolicy#begin()}; per packet whose policy zone is &gt;= 0 and whose
 * owner is another worker: copied into the ring to the owner ({@link Handoff#push}) and marked
 * {@link Next#CONSUMED} (it leaves this worker's burst: no tx, no free, no count here), or, when
 * that ring is full, dropped as {@link DropReason#HANDOFF_FULL} (the worker frees and counts it).
 * One release store per ring used at the end of the burst.
 *
 * <p>The owner's worker calls {@link #drain(Burst)} once per duty cycle: its incoming rings fill
 * a burst, which it runs through the stages after this one ("resume") and transmits on its own tx
 * queues. Uses: {@code next}, {@code flags}, the fields the policy reads, and the whole slot (copied).
 * Sets: {@code next = CONSUMED}, or {@code DROP + HANDOFF_FULL}. No allocation, lock or
 * exception per packet; a full ring drops instead of waiting.
 *
 * <p><b>Backpressure.</b> Before each rx burst the worker asks {@link #mayReceive}: while a ring
 * from this worker has no room for a whole burst, the worker leaves its rx queues alone (the
 * packets wait in the device's rx ring, as they would for a slower worker, and the device counts
 * what it cannot hold) and only drains what others hand it, so a busy owner slows its senders
 * down instead of making them drop. It holds off for at most {@link Handoff#pauseLimitNs()}
 * in a row (an owner that has stopped must not stop the flows this worker owns); past that it
 * receives again and a full ring drops as {@link DropReason#HANDOFF_FULL}. Each rx poll skipped
 * counts in {@link #rxPauses()}. Two workers holding off towards each other both drain, so they
 * cannot wait for each other: resumed packets are never handed off again.
 */
public final class SteerStage implements Stage {
    public static final String NAME = "steer";
    private static final DropReason FULL = DropReason.HANDOFF_FULL;

    private final Handoff handoff;
    private final int worker;
    private final int workers;
    private final SteerPolicy policy;
    private final HandoffExtra extra;
    private long out, in, full, pauses;
    /** Since when this worker holds off rx for want of room ({@link #mayReceive}), or -1. */
    private long pausedSince = -1;

    /**
     * @param handoff the data plane's rings
     * @param worker  this worker's index
     * @param policy  which packets, in which zone
     * @param extra   the pipeline's per-slot state carried with each packet, or null
     */
    public SteerStage(Handoff handoff, int worker, SteerPolicy policy, HandoffExtra extra) {
        if (worker < 0 || worker >= handoff.workers()) {
            throw new IllegalArgumentException("worker " + worker + " outside 0.." + (handoff.workers() - 1));
        }
        this.handoff = handoff;
        this.worker = worker;
        this.workers = handoff.workers();
        this.policy = policy;
        this.extra = extra;
    }

    @Override
    public String name() { return NAME; }

    @Override
    public int process(Burst b) {
        final SteerPolicy p = policy;
        p.begin();
        final byte[] next = b.next;
        int moved = 0;
        for (int i = 0; i < b.count; i++) {
            byte n = next[i];
            if (n != Next.TX && n != Next.CONTINUE) continue;
            int zone = p.zone(b, i);
            if (zone < 0) continue;
            int owner = FlowOwner.owner(b, i, zone, workers);
            if (owner == worker) continue;
            if (handoff.push(worker, owner, b, i, extra)) {
                next[i] = Next.CONSUMED;
                moved++;
            } else {
                b.drop(i, FULL);
                full++;
            }
        }
        if (moved > 0) {
            handoff.publish(worker);
            out += moved;
        }
        return moved;
    }

    /**
     * Whether the worker may poll an rx queue now for a burst of up to {@code burst} packets: yes
     * when every ring from this worker has room for all of them; else no (one pause counted) until
     * the rings have room or {@link Handoff#pauseLimitNs()} has passed since the first no in a row,
     * then yes (a ring still full drops as {@link DropReason#HANDOFF_FULL}). {@code nowNs}: the
     * duty cycle's clock. Worker thread only; no allocation.
     */
    public boolean mayReceive(long nowNs, int burst) {
        if (handoff.hasRoom(worker, burst)) {
            pausedSince = -1;
            return true;
        }
        if (pausedSince < 0) {
            pausedSince = nowNs;
        }
        if (nowNs - pausedSince >= handoff.pauseLimitNs()) {
            return true;
        }
        pauses++;
        return false;
    }

    /**
     * Fills {@code b} (from slot 0, {@code b.count} set) with packets other workers handed to this
     * one; the caller runs the stages after this one over it. Returns the number of packets.
     */
    public int drain(Burst b) {
        int n = handoff.drain(worker, b, extra);
        if (n > 0) {
            in += n;
            if (extra != null) {
                extra.beginResume();
            }
        }
        return n;
    }

    public Handoff handoff() { return handoff; }

    public int worker() { return worker; }

    /** Packets this worker handed to another (single writer: this worker). */
    public long outPackets() { return out; }

    /** Packets other workers handed to this one, drained so far. */
    public long inPackets() { return in; }

    /** Packets dropped because the ring to their owner was full. */
    public long fullDrops() { return full; }

    /** Rx polls this worker skipped because a ring to another worker had no room ({@link #mayReceive}). */
    public long rxPauses() { return pauses; }
}
