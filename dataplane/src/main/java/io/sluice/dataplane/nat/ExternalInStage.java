package io.sluice.dataplane.nat;

import io.sluice.dataplane.overlay.OverlayMeta;
import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.overlay.OverlaySnapshot;
import io.sluice.dataplane.overlay.OverlayState;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Offload;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

/**
 * Everything that arrives on the external port (docs/nat.md), before the security groups:
 * <ul>
 *   <li>ARP: a request for a floating IP or SNAT address we own is answered in place with the
 *       external MAC; ARP from the gateway (request or reply) teaches its MAC (a reply is then
 *       consumed, {@link DropReason#NAT_ARP}); any other ARP is dropped the same way.</li>
 *   <li>IPv4 to a floating IP associated with a VM: DNAT — destination := the VM's private address
 *       (ports unchanged), TTL - 1, MACs router → VM, {@code TX} on the VM's port; meta nat =
 *       {@code FIP | index}. The firewall then checks the VM's ingress rules on the private address.</li>
 *   <li>IPv4 TCP/UDP/ICMP echo reply to a SNAT address: the binding of (address, protocol, port or
 *       echo identifier) gives the VM and its internal port; destination rewritten to them, meta nat
 *       = {@code SNAT | slot}, {@code TX} on the VM's port. The firewall lets it through only as part
 *       of a tracked connection ({@link DropReason#NAT_UNSOLICITED} otherwise).</li>
 *   <li>IPv6 (with {@code gateway6}, no NAT): neighbour discovery answered / learned here; packets to
 *       the global address of a local VM with public access delivered as they are.</li>
 *   <li>Hairpin: {@link #turnAround} runs the inbound walk for a VM's packet to one of our addresses.</li>
 *   <li>Drops: not ours ({@link DropReason#NAT_NOT_OURS}: IPv6 without gateway6, VLAN-tagged frames, other addresses), unassigned floating
 *       IP or unbound SNAT port ({@link DropReason#NAT_NO_MAPPING}), TTL ≤ 1 ({@link DropReason#NAT_TTL_EXPIRED}),
 *       ICMP errors and later fragments to a SNAT address ({@link DropReason#NAT_UNSUPPORTED}).</li>
 * </ul>
 * Uses: next, inPort, data, length, l3/l4Offset, ipProto, flags. Sets: data bytes, next/outPort,
 * meta zone/nat/txPackets. Allocation-free.
 */
public final class ExternalInStage implements Stage {
    private final OverlayState state;
    private final OverlayMeta meta;
    private final NatState nat;

    public ExternalInStage(OverlayState state, OverlayMeta meta, NatState nat) {
        this.state = state;
        this.meta = meta;
        this.nat = nat;
    }

    @Override
    public int process(Burst b) {
        OverlaySnapshot s = state.current();
        int ext = s.extPort;
        int acted = 0;
        for (int i = 0; i < b.count; i++) {
            if (b.next[i] != Next.CONTINUE || b.inPort[i] != ext) continue;
            acted++;
            int fl = b.flags[i];
            if ((fl & PacketFlags.VLAN) != 0) {
                nat.drop(b, i, DropReason.NAT_NOT_OURS); // the external network is untagged (a tag would reach the VM)
            } else if ((fl & PacketFlags.ARP) != 0) {
                arp(b, i, s);
            } else if ((fl & PacketFlags.IPV4) != 0) {
                ipv4(b, i, s, fl);
            } else if ((fl & PacketFlags.IPV6) != 0 && s.extHas6) {
                ipv6(b, i, s, fl);
            } else {
                nat.drop(b, i, DropReason.NAT_NOT_OURS);
            }
        }
        return acted;
    }

