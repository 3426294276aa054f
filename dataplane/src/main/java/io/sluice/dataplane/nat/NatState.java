package io.sluice.dataplane.nat;

import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.overlay.OverlaySnapshot;
import io.sluice.dataplane.pipeline.DropReason;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The NAT's mutable state and counters, one per data plane with an external network (NAT runs on
 * one worker: its only writer, docs/nat.md): the SNAT port blocks, the gateway's MAC as learned
 * by ARP, and the counters the stages keep (plain longs, published to the shared counters file
 * once per burst by {@link ExternalOutStage}).
 *
 * <p>NAT word (kept in the conntrack entry, {@code Conntrack.setLastNat}): {@link #FIP}{@code | pool index},
 * or {@link #SNAT}{@code | slot} ({@link SnatPorts}); 0 = no NAT.
 */
public final class NatState {
    public static final int FIP = 0x4000_0000, SNAT = 0x8000_0000, KIND = 0xC000_0000, INDEX = 0x3FFF_FFFF;

    public final SnatPorts ports;
    /** Datagrams whose first fragment went through SNAT, so their later fragments follow (2 s). */
    public final NatFragments fragments = new NatFragments(4096, FRAGMENT_TIMEOUT_NS);
    public static final long FRAGMENT_TIMEOUT_NS = 2_000_000_000L;
    /** Gateway MAC learned from its ARP, or -1. */
    public long gatewayMac = -1;
    /** When the last ARP request for the gateway went out (nanoTime), and whether one did. */
    public long lastGatewayArp;
    public boolean gatewayArpSent;

    // ---- counters (single writer) ----
    public final long[] drops = new long[DropReason.values().length];
    /** Per VM index: new connections refused because its port blocks are exhausted. */
    public final long[] exhausted;
    /** Per VM index: packets of a purely private VM to outside its project. */
    public final long[] noPublicAccess;
    public long fipCreated, snatCreated, arpReplies, gatewayArpRequests, gatewayLearned, stale, icmpErrorsIn, icmpErrorsOut, garpsSent;
    /** Hairpin: VMs' packets to our own addresses turned around here, delivered / dropped on their way back in. */
    public long hairpinned, hairpinDropped;

    private final AtomicCounter[] pub;
    private final long[] pubLast;
    private final OverlaySnapshot snapshot;

    public NatState(OverlaySnapshot s, Counters counters) {
        this.snapshot = s;
        int vms = s.vmCount();
        ports = new SnatPorts(s.snatAddr.length, s.blocksPerAddress, s.portBlock, s.blocksPerVm, vms);
        exhausted = new long[vms];
        noPublicAccess = new long[vms];
        int n = 11 + s.snatAddr.length + 2 * vms;
        pub = new AtomicCounter[n];
        pubLast = new long[n];
        if (counters != null) {
            String[] labels = {"nat floating-ip connections created", "nat snat connections created", "nat arp replies",
                    "nat gateway arp requests", "nat gateway arp learned", "nat stale connections cut",
                    "nat icmp errors translated in", "nat icmp errors translated out", "nat gratuitous arps sent",
                    "nat hairpin packets", "nat hairpin dropped"};
            int k = 0;
            for (String l : labels) pub[k++] = counters.allocate(l, 0);
            for (int a : s.snatAddr) pub[k++] = counters.allocate("nat snat " + ip(a) + " blocks in use", 0);
            for (int v = 0; v < vms; v++) pub[k++] = counters.allocate("nat vm " + s.vmName[v] + " snat exhausted", 0);
            for (int v = 0; v < vms; v++) pub[k++] = counters.allocate("nat vm " + s.vmName[v] + " no public access", 0);
        }
    }

    /** Drops packet i with a NAT reason and counts it. */
    public void drop(io.sluice.dataplane.pipeline.Burst b, int i, DropReason r) {
        b.drop(i, r);
        drops[r.ordinal()]++;
    }

    public long drops(DropReason r) { return drops[r.ordinal()]; }

    /** Ordered writes of the counters that changed. Once per burst, on the worker. */
    void publish() {
        if (pub.length == 0 || pub[0] == null) return;
        int k = 0;
        k = put(k, fipCreated);
        k = put(k, snatCreated);
        k = put(k, arpReplies);
        k = put(k, gatewayArpRequests);
        k = put(k, gatewayLearned);
        k = put(k, stale);
        k = put(k, icmpErrorsIn);
        k = put(k, icmpErrorsOut);
        k = put(k, garpsSent);
        k = put(k, hairpinned);
        k = put(k, hairpinDropped);
        for (int a = 0; a < snapshot.snatAddr.length; a++) k = put(k, ports.blocksInUse(a));
        for (long v : exhausted) k = put(k, v);
        for (long v : noPublicAccess) k = put(k, v);
    }

    private int put(int k, long v) {
        if (v != pubLast[k]) {
            pub[k].setRelease(v);
            pubLast[k] = v;
        }
        return k + 1;
    }

    static String ip(int a) { return io.sluice.dataplane.config.ConfigLoader.formatIpv4(a); }
}
