package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;

import io.sluice.dataplane.handoff.HandoffExtra;
import io.sluice.dataplane.pipeline.Burst;

/**
 * Per-worker overlay metadata: arrays parallel to a {@link Burst}'s slots plus the worker's
 * overlay counters. One instance per worker, allocated once, single writer; nothing here
 * allocates after construction.
 *
 * <p>Per packet: {@link #zone} (network id, 0 = not an overlay packet), {@link #srcVm} (the
 * sending VM's index in the snapshot, -1 unknown), {@link #srcVtep} (outer source of a
 * decapsulated packet, 0 otherwise), {@link #encapVtep} (remote VTEP the encap stage must send
 * to, 0 = no encapsulation), {@link #reason} (the {@link OverlayDrop} ordinal of a drop).
 * {@link #reset(int)} must run for each slot when the burst is received (the decap stage does it
 * for every packet it sees; see its Javadoc).
 */
public final class OverlayMeta implements HandoffExtra {
    /** Largest zone id + 1 that per-network counters cover. */
    public static final int MAX_ZONES = io.sluice.dataplane.config.OverlayModel.MAX_ZONES;

    public final int[] zone;
    public final int[] srcVm;
    public final int[] srcVtep;
    public final int[] encapVtep;
    public final byte[] reason;
    /** NAT word of a packet received on the external port and translated in (docs/nat.md), 0 otherwise. */
    public final int[] nat;

    /** Drops by {@link OverlayDrop} ordinal. */
    public final long[] drops = new long[OverlayDrop.values().length];
    /** Packets received into each network (by zone id): from a local VM or decapsulated. */
    public final long[] rxPackets = new long[MAX_ZONES];
    /** Packets sent out of each network (by zone id): to a local VM or encapsulated. */
    public final long[] txPackets = new long[MAX_ZONES];
    /** Replies generated locally: ARP/NA answers, ICMP errors. */
    public long arpReplies, ndReplies, icmpErrors, icmpEchoReplies, arpRequestsSent;
    /** Time of this duty cycle (System.nanoTime), set by the worker before each burst. */
    public long nowNs;

    public OverlayMeta(int capacity) {
        zone = new int[capacity];
        srcVm = new int[capacity];
        srcVtep = new int[capacity];
        encapVtep = new int[capacity];
        reason = new byte[capacity];
        nat = new int[capacity];
    }

    /** Clears slot i for a freshly received packet. */
    public void reset(int i) {
        zone[i] = 0;
        srcVm[i] = -1;
        srcVtep[i] = 0;
        encapVtep[i] = 0;
        reason[i] = 0;
        nat[i] = 0;
    }

    /** Resets slots 0..count-1. */
    public void resetAll(int count) {
        for (int i = 0; i < count; i++) {
            reset(i);
        }
    }

    /** Hand-off (two or more workers): zone and source VM of slot i travel with the packet. */
    @Override
    public long word0(int i) {
        return (zone[i] & 0xFFFF_FFFFL) | ((long) srcVm[i] << 32);
    }

    /** Hand-off: source VTEP and the pending encapsulation's VTEP. */
    @Override
    public long word1(int i) {
        return (srcVtep[i] & 0xFFFF_FFFFL) | ((long) encapVtep[i] << 32);
    }

    /** Hand-off, on the owning worker: slot i as the receiving worker left it (reason cleared). */
    @Override
    public void restore(int i, long w0, long w1) {
        zone[i] = (int) w0;
        srcVm[i] = (int) (w0 >>> 32);
        srcVtep[i] = (int) w1;
        encapVtep[i] = (int) (w1 >>> 32);
        reason[i] = 0;
    }

    /** Hand-off: the clock stage does not run on a drained burst; the stages after steer read the time here. */
    @Override
    public void beginResume() {
        nowNs = System.nanoTime();
    }

    /** Drops packet i with an overlay reason: sets Burst next/dropReason (generic) and counts. */
    public void drop(Burst b, int i, OverlayDrop r) {
        b.drop(i, r.dropReason);
        reason[i] = (byte) r.ordinal();
        drops[r.ordinal()]++;
    }

    public long drops(OverlayDrop r) { return drops[r.ordinal()]; }

    /** Sum of all drop counters. */
    public long totalDrops() {
        long s = 0;
        for (long d : drops) {
            s += d;
        }
        return s;
    }
}