    private void arp(Burst b, int i, OverlaySnapshot s) {
        long d = b.data[i];
        long a = d + b.l3Offset[i];
        if (b.l3Offset[i] + 28 > b.length[i] || Mem.i32(a) != 0x0001_0800 || Mem.u16(a + 4) != 0x0604) {
            nat.drop(b, i, DropReason.NAT_ARP);
            return;
        }
        int op = Mem.u16(a + 6);
        long sha = Mem.mac(a + 8);
        int spa = Mem.i32(a + 14);
        int tpa = Mem.i32(a + 24);
        if (spa == s.extGateway && (sha & 0x0100_0000_0000L) == 0 && sha != 0 && (op == 1 || op == 2)) {
            if (nat.gatewayMac != sha) nat.gatewayLearned++;
            nat.gatewayMac = sha;
            nat.gatewayMacAt = meta.nowNs;
        }
        int own = s.owned(tpa);
        boolean ours = own >= 0 && ((own & OverlaySnapshot.OWNED_SNAT) != 0 || s.fipVm[own & OverlaySnapshot.OWNED_INDEX] >= 0);
        if (op != 1 || !ours || spa == tpa) { // a floating IP is answered for while a VM of this host holds it
            nat.drop(b, i, DropReason.NAT_ARP);
            return;
        }
        Mem.putMac(d, sha);
        Mem.putMac(d + 6, s.extMac);
        Mem.put16(a + 6, 2);
        Mem.putMac(a + 18, sha);
        Mem.put32(a + 24, spa);
        Mem.putMac(a + 8, s.extMac);
        Mem.put32(a + 14, tpa);
        nat.arpReplies++;
        b.tx(i, s.extPort);
    }

    /**
     * Hairpin (docs/nat.md): packet i, a VM's packet already translated on its way out (source = its
     * floating IP or SNAT binding), is addressed to one of our addresses; it takes the inbound walk
     * from here as if it had come back from the gateway: {@code inPort} becomes the external port,
     * then DNAT (or a drop with its reason). Only IPv4 to an owned address comes here.
     */
    void turnAround(Burst b, int i, OverlaySnapshot s) {
        b.inPort[i] = s.extPort;
        ipv4(b, i, s, b.flags[i]);
    }

    private void ipv4(Burst b, int i, OverlaySnapshot s, int fl) {
        long d = b.data[i];
        long ip = d + b.l3Offset[i];
        int owned = s.owned(Mem.i32(ip + 16));
        if (owned < 0) {
            nat.drop(b, i, DropReason.NAT_NOT_OURS);
            return;
        }
        int idx = owned & OverlaySnapshot.OWNED_INDEX;
        int proto = b.ipProto[i];
        boolean later = (fl & PacketFlags.LATER_FRAGMENT) != 0;
        long l4 = later || b.l4Offset[i] < 0 ? -1 : d + b.l4Offset[i];
        if (proto == NatRewrite.ICMP && l4 >= 0 && NatRewrite.isIcmpError(Mem.u8(l4))) {
            icmpError(b, i, s, d, ip, l4, owned, idx);
            return;
        }
        int vm, port, word;
        if ((owned & OverlaySnapshot.OWNED_FIP) != 0) {
            vm = s.fipVm[idx];
            if (vm < 0) {
                nat.drop(b, i, DropReason.NAT_NO_MAPPING);
                return;
            }
            port = -1;
            word = NatState.FIP | idx;
        } else {
            int cls = SnatPorts.protoClass(proto);
            if (cls < 0) {
                nat.drop(b, i, DropReason.NAT_NO_MAPPING); // no port space: nothing can be bound
                return;
            }
            if (l4 < 0) { // a later fragment: its datagram's first fragment told which VM
                long v = nat.fragments.lookup(NatFragments.IN, Mem.i32(ip + 12), Mem.i32(ip + 16), proto, Mem.u16(ip + 4), meta.nowNs);
                if (v < 0) {
                    nat.drop(b, i, DropReason.NAT_NO_MAPPING);
                    return;
                }
                int fv = NatState.vmOfRef(s, v);
                if (fv < 0) { // the slot's VM is gone (or the slot was given to another since)
                    nat.drop(b, i, DropReason.NAT_NO_MAPPING);
                    return;
                }
                translate(b, i, s, d, ip, -1, proto, fv, -1, NatState.SNAT);
                return;
            }
            if (cls == 2 && Mem.u8(l4) != 0) {
                // echo request to a SNAT address: nothing bound; ICMP errors (RFC 5508): not translated yet
                nat.drop(b, i, Mem.u8(l4) == 8 ? DropReason.NAT_NO_MAPPING : DropReason.NAT_UNSUPPORTED);
                return;
            }
            int ext = cls == 2 ? Mem.u16(l4 + 4) : Mem.u16(l4 + 2);
            int slot = nat.ports.inbound(idx, cls, ext);
            if (slot < 0) {
                nat.drop(b, i, DropReason.NAT_NO_MAPPING);
                return;
            }
            int natVm = nat.ports.vmOf(slot);
            vm = s.slotVm[natVm];
            if (vm < 0) { // a binding of a VM deleted at runtime (its connections end; nobody else gets them)
                nat.drop(b, i, DropReason.NAT_NO_MAPPING);
                return;
            }
            port = nat.ports.internalPort(slot);
            word = NatState.SNAT | slot;
            if ((fl & PacketFlags.FRAGMENT) != 0 && (Mem.u16(ip + 6) & 0x2000) != 0) {
                // a first fragment: its later fragments (no ports) will follow it to this VM
                nat.fragments.record(NatFragments.IN, Mem.i32(ip + 12), Mem.i32(ip + 16), proto, Mem.u16(ip + 4), NatState.slotRef(s, natVm), meta.nowNs);
            }
        }
        translate(b, i, s, d, ip, l4, proto, vm, port, word);
    }

