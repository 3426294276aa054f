package io.sluice.dataplane.firewall;

import io.sluice.dataplane.conntrack.Conntrack;
import io.sluice.dataplane.conntrack.CtPacket;
import io.sluice.dataplane.conntrack.Verdict;
import io.sluice.dataplane.pipeline.Burst;

/**
 * The NAT's part in the firewall stage (docs/nat.md): NAT state lives in the conntrack entry, so
 * the stage's one lookup per packet serves both. Called on the worker, per packet, right after the
 * conntrack verdict, with the entry the verdict matched or created still current in {@code ct}.
 */
public interface NatHook {
    /** A packet the tracker called NEW, before the rules: false when it may not start a connection (dropped here). */
    boolean mayStart(Burst b, int i);

    /**
     * Packet i passed (verdict ESTABLISHED, RELATED, or NEW and committed): translate it, or drop it.
     * True when the translated packet was turned around to one of our own addresses (hairpin): it
     * now comes from the external port to a VM and must go through the stage once more (the
     * receiver's conntrack entry and ingress rules, on the translated packet).
     */
    boolean passed(Burst b, int i, CtPacket p, Conntrack ct, Verdict v);
}
