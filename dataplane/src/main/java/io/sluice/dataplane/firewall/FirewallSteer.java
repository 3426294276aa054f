package io.sluice.dataplane.firewall;

import io.sluice.dataplane.handoff.SteerPolicy;
import io.sluice.dataplane.pipeline.Burst;

/**
 * The firewall's steer policy: a packet must reach its flow's owning worker exactly when the
 * {@link FirewallStage} after the steer stage will track it — IPv4/IPv6, decided (TX, or on the
 * overlay CONTINUE with an encapsulation pending), not sent back out of its in-port, and its in-port
 * or out-port a VM port — and its zone is the one that stage gives it (the VM port's zone; the
 * smaller of the two for VM-to-VM), so a packet and its reply hash alike. One per worker.
 */
final class FirewallSteer implements SteerPolicy {
    private final FirewallState state;
    private final int[] pendingTx;
    private FirewallSnapshot s;

    FirewallSteer(FirewallState state, int[] pendingTx) {
        this.state = state;
        this.pendingTx = pendingTx;
        this.s = state.current();
    }

    @Override
    public void begin() {
        s = state.current();
    }

    @Override
    public int zone(Burst b, int i) {
        return FirewallStage.firewalled(b, i, pendingTx) ? s.flowZone(b.inPort[i], b.outPort[i]) : -1;
    }
}
