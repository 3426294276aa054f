package io.sluice.dataplane.nat;

import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.overlay.ArpFrames;
import io.sluice.dataplane.overlay.OverlayMeta;
import io.sluice.dataplane.overlay.OverlaySnapshot;
import io.sluice.dataplane.overlay.OverlayState;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Packets leaving by the external port that a VM sent (after the firewall and the translation):
 * source MAC = the external MAC, destination MAC = the gateway's (static, or learned by
 * {@link ExternalInStage} from its ARP). While the gateway's MAC is unknown the packet itself becomes
 * a broadcast ARP request for the gateway (at most one per second; others are dropped), counted as
 * {@link DropReason#NAT_NO_GATEWAY}. Publishes the NAT counters once per burst.
 *
 * <p>Uses: next, inPort, outPort, data. Sets: MACs; or the frame (ARP request), length, flags.
 * Allocation-free.
 */
public final class ExternalOutStage implements Stage {
    private static final long ARP_EVERY_NS = 1_000_000_000L;
    private final OverlayState state;
    private final OverlayMeta meta;
    private final NatState nat;
    /** The snapshot seen last: a new one (runtime change) queues gratuitous ARPs for floating IPs that moved. */
    private OverlaySnapshot seen;
    private final int[] garp;
    private int garpPending;
    private final MemorySegment fresh = MemorySegment.ofAddress(Arena.global().allocate(8L * 8, 64).address()).reinterpret(8L * 8);
    private MemorySegment pool;
    private long poolAddr;

    public ExternalOutStage(OverlayState state, OverlayMeta meta, NatState nat) {
        this.state = state;
        this.meta = meta;
        this.nat = nat;
        this.seen = state.current();
        this.garp = new int[seen.fipAddr.length + seen.snatAddr.length];
        // at start every address this host holds is announced once (a previous holder may be cached upstream)
        for (int k = 0; k < seen.fipAddr.length; k++) if (seen.fipVm[k] >= 0) garp[garpPending++] = seen.fipAddr[k];
        for (int a : seen.snatAddr) garp[garpPending++] = a;
    }

    @Override
    public int process(Burst b) {
        OverlaySnapshot s = state.current();
        int ext = s.extPort;
        int acted = 0;
        for (int i = 0; i < b.count; i++) {
            if (b.inPort[i] == ext && meta.srcVm[i] >= 0) { // a VM's packet turned around to our own address (hairpin)
                if (b.next[i] == Next.TX) nat.hairpinned++;
                else if (b.next[i] == Next.DROP) nat.hairpinDropped++;
                continue;
            }
            if (b.next[i] != Next.TX || b.outPort[i] != ext || b.inPort[i] == ext) continue;
            acted++;
            long d = b.data[i];
            if ((b.flags[i] & PacketFlags.IPV4) != 0 && !translated(b, i, s, d + b.l3Offset[i])) {
                nat.drop(b, i, DropReason.NAT_UNSUPPORTED);
                continue;
            }
            if ((b.flags[i] & PacketFlags.IPV6) != 0) {
                ipv6(b, i, s, d);
                continue;
            }
            long gw = s.extGatewayMac >= 0 ? s.extGatewayMac : nat.gatewayMac;
            if (gw >= 0) {
                Mem.putMac(d, gw);
                Mem.putMac(d + 6, s.extMac);
                continue;
            }
            long now = meta.nowNs;
            if (nat.gatewayArpSent && now - nat.lastGatewayArp < ARP_EVERY_NS) {
                nat.drop(b, i, DropReason.NAT_NO_GATEWAY);
                continue;
            }
            nat.gatewayArpSent = true;
            nat.lastGatewayArp = now;
            nat.gatewayArpRequests++;
            nat.drops[DropReason.NAT_NO_GATEWAY.ordinal()]++;
            b.rewritten(i, ArpFrames.request(d, s.extMac, s.extArpIp, s.extGateway));
            b.flags[i] = PacketFlags.ARP | PacketFlags.BROADCAST;
            b.etherType[i] = (short) 0x0806;
            b.l3Offset[i] = 14;
            b.l4Offset[i] = -1;
        }
        if (s != seen) changed(s);
        age(s, meta.nowNs);
        if (garpPending > 0 || refresh4 || refresh6) announce(b, s);
        nat.publish(s);
        return acted;
    }

    /**
     * A VM's IPv6 packet to the outside (no NAT): it must come from the global address of the VM on
     * its port, which has public access (the last guard, {@link DropReason#NAT_UNSUPPORTED}); then the
     * IPv6 gateway's MAC, or, while it is unknown, the packet becomes the neighbour solicitation for
     * it (at most one a second, {@link DropReason#NAT_NO_GATEWAY}).
     */
    private void ipv6(Burst b, int i, OverlaySnapshot s, long d) {
        long ip = d + b.l3Offset[i];
        int vm = s.vmOfPort(b.inPort[i]);
        if (vm < 0 || !s.extHas6 || s.vmAccess[vm] == io.sluice.dataplane.config.OverlayModel.Access.PRIVATE.ordinal()
                || !s.vmHas6[vm] || Mem.i64(ip + 8) != s.vmIp6Hi[vm] || Mem.i64(ip + 16) != s.vmIp6Lo[vm]) {
            nat.drop(b, i, DropReason.NAT_UNSUPPORTED);
            return;
        }
        if (nat.gateway6Mac >= 0) {
            Mem.putMac(d, nat.gateway6Mac);
            Mem.putMac(d + 6, s.extMac);
            nat.ipv6Out++;
            return;
        }
        long now = meta.nowNs;
        if (nat.gateway6NsSent && now - nat.lastGateway6Ns < ARP_EVERY_NS) {
            nat.drop(b, i, DropReason.NAT_NO_GATEWAY);
            return;
        }
        nat.gateway6NsSent = true;
        nat.lastGateway6Ns = now;
        nat.gateway6Solicitations++;
        nat.drops[DropReason.NAT_NO_GATEWAY.ordinal()]++;
        b.rewritten(i, NdFrames.solicit(d, s.extMac, -1, s.extLl6Hi, s.extLl6Lo, s.extGw6Hi, s.extGw6Lo));
        b.flags[i] = PacketFlags.IPV6 | PacketFlags.ICMPV6 | PacketFlags.MULTICAST;
        b.etherType[i] = (short) 0x86DD;
        b.l3Offset[i] = 14;
        b.l4Offset[i] = 54;
    }

    /** Refreshes queued for the gateways' learned MACs (sent from fresh mbufs with the gratuitous ARPs). */
    private boolean refresh4, refresh6;

    /**
     * Gateway MAC ageing: a learned MAC older than {@link NatState#GATEWAY_REFRESH_NS} is refreshed by a
     * unicast ARP request / NS (at most one a second) while it stays in use; one not confirmed within
     * {@link NatState#GATEWAY_MAX_AGE_NS} is forgotten, and the next packet out resolves the gateway
     * again by broadcast. A static {@code gateway-mac} never ages.
     */
    private void age(OverlaySnapshot s, long now) {
        NatState n = nat;
        if (s.extGatewayMac < 0 && n.gatewayMac >= 0) {
            long age = now - n.gatewayMacAt;
            if (age > NatState.GATEWAY_MAX_AGE_NS) {
                n.gatewayMac = -1;
                n.gatewayExpired++;
                refresh4 = false;
            } else if (age > NatState.GATEWAY_REFRESH_NS && !refresh4 && now - n.lastGatewayArp >= ARP_EVERY_NS) {
                refresh4 = true;
                n.lastGatewayArp = now;
                n.gatewayRefreshes++;
            }
        }
        if (n.gateway6Mac >= 0) {
            long age = now - n.gateway6MacAt;
            if (age > NatState.GATEWAY_MAX_AGE_NS) {
                n.gateway6Mac = -1;
                n.gatewayExpired++;
                refresh6 = false;
            } else if (age > NatState.GATEWAY_REFRESH_NS && !refresh6 && now - n.lastGateway6Ns >= ARP_EVERY_NS) {
                refresh6 = true;
                n.lastGateway6Ns = now;
                n.gatewayRefreshes++;
            }
        }
    }

    /** Whether a refresh of the IPv4 / IPv6 gateway's MAC waits to be sent. */
    public boolean refreshPending(boolean v6) { return v6 ? refresh6 : refresh4; }

    /** A runtime change was published: floating IPs now held by another (or a first) VM are announced. */
    private void changed(OverlaySnapshot s) {
        OverlaySnapshot old = seen;
        seen = s;
        for (int k = 0; k < s.fipAddr.length && garpPending < garp.length; k++) {
            if (s.fipVm[k] >= 0 && (k >= old.fipVm.length || old.fipVm[k] != s.fipVm[k])) garp[garpPending++] = s.fipAddr[k];
        }
    }

    /**
     * Gratuitous ARP (request, sender = target = the address, from the external MAC) for the queued
     * addresses, in fresh mbufs from the pool of the burst's first mbuf, appended to the burst (free
     * slots only; the rest wait for the next burst).
     */
    private void announce(Burst b, OverlaySnapshot s) {
        if (b.count == 0 || b.count >= b.capacity || b.mbuf[0] == 0) return;
        int want = Math.min(Math.min(garpPending + (refresh4 ? 1 : 0) + (refresh6 ? 1 : 0), 8), b.capacity - b.count);
        long p = Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, b.mbuf[0] + Mbuf.POOL);
        if (p != poolAddr) {
            poolAddr = p;
            pool = MemorySegment.ofAddress(p); // once: every mbuf comes from the data plane's one pool
        }
        if (Shim.mbufAllocBulk(pool, fresh, want) != 0) return; // pool empty: try again next burst
        for (int k = 0; k < want; k++) {
            long mb = fresh.getAtIndex(ValueLayout.JAVA_LONG, k);
            long d = Mbuf.data(mb);
            int slot = b.count++;
            if (refresh6 && nat.gateway6Mac >= 0) { // unicast NS to the known MAC (a refresh)
                refresh6 = false;
                b.reset(slot, mb, d, NdFrames.solicit(d, s.extMac, nat.gateway6Mac, s.extLl6Hi, s.extLl6Lo, s.extGw6Hi, s.extGw6Lo), s.extPort);
                b.etherType[slot] = (short) 0x86DD;
                b.flags[slot] = PacketFlags.IPV6 | PacketFlags.ICMPV6;
                b.l3Offset[slot] = 14;
                b.l4Offset[slot] = 54;
                b.tx(slot, s.extPort);
                continue;
            }
            int addr, target;
            long to;
            if (refresh4 && nat.gatewayMac >= 0) { // unicast ARP request to the known MAC (a refresh)
                refresh4 = false;
                addr = s.extArpIp;
                target = s.extGateway;
                to = nat.gatewayMac;
            } else if (garpPending > 0) {
                addr = target = garp[--garpPending];
                to = -1;
            } else { // a refresh whose MAC expired meanwhile: the broadcast path resolves it
                refresh4 = refresh6 = false;
                addr = target = s.extArpIp;
                to = -1;
            }
            int len = ArpFrames.request(d, s.extMac, addr, target);
            if (to >= 0) Mem.putMac(d, to);
            b.reset(slot, mb, d, len, s.extPort);
            b.etherType[slot] = (short) 0x0806;
            b.flags[slot] = PacketFlags.ARP | (to >= 0 ? 0 : PacketFlags.BROADCAST);
            b.l3Offset[slot] = 14;
            b.tx(slot, s.extPort);
            if (to < 0) nat.garpsSent++;
        }
    }

    /** Addresses waiting to be announced by gratuitous ARP. */
    public int garpPending() { return garpPending; }

    /**
     * A later fragment (its first fragment went through the firewall and the translation) takes the
     * source address its first fragment left with: the SNAT address recorded in {@link NatFragments},
     * else the sending VM's floating IP. Then the last guard: nothing leaves with a source address
     * this host does not own (a private address never leaks).
     */
    private boolean translated(Burst b, int i, OverlaySnapshot s, long ip) {
        if ((b.flags[i] & PacketFlags.LATER_FRAGMENT) != 0) {
            long a = nat.fragments.lookup(NatFragments.OUT, Mem.i32(ip + 12), Mem.i32(ip + 16), b.ipProto[i], Mem.u16(ip + 4), meta.nowNs);
            int vm = s.vmOfPort(b.inPort[i]);
            int k = vm < 0 ? -1 : s.vmFip[vm];
            if (a >= 0 && a < s.snatAddr.length) {
                NatRewrite.rewrite(ip, -1, b.ipProto[i], true, s.snatAddr[(int) a], -1);
            } else if (k >= 0) {
                NatRewrite.rewrite(ip, -1, b.ipProto[i], true, s.fipAddr[k], -1);
            } else {
                return false;
            }
        }
        // a later fragment to our own address would need hairpin, which takes whole datagrams only
        return s.owned(Mem.i32(ip + 12)) >= 0 && s.owned(Mem.i32(ip + 16)) < 0;
    }

    @Override
    public String name() { return "nat-external-out"; }
}
