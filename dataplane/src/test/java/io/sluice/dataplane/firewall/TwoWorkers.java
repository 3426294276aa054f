package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.handoff.Handoff;
import io.sluice.dataplane.handoff.SteerStage;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;

/**
 * Two workers of the L2 firewall pipeline driven in one thread, without DPDK, the way
 * {@link io.sluice.dataplane.agent.Worker} drives them: a frame received by the worker that polls
 * its in-port runs through that worker's whole pipeline ({@code parse -> arp -> l2 -> steer ->
 * firewall}); when steer hands it off, the owner drains its rings and runs the stages after steer
 * ("resume"). With {@code steer = false} each worker runs {@code parse -> arp -> l2 -> firewall}
 * on its own shard (no hand-off): the negative control.
 */
final class TwoWorkers {
    final Stage[][] stages = new Stage[2][];
    final SteerStage[] steer = new SteerStage[2];
    final int[] steerAt = new int[2];
    final Burst[] drained = {new Burst(32), new Burst(32)};
    final Handoff handoff;
    /** Worker polling each port. */
    final int[] workerOf;
    /** Worker whose stages decided the last packet. */
    int decidedBy;

    TwoWorkers(SluiceConfig cfg, FirewallState fw, int[] workerOf, boolean steering, int ringCapacity) {
        this.workerOf = workerOf;
        this.handoff = steering ? new Handoff(2, ringCapacity) : null;
        for (int w = 0; w < 2; w++) {
            stages[w] = FirewallPipelines.l2(cfg, fw, w, steering ? handoff : null); // counters not exported: no exportCounters call
            steerAt[w] = -1;
            for (int k = 0; k < stages[w].length; k++) {
                if (stages[w][k] instanceof SteerStage s) {
                    steer[w] = s;
                    steerAt[w] = k;
                }
            }
        }
    }

    /** Runs a burst received by worker {@code w} through its whole pipeline. */
    void receive(int w, Burst b) {
        for (Stage s : stages[w]) s.process(b);
    }

    /** Drains worker {@code w}'s incoming rings and runs the stages after steer; returns the drained burst. */
    Burst resume(int w) {
        Burst d = drained[w];
        steer[w].drain(d);
        for (int k = steerAt[w] + 1; k < stages[w].length; k++) stages[w][k].process(d);
        return d;
    }

    /**
     * One frame received on {@code inPort} by the worker polling it, then (when handed off) by its
     * owner. Returns -1 when it is sent, else the drop reason ordinal; {@link #decidedBy} says which
     * worker's firewall decided.
     */
    int send(NativeFrames frames, byte[] frame, int inPort) {
        int w = workerOf[inPort];
        Burst b = frames.burstOf(frame, frame.length, inPort);
        receive(w, b);
        decidedBy = w;
        if (b.next[0] == Next.CONSUMED) {
            int owner = 1 - w;
            Burst d = resume(owner);
            if (d.count != 1) throw new AssertionError("owner drained " + d.count + " packets, expected 1");
            if (d.data[0] != b.data[0] || d.inPort[0] != inPort) throw new AssertionError("a different packet came out of the ring");
            decidedBy = owner;
            b = d;
        }
        if (b.next[0] == Next.TX) return -1;
        if (b.next[0] != Next.DROP) throw new AssertionError("packet neither sent nor dropped: next " + b.next[0]);
        return b.dropReason[0];
    }
}