    /**
     * IPv6 from the external network (no NAT, docs/nat.md "IPv6"): neighbour discovery is ours;
     * anything else must be addressed to the global address of a local VM with public access, and is
     * delivered to it as it is (hop limit - 1) for its ingress groups to decide.
     */
    private void ipv6(Burst b, int i, OverlaySnapshot s, int fl) {
        long d = b.data[i];
        long ip = d + b.l3Offset[i];
        if ((fl & PacketFlags.ICMPV6) != 0 && b.l4Offset[i] == b.l3Offset[i] + 40) {
            int type = Mem.u8(d + b.l4Offset[i]);
            if (type >= 133 && type <= 137) { // RS, RA, NS, NA, redirect
                nd(b, i, s, d, ip, type);
                return;
            }
        }
        long hi = Mem.i64(ip + 24);
        long lo = Mem.i64(ip + 32);
        int vm = OverlaySnapshot.global6(hi) ? s.localVmByIp6(hi, lo) : -1;
        if (vm < 0) {
            nat.drop(b, i, DropReason.NAT_NOT_OURS);
            return;
        }
        if (s.vmAccess[vm] == OverlayModel.Access.PRIVATE.ordinal()) {
            nat.countNoPublicAccess(s.vmSlot[vm]);
            nat.drop(b, i, DropReason.NAT_NO_PUBLIC_ACCESS);
            return;
        }
        int hop = Mem.u8(ip + 7);
        if (hop <= 1) {
            nat.drop(b, i, DropReason.NAT_TTL_EXPIRED);
            return;
        }
        Mem.put8(ip + 7, hop - 1);
        nat.ipv6In++;
        deliver(b, i, s, d, vm, 0);
    }

    /**
     * Neighbour discovery on the external network: NS or NA from the IPv6 gateway teaches (or
     * confirms) its MAC; an NS for our link-local address or for the global address of a local VM with
     * public access is answered in place with the external MAC (solicited, override); everything else
     * ({@link DropReason#NAT_ND}) is consumed.
     */
    private void nd(Burst b, int i, OverlaySnapshot s, long d, long ip, int type) {
        long icmp = ip + 40;
        if (Mem.u8(ip + 7) != 255 || Mem.u16(ip + 4) < 24 || b.l3Offset[i] + 40 + 24 > b.length[i]) {
            nat.drop(b, i, DropReason.NAT_ND);
            return;
        }
        long sHi = Mem.i64(ip + 8);
        long sLo = Mem.i64(ip + 16);
        long sha = Mem.mac(d + 6);
        if (sHi == s.extGw6Hi && sLo == s.extGw6Lo && (type == 135 || type == 136) && (sha & 0x0100_0000_0000L) == 0 && sha != 0) {
            if (nat.gateway6Mac != sha) nat.gateway6Learned++;
            nat.gateway6Mac = sha;
            nat.gateway6MacAt = meta.nowNs;
        }
        if (type != 135 || (sHi == 0 && sLo == 0)) { // NA learned above; DAD, RS, RA, redirect: not ours to answer
            nat.drop(b, i, DropReason.NAT_ND);
            return;
        }
        long tHi = Mem.i64(icmp + 8);
        long tLo = Mem.i64(icmp + 16);
        int vm = s.localVmByIp6(tHi, tLo);
        boolean ours = tHi == s.extLl6Hi && tLo == s.extLl6Lo
                || vm >= 0 && OverlaySnapshot.global6(tHi) && s.vmAccess[vm] != OverlayModel.Access.PRIVATE.ordinal();
        if (!ours) {
            nat.drop(b, i, DropReason.NAT_ND);
            return;
        }
        b.rewritten(i, NdFrames.advertise(d, s.extMac, sha, tHi, tLo, sHi, sLo)); // untagged: the IPv6 header at 14
        nat.ndReplies++;
        b.tx(i, s.extPort);
    }

