package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.OverlayModelException;
import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.agent.PipelineFactory;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.handoff.Handoff;
import io.sluice.dataplane.handoff.SteerStage;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.ParseStage;
import org.agrona.concurrent.status.AtomicCounter;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The overlay data plane as a worker pipeline (the configuration has an {@code overlay:} section):
 *
 * <pre>
 * parse -> clock -> vxlan-decap -> underlay-arp -> anti-spoof -> overlay-arp -> route [[-> steer] -> firewall] -> vxlan-encap -> overlay-out
 * </pre>
 *
 * The firewall stage (security groups + conntrack, docs/firewall.md) is there when the configuration
 * has a {@code security-groups} section.
 *
 * One {@link OverlayState} and one {@link UnderlayNeighbours} per process (shared by the workers:
 * the state is an immutable snapshot behind one volatile reference, the neighbour cache is
 * lock-free); one {@link OverlayMeta} per worker. {@link Clock} sets {@link OverlayMeta#nowNs}
 * once per burst. {@link Out} ends every packet's walk (a packet still {@code CONTINUE} is dropped
 * as {@link DropReason#OVERLAY_NOT_OVERLAY}), sends underlay ARP refresh requests from fresh mbufs
 * appended to the burst, and publishes the worker's overlay counters to the shared counters file.
 */
public final class OverlayPipeline {
    private final OverlayState state;
    private final UnderlayNeighbours neighbours;
    private final Counters counters;
    private final FirewallState firewall;
    /** Shared by the workers when there are two or more and a firewall; null otherwise. */
    private Handoff handoff;
    /** With an external network and a firewall: the NAT's state (one worker), else null. */
    private final io.sluice.dataplane.nat.NatState nat;

    public OverlayPipeline(OverlayModel model, Counters counters) {
        this(model, counters, UnderlayNeighbours.withDefaults(), null);
    }

    /** With a given underlay neighbour cache (tests shorten its ageing). */
    public OverlayPipeline(OverlayModel model, Counters counters, UnderlayNeighbours neighbours) {
        this(model, counters, neighbours, null);
    }

    /**
     * With security groups: {@code firewall} (null: none) built from the {@code security-groups}
     * section next to this overlay ({@link io.sluice.dataplane.config.FirewallConfigLoader}), so
     * its VM ports are the overlay's local VMs and its zones the overlay's networks.
     */
    public OverlayPipeline(OverlayModel model, Counters counters, UnderlayNeighbours neighbours, FirewallState firewall) {
        try {
            this.state = new OverlayState(OverlaySnapshot.compileAtStart(model));
        } catch (OverlayModelException e) {
            throw new IllegalArgumentException("overlay: " + e.getMessage(), e);
        }
        this.neighbours = neighbours;
        this.counters = counters;
        this.firewall = firewall;
        this.nat = firewall != null && state.current().hasExternal()
                ? new io.sluice.dataplane.nat.NatState(state.current(), counters) : null;
    }

    /**
     * Changes public access at runtime, hitless (docs/nat.md, "Changes at runtime"): associate,
     * reassign or release floating IPs, switch VMs between floating IP, outbound only and private.
     * {@code next} must equal the running model in everything else (networks, VMs, ports, the external
     * network); it is validated and compiled here, then published with one volatile write. The worker
     * cuts connections through a floating IP the VM no longer holds at their next packet
     * ({@code NAT_STALE}; inbound packets to the address reach its new holder, where they belong to
     * no connection) and announces moved floating IPs by gratuitous ARP. Control thread.
     *
     * @throws IllegalArgumentException when anything else differs or the model is invalid (nothing changes)
     */
    public synchronized void applyPublicAccess(OverlayModel next) {
        OverlayModel cur = state.current().model;
        if (!cur.withoutPublicAccess().equals(next.withoutPublicAccess())) {
            throw new IllegalArgumentException("only public access (floating IPs, outbound, private) changes at runtime;"
                    + " other overlay changes need a restart");
        }
        publishCompiled(next);
    }

    /**
     * Changes the projects and VMs at runtime (the control API, docs/api.md): networks added at the
     * end or the last one removed, subnets, remote VMs, VMs on ports the data plane started with.
     * {@code next} keeps the host settings, the external network and every remaining network's
     * position (a network's position is its zone, which keys its tracked connections); it is
     * validated and compiled here, then published with one volatile write. Control thread.
     *
     * @throws IllegalArgumentException when a restart-only part differs or the model is invalid (nothing changes)
     */
    public synchronized void applyModel(OverlayModel next) {
        OverlayModel cur = state.current().model;
        if (!cur.host().equals(next.host()) || !java.util.Objects.equals(cur.external(), next.external())) {
            throw new IllegalArgumentException("overlay host settings and the external network change only with a restart");
        }
        int keep = Math.min(cur.networks().size(), next.networks().size());
        for (int i = 0; i < keep; i++) {
            // a deleted project's network becomes a tombstone named "-<zone>" (docs/api.md): its zone stays
            if (!cur.networks().get(i).name().equals(next.networks().get(i).name()) && !next.networks().get(i).name().equals("-" + (i + 1))) {
                throw new IllegalArgumentException("network " + cur.networks().get(i).name() + " would move from zone " + (i + 1)
                        + "; networks are added at the end and only the last one is removed");
            }
        }
        publishCompiled(next);
    }

    /**
     * Compiles {@code next} keeping the running snapshot's NAT VM slots (a new VM takes a slot whose
     * SNAT blocks are all returned, {@link NatSlots}), names the NAT counters of newly given slots,
     * then publishes it with one volatile write.
     */
    private void publishCompiled(OverlayModel next) {
        OverlaySnapshot compiled;
        try {
            // without NAT nothing is kept by slot: positions, as at start
            compiled = nat == null ? OverlaySnapshot.compile(next) : OverlaySnapshot.compile(next, state.current(), nat.ports::busy);
        } catch (OverlayModelException e) {
            throw new IllegalArgumentException("overlay: " + e.getMessage(), e);
        }
        if (nat != null) nat.label(compiled);
        state.publish(compiled);
    }

    /**
     * Whether {@code next} would get a NAT VM slot for every new VM now (the control API asks before
     * it journals a change, to answer 409 instead of failing the apply).
     */
    public synchronized String natSlotProblem(OverlayModel next) {
        if (nat == null) return null;
        try {
            state.current().natSlots.next(OverlaySnapshot.vmNames(next), nat.ports::busy);
            return null;
        } catch (OverlayModelException e) {
            return e.getMessage();
        }
    }

    /** The NAT's state (external network + security groups), or null. */
    public io.sluice.dataplane.nat.NatState nat() { return nat; }

    /** The pipeline factory for {@link io.sluice.dataplane.Dataplane#start}: the config must have an overlay. */
    public static PipelineFactory factory(SluiceConfig cfg, Counters counters) {
        return factory(cfg, counters, null);
    }

    /**
     * As {@link #factory(SluiceConfig, Counters)}, with security groups ({@code firewall}, null: none):
     * one firewall stage (and conntrack shard) per worker, its counters exported to {@code counters}.
     */
    public static PipelineFactory factory(SluiceConfig cfg, Counters counters, FirewallState firewall) {
        if (cfg.overlay() == null) {
            throw new IllegalArgumentException(cfg.source() + ": no 'overlay' section");
        }
        OverlayPipeline p = create(cfg, counters, firewall);
        return (c, worker) -> p.stages(worker);
    }

    /**
     * The pipeline {@link #factory(SluiceConfig, Counters, FirewallState)} runs, for callers that keep
     * it (to change public access at runtime, {@link #applyPublicAccess}): firewall counters
     * exported, the hand-off set for two or more workers (not with NAT).
     */
    public static OverlayPipeline create(SluiceConfig cfg, Counters counters, FirewallState firewall) {
        if (cfg.overlay() == null) {
            throw new IllegalArgumentException(cfg.source() + ": no 'overlay' section");
        }
        if (firewall != null && counters != null) {
            firewall.exportCounters(counters, cfg.portNames());
        }
        OverlayPipeline p = new OverlayPipeline(cfg.overlay(), counters, UnderlayNeighbours.withDefaults(), firewall);
        if (firewall != null && p.nat == null) p.handoff(Handoff.forWorkers(cfg.workers().size()));
        return p;
    }

    /**
     * Two or more workers with a firewall: the workers' shared hand-off, so {@link #stages} puts a
     * steer stage in front of the firewall (null: none). Control thread, before {@link #stages}.
     */
    public OverlayPipeline handoff(Handoff h) {
        this.handoff = h;
        return this;
    }

    /** The security groups, or null. */
    public FirewallState firewall() { return firewall; }

    public OverlayState state() { return state; }

    public UnderlayNeighbours neighbours() { return neighbours; }

    /** New stages for one worker (its own {@link OverlayMeta}). */
    public Stage[] stages(int worker) {
        int cap = Burst.MAX_CAPACITY;
        OverlayMeta meta = new OverlayMeta(cap);
        Stage[] vm = vmStages(state, meta, neighbours, firewall, worker, handoff, nat);
        Stage[] all = new Stage[vm.length + 3];
        all[0] = new ParseStage();
        all[1] = new Clock(meta);
        System.arraycopy(vm, 0, all, 2, vm.length);
        all[all.length - 1] = new Out(state, meta, neighbours, counters, worker);
        return all;
    }

    /**
     * The overlay's packet stages from decap to encap, for one worker:
     * {@code vxlan-decap -> underlay-arp -> anti-spoof -> overlay-arp -> route [-> firewall] -> vxlan-encap}.
     * The firewall (when {@code firewall} is not null; a new stage and conntrack shard, counters
     * under {@code worker}) runs where the overlay knows both ends: after route has decided the
     * destination (a local VM's port, or encapsulation towards a VTEP: {@code meta.encapVtep}) and
     * before encapsulation, so it reads the inner headers.
     */
    public static Stage[] vmStages(OverlayState state, OverlayMeta meta, UnderlayNeighbours neighbours,
                                   FirewallState firewall, int worker) {
        return vmStages(state, meta, neighbours, firewall, worker, null);
    }

    /**
     * As {@link #vmStages(OverlayState, OverlayMeta, UnderlayNeighbours, FirewallState, int)}; with a
     * firewall and a {@code handoff} (two or more workers) a steer stage goes right before the
     * firewall: {@code ... -> route -> steer -> firewall -> vxlan-encap}. There the zone (network), the
     * out-port and a pending encapsulation are known; the packet's {@link OverlayMeta} slot travels
     * with it.
     */
    public static Stage[] vmStages(OverlayState state, OverlayMeta meta, UnderlayNeighbours neighbours,
                                   FirewallState firewall, int worker, Handoff handoff) {
        return vmStages(state, meta, neighbours, firewall, worker, handoff, null);
    }

    /**
     * As above; with an external network ({@code nat} not null, which needs a firewall and no
     * hand-off, docs/nat.md) the NAT stages join:
     * {@code vxlan-decap -> nat-external-in -> ... -> route -> firewall(+nat) -> nat-external-out -> vxlan-encap}.
     */
    public static Stage[] vmStages(OverlayState state, OverlayMeta meta, UnderlayNeighbours neighbours,
                                   FirewallState firewall, int worker, Handoff handoff, io.sluice.dataplane.nat.NatState nat) {
        Stage decap = new VxlanDecapStage(state, meta);
        Stage underlayArp = new UnderlayArpStage(state, meta, neighbours);
        Stage antiSpoof = new AntiSpoofStage(state, meta);
        Stage arp = new OverlayArpStage(state, meta);
        Stage route = new RouteStage(state, meta, nat);
        Stage encap = new VxlanEncapStage(state, meta, neighbours);
        if (firewall == null) {
            if (nat != null) throw new IllegalArgumentException("NAT needs security groups (its state lives in conntrack)");
            return new Stage[] {decap, underlayArp, antiSpoof, arp, route, encap};
        }
        // warm restart: kept connections through NAT get their SNAT bindings back, if the external
        // network's settings are those they were made under (docs/conntrack.md)
        io.sluice.dataplane.conntrack.Conntrack.NatAdopt adopt = nat == null ? null : new io.sluice.dataplane.conntrack.Conntrack.NatAdopt() {
            @Override
            public boolean adopt(int word, int vm, int proto, int port) { return nat.adopt(state.current(), word, vm, proto, port); }

            @Override
            public long settings() { return nat.settings(); }
        };
        io.sluice.dataplane.firewall.FirewallStage fw = firewall.newStage(worker, meta.encapVtep, adopt);
        if (nat != null) {
            if (handoff != null) throw new IllegalArgumentException("NAT runs on one worker");
            io.sluice.dataplane.nat.ExternalInStage extIn = new io.sluice.dataplane.nat.ExternalInStage(state, meta, nat);
            io.sluice.dataplane.nat.NatStep step = new io.sluice.dataplane.nat.NatStep(state, meta, nat, extIn);
            fw.natHook(step);
            fw.conntrack().natRelease(step);
            return new Stage[] {decap, extIn, underlayArp, antiSpoof,
                    arp, route, fw, new io.sluice.dataplane.nat.ExternalOutStage(state, meta, nat), encap};
        }
        if (handoff == null) {
            return new Stage[] {decap, underlayArp, antiSpoof, arp, route, fw, encap};
        }
        Stage steer = new SteerStage(handoff, worker, firewall.steerPolicy(meta.encapVtep), meta);
        return new Stage[] {decap, underlayArp, antiSpoof, arp, route, steer, fw, encap};
    }

    /** Sets {@link OverlayMeta#nowNs} once per burst. Uses and sets nothing in the burst. */
    public static final class Clock implements Stage {
        private final OverlayMeta meta;

        public Clock(OverlayMeta meta) { this.meta = meta; }

        @Override
        public int process(Burst b) {
            meta.nowNs = System.nanoTime();
            return 0;
        }

        @Override
        public String name() { return "overlay-clock"; }
    }

    /**
     * Last overlay stage. (1) Every packet still {@code CONTINUE} is dropped as
     * {@link DropReason#OVERLAY_NOT_OVERLAY} (non-VXLAN uplink traffic that is not ARP for our
     * underlay address, packets on ports that belong to no VM). (2) At most every 100 ms, asks
     * {@link UnderlayNeighbours#refreshDue} for next hops whose entry is due for a refresh and
     * appends one broadcast ARP request per next hop to the burst (free slots only), each in a
     * fresh mbuf from the pool of the burst's first mbuf, {@code TX} on the uplink; the worker
     * transmits slots {@code count..} it did not receive like any other packet. (3) Publishes the
     * worker's per-network rx/tx counters and reply counters (labels "network NAME rx packets",
     * "overlay arp replies", ...): ordered writes of the changed ones, once per burst.
     *
     * <p>Uses: next, mbuf, count. Sets: next/dropReason of leftovers; appends slots (mbuf, data,
     * length, inPort = outPort = uplink, TX, ARP flags). Allocates nothing per packet.
     */
    public static final class Out implements Stage {
        private static final long REFRESH_EVERY_NS = 100_000_000L;
        private static final DropReason NOT_OVERLAY = DropReason.OVERLAY_NOT_OVERLAY;

        private final OverlayState state;
        private final OverlayMeta meta;
        private final UnderlayNeighbours neighbours;
        private final int[] due = new int[8];
        private final MemorySegment fresh;
        private MemorySegment pool;
        private long poolAddr;
        private long lastRefresh;
        private boolean refreshedOnce;

        private final int zones;
        private final AtomicCounter[] zoneRx;
        private final AtomicCounter[] zoneTx;
        private final long[] pubRx;
        private final long[] pubTx;
        private final AtomicCounter[] misc;
        private final long[] pubMisc = new long[5];

        public Out(OverlayState state, OverlayMeta meta, UnderlayNeighbours neighbours, Counters counters, int worker) {
            this.state = state;
            this.meta = meta;
            this.neighbours = neighbours;
            this.fresh = MemorySegment.ofAddress(Arena.global().allocate(8L * due.length, 64).address())
                    .reinterpret(8L * due.length);
            OverlaySnapshot s = state.current();
            zones = Math.min(s.zoneName.length, OverlayMeta.MAX_ZONES);
            zoneRx = new AtomicCounter[zones];
            zoneTx = new AtomicCounter[zones];
            pubRx = new long[zones];
            pubTx = new long[zones];
            misc = new AtomicCounter[5];
            if (counters != null) {
                for (int z = 1; z < zones; z++) {
                    zoneRx[z] = counters.allocate("network " + s.zoneName[z] + " rx packets", worker);
                    zoneTx[z] = counters.allocate("network " + s.zoneName[z] + " tx packets", worker);
                }
                String[] labels = {"overlay arp replies", "overlay nd replies", "overlay icmp errors",
                        "overlay icmp echo replies", "overlay underlay arp requests"};
                for (int k = 0; k < labels.length; k++) {
                    misc[k] = counters.allocate(labels[k], worker);
                }
            }
        }

        @Override
        public int process(Burst b) {
            OverlayMeta m = meta;
            int left = 0;
            for (int i = 0; i < b.count; i++) {
                if (b.next[i] == Next.CONTINUE) {
                    b.drop(i, NOT_OVERLAY);
                    left++;
                }
            }
            long now = m.nowNs;
            if (!refreshedOnce || now - lastRefresh >= REFRESH_EVERY_NS) {
                refreshedOnce = true;
                lastRefresh = now;
                refresh(b, state.current(), now);
            }
            publish(m);
            return left;
        }

        private void refresh(Burst b, OverlaySnapshot s, long now) {
            if (b.count == 0 || b.count >= b.capacity || b.mbuf[0] == 0 || s.staticNextHopMac >= 0) {
                return;
            }
            int want = Math.min(neighbours.refreshDue(now, due), b.capacity - b.count);
            if (want == 0) {
                return;
            }
            long p = Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, b.mbuf[0] + Mbuf.POOL);
            if (p != poolAddr) {
                poolAddr = p;
                pool = MemorySegment.ofAddress(p); // once: every mbuf comes from the data plane's one pool
            }
            if (Shim.mbufAllocBulk(pool, fresh, want) != 0) {
                return; // pool empty: the entry stays due and is retried after the retry interval
            }
            for (int k = 0; k < want; k++) {
                long mb = fresh.getAtIndex(ValueLayout.JAVA_LONG, k);
                long d = Mbuf.data(mb);
                int slot = b.count++;
                int len = ArpFrames.request(d, s.underlayMac, s.underlayIp, due[k]);
                b.reset(slot, mb, d, len, s.uplinkPort);
                b.etherType[slot] = (short) Net.ETHERTYPE_ARP;
                b.flags[slot] = PacketFlags.ARP | PacketFlags.BROADCAST;
                b.l3Offset[slot] = Net.ETH_LEN;
                b.tx(slot, s.uplinkPort);
                meta.arpRequestsSent++;
            }
        }

        private void publish(OverlayMeta m) {
            for (int z = 1; z < zones; z++) {
                long rx = m.rxPackets[z];
                if (rx != pubRx[z] && zoneRx[z] != null) {
                    zoneRx[z].setRelease(rx);
                    pubRx[z] = rx;
                }
                long tx = m.txPackets[z];
                if (tx != pubTx[z] && zoneTx[z] != null) {
                    zoneTx[z].setRelease(tx);
                    pubTx[z] = tx;
                }
            }
            put(0, m.arpReplies);
            put(1, m.ndReplies);
            put(2, m.icmpErrors);
            put(3, m.icmpEchoReplies);
            put(4, m.arpRequestsSent);
        }

        private void put(int k, long v) {
            if (v != pubMisc[k] && misc[k] != null) {
                misc[k].setRelease(v);
                pubMisc[k] = v;
            }
        }

        @Override
        public String name() { return "overlay-out"; }
    }
}
