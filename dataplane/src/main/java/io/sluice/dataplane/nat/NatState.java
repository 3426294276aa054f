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
    /** Gateway MAC learned from its ARP, or -1; when it was learned or last confirmed (meta nowNs). */
    public long gatewayMac = -1, gatewayMacAt;
    /** IPv6 gateway MAC learned from its neighbour discovery, or -1; when learned or last confirmed. */
    public long gateway6Mac = -1, gateway6MacAt;
    /** When the last neighbour solicitation for the IPv6 gateway went out, and whether one did. */
    public long lastGateway6Ns;
    public boolean gateway6NsSent;
    /**
     * A learned gateway MAC older than this is refreshed: a unicast ARP request / NS to it, at most one
     * a second, while the MAC stays in use; an answer (any ARP / ND from the gateway) confirms it.
     */
    public static final long GATEWAY_REFRESH_NS = 30_000_000_000L;
    /** No confirmation for this long (three refreshes unanswered): the MAC is forgotten and resolved again by broadcast. */
    public static final long GATEWAY_MAX_AGE_NS = GATEWAY_REFRESH_NS + 3_500_000_000L;
    /** When the last ARP request for the gateway went out (nanoTime), and whether one did. */
    public long lastGatewayArp;
    public boolean gatewayArpSent;

    // ---- counters (single writer) ----
    public final long[] drops = new long[DropReason.values().length];
    /** Per NAT VM slot ({@code OverlaySnapshot.vmSlot}): new connections refused because its port blocks are exhausted. */
    public final long[] exhausted;
    /** Per NAT VM slot: packets of a purely private VM to outside its project. */
    public final long[] noPublicAccess;
    /** Worker: per slot, the generation its counters belong to (a new VM in the slot resets them). */
    private final int[] seenGen;
    /** Control thread: per slot, the generation and the VM its counters are named for. */
    private final int[] labelledGen;
    private final String[] labelledName;
    private final Counters counters;
    public long fipCreated, snatCreated, arpReplies, gatewayArpRequests, gatewayLearned, stale, icmpErrorsIn, icmpErrorsOut, garpsSent;
    /** Hairpin: VMs' packets to our own addresses turned around here, delivered / dropped on their way back in. */
    public long hairpinned, hairpinDropped;
    /** IPv6 (no NAT): NS answered, gateway MAC learned / solicited, packets delivered in; gateway refreshes and expiries (both families). */
    public long ndReplies, gateway6Learned, gateway6Solicitations, ipv6In, ipv6Out, gatewayRefreshes, gatewayExpired;

    private final AtomicCounter[] pub;
    private final long[] pubLast;
    /** Worker: the snapshot of the last publish, and the slots counted since ({@link #publish} writes only those while the snapshot stays). */
    private OverlaySnapshot publishedWith;
    private final boolean[] dirty;
    private final int[] dirtyList;
    private int dirtyCount;
    private final int addresses;
    /** The snapshot at start: the external network's settings ({@link #settings}) need a restart to change. */
    private final OverlaySnapshot snapshot;

    /**
     * Warm restart (docs/conntrack.md, "Limits and NAT"): takes back the NAT word of a kept conntrack
     * entry. A SNAT word's binding is rebuilt in {@link #ports} (VM by the entry's port, class by its
     * protocol, the initiator's port as the internal port) when the VM is still outbound-only and the
     * slot can be that binding; a floating-IP word stays when its index exists (a VM that no longer
     * holds that address is cut at its next packet, {@code NAT_STALE}). False: the entry is deleted.
     */
    public boolean adopt(OverlaySnapshot s, int word, int vmPort, int proto, int initiatorPort) {
        int idx = word & INDEX;
        if ((word & KIND) == FIP) return idx < s.fipVm.length;
        if ((word & KIND) != SNAT) return false;
        int vm = s.vmOfPort(vmPort);
        int cls = SnatPorts.protoClass(proto);
        if (vm < 0 || cls < 0 || s.vmAccess[vm] != io.sluice.dataplane.config.OverlayModel.Access.OUTBOUND.ordinal()) return false;
        return ports.adopt(s.vmSlot[vm], cls, initiatorPort, idx);
    }

    /**
     * A hash of the external network's settings that give a NAT word its meaning: the SNAT
     * addresses and floating IPs in their order (a word names an address by index), port-block,
     * blocks-per-vm and blocks per address (a SNAT slot's block and offset). Part of the conntrack
     * shard file's fingerprint ({@code Conntrack.NatAdopt#settings}): after a restart with other
     * settings the kept table is not attached. Never 0.
     */
    public long settings() {
        OverlaySnapshot s = snapshot;
        long h = 0x2545F4914F6CDD1DL;
        h = mix(h, s.snatAddr.length);
        for (int a : s.snatAddr) h = mix(h, a & 0xFFFF_FFFFL);
        h = mix(h, s.fipAddr.length);
        for (int a : s.fipAddr) h = mix(h, a & 0xFFFF_FFFFL);
        h = mix(h, s.portBlock);
        h = mix(h, s.blocksPerVm);
        h = mix(h, s.blocksPerAddress);
        return h == 0 ? 1 : h;
    }

    private static long mix(long h, long v) {
        h = (h ^ v) * 0x100000001B3L;
        return h ^ (h >>> 29);
    }

    /** The host-wide NAT counters, in the order {@link #publish} writes them (per-address and per-VM ones follow). */
    private static final String[] LABELS = {"nat floating-ip connections created", "nat snat connections created", "nat arp replies",
            "nat gateway arp requests", "nat gateway arp learned", "nat stale connections cut",
            "nat icmp errors translated in", "nat icmp errors translated out", "nat gratuitous arps sent",
            "nat hairpin packets", "nat hairpin dropped", "nat nd replies", "nat gateway6 learned",
            "nat gateway6 nd solicitations", "nat ipv6 packets in", "nat ipv6 packets out", "nat gateway refreshes",
            "nat gateway expired"};

    public NatState(OverlaySnapshot s, Counters counters) {
        this.counters = counters;
        this.addresses = s.snatAddr.length;
        this.snapshot = s;
        int slots = s.slotVm.length;
        ports = new SnatPorts(s.snatAddr.length, s.blocksPerAddress, s.portBlock, s.blocksPerVm, slots);
        exhausted = new long[slots];
        noPublicAccess = new long[slots];
        dirty = new boolean[slots];
        dirtyList = new int[slots];
        seenGen = s.slotGen.clone();
        labelledGen = new int[slots];
        labelledName = new String[slots];
        int n = LABELS.length + s.snatAddr.length + 2 * slots;
        pub = new AtomicCounter[n];
        pubLast = new long[n];
        if (counters != null) {
            int k = 0;
            for (String l : LABELS) pub[k++] = counters.allocate(l, 0);
            for (int a : s.snatAddr) pub[k++] = counters.allocate("nat snat " + ip(a) + " blocks in use", 0);
            label(s);
        }
    }

    /**
     * Control thread, before {@code s} is published: the per-VM counters of every slot given to a new
     * VM are named for it (allocated the first time a slot is used, renamed when it is reused: the
     * worker zeroes their values when it first publishes with {@code s}).
     */
    public void label(OverlaySnapshot s) {
        if (counters == null) return;
        int base = LABELS.length + addresses, slots = exhausted.length;
        for (int v = 0; v < s.vmCount(); v++) {
            int slot = s.vmSlot[v];
            // by name too: a change whose apply was rolled back may have named the slot for another VM
            if (labelledGen[slot] == s.slotGen[slot] && s.vmName[v].equals(labelledName[slot])) continue;
            String[] names = {"nat vm " + s.vmName[v] + " snat exhausted", "nat vm " + s.vmName[v] + " no public access"};
            for (int j = 0; j < 2; j++) {
                int k = base + j * slots + slot;
                if (pub[k] == null) pub[k] = counters.allocate(names[j], 0);
                else pub[k].updateLabel(names[j]);
            }
            labelledGen[slot] = s.slotGen[slot];
            labelledName[slot] = s.vmName[v];
        }
    }

    /** Drops packet i with a NAT reason and counts it. */
    public void drop(io.sluice.dataplane.pipeline.Burst b, int i, DropReason r) {
        b.drop(i, r);
        drops[r.ordinal()]++;
    }

    public long drops(DropReason r) { return drops[r.ordinal()]; }

    /** Ordered writes of the counters that changed, for the VMs of {@code s}. Once per burst, on the worker. */
    void publish(OverlaySnapshot s) {
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
        k = put(k, ndReplies);
        k = put(k, gateway6Learned);
        k = put(k, gateway6Solicitations);
        k = put(k, ipv6In);
        k = put(k, ipv6Out);
        k = put(k, gatewayRefreshes);
        k = put(k, gatewayExpired);
        for (int a = 0; a < addresses; a++) k = put(k, ports.blocksInUse(a));
        int slots = exhausted.length;
        if (s != publishedWith) { // a new snapshot: every VM's slot (a slot given to a new VM starts at 0)
            publishedWith = s;
            for (int v = 0, n = s.vmCount(); v < n; v++) {
                int slot = s.vmSlot[v];
                if (seenGen[slot] != s.slotGen[slot]) {
                    seenGen[slot] = s.slotGen[slot];
                    exhausted[slot] = 0;
                    noPublicAccess[slot] = 0;
                    pubLast[k + slot] = -1;
                    pubLast[k + slots + slot] = -1;
                }
                put(k + slot, exhausted[slot]);
                put(k + slots + slot, noPublicAccess[slot]);
            }
        } else { // the same snapshot: only the slots counted since the last publish (no walk over every VM per burst)
            for (int j = 0; j < dirtyCount; j++) {
                int slot = dirtyList[j];
                put(k + slot, exhausted[slot]);
                put(k + slots + slot, noPublicAccess[slot]);
            }
        }
        for (int j = 0; j < dirtyCount; j++) dirty[dirtyList[j]] = false;
        dirtyCount = 0;
    }

    /** Counts a new connection of the VM in NAT slot {@code slot} refused for exhausted port blocks. */
    public void countExhausted(int slot) {
        exhausted[slot]++;
        markDirty(slot);
    }

    /** Counts a packet of the purely private VM in NAT slot {@code slot} to outside its project. */
    public void countNoPublicAccess(int slot) {
        noPublicAccess[slot]++;
        markDirty(slot);
    }

    private void markDirty(int slot) {
        if (!dirty[slot]) {
            dirty[slot] = true;
            dirtyList[dirtyCount++] = slot;
        }
    }

    /**
     * The fragment-table value naming NAT VM slot {@code slot} of snapshot {@code s}: the slot (20
     * bits) and its generation (11 bits), so a later fragment never reaches a VM given the slot since.
     */
    static int slotRef(OverlaySnapshot s, int slot) { return ((s.slotGen[slot] & 0x7FF) << 20) | slot; }

    /** The VM of a {@link #slotRef} in snapshot {@code s}, or -1 (no longer that VM's slot). */
    static int vmOfRef(OverlaySnapshot s, long ref) {
        int slot = (int) (ref & 0xF_FFFF);
        return slot < s.slotVm.length && (s.slotGen[slot] & 0x7FF) == (int) (ref >>> 20) ? s.slotVm[slot] : -1;
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