    /** TTL - 1, destination := the VM's private address (and port), delivered to its port. */
    private void translate(Burst b, int i, OverlaySnapshot s, long d, long ip, long l4, int proto, int vm, int port, int word) {
        if (NatRewrite.decrementTtl(ip) <= 1) {
            nat.drop(b, i, DropReason.NAT_TTL_EXPIRED);
            return;
        }
        NatRewrite.rewrite(ip, l4, proto, false, s.vmIp4[vm], port, (b.offload[i] & Offload.PARTIAL_CSUM) != 0);
        deliver(b, i, s, d, vm, word);
    }

    /**
     * An ICMP error to one of our addresses about a flow that went out through it (RFC 5508): the
     * quoted header's source is that address (and, through SNAT, the quoted source port or echo
     * identifier is the external one); both headers are translated back to the VM's private address
     * and port, so the firewall finds the flow (RELATED) and the VM's stack sees its own packet quoted.
     * Packet too big / fragmentation needed reach the VM this way.
     */
    private void icmpError(Burst b, int i, OverlaySnapshot s, long d, long ip, long icmp, int owned, int idx) {
        long end = ip + Math.min(Mem.u16(ip + 2), b.length[i] - b.l3Offset[i]);
        long q = icmp + 8;
        int vm, port, word;
        if (q + 28 > end || Mem.i32(q + 12) != Mem.i32(ip + 16)) {
            nat.drop(b, i, DropReason.NAT_NO_MAPPING); // too short to say which flow, or not about one from this address
            return;
        }
        if ((owned & OverlaySnapshot.OWNED_FIP) != 0) {
            vm = s.fipVm[idx];
            port = -1;
            word = NatState.FIP | idx;
        } else {
            int qproto = Mem.u8(q + 9);
            int cls = SnatPorts.protoClass(qproto);
            long ql4 = q + (Mem.u8(q) & 0x0F) * 4L;
            boolean quotedLater = (Mem.u16(q + 6) & 0x1FFF) != 0; // a later fragment's quote has no ports to find the flow
            if (cls < 0 || quotedLater || ql4 + 8 > end || (cls == 2 && Mem.u8(ql4) != 8)) {
                nat.drop(b, i, DropReason.NAT_NO_MAPPING);
                return;
            }
            int slot = nat.ports.inbound(idx, cls, cls == 2 ? Mem.u16(ql4 + 4) : Mem.u16(ql4));
            vm = slot < 0 ? -1 : s.slotVm[nat.ports.vmOf(slot)];
            port = slot < 0 ? -1 : nat.ports.internalPort(slot);
            word = NatState.SNAT | slot;
        }
        if (vm < 0) {
            nat.drop(b, i, DropReason.NAT_NO_MAPPING);
            return;
        }
        if (NatRewrite.decrementTtl(ip) <= 1) {
            nat.drop(b, i, DropReason.NAT_TTL_EXPIRED);
            return;
        }
        if (!NatRewrite.icmpError(ip, icmp, end, true, s.vmIp4[vm], port)) {
            nat.drop(b, i, DropReason.NAT_NO_MAPPING);
            return;
        }
        nat.icmpErrorsIn++;
        deliver(b, i, s, d, vm, word);
    }

    private void deliver(Burst b, int i, OverlaySnapshot s, long d, int vm, int word) {
        Mem.putMac(d, s.vmMac[vm]);
        Mem.putMac(d + 6, s.routerMac);
        OverlayMeta m = meta;
        int zone = s.vmZone[vm];
        m.zone[i] = zone;
        m.nat[i] = word;
        m.txPackets[zone]++;
        b.tx(i, s.vmPort[vm]);
    }

    @Override
    public String name() { return "nat-external-in"; }
}
