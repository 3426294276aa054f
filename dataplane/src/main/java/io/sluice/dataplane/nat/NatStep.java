package io.sluice.dataplane.nat;

import io.sluice.dataplane.conntrack.Conntrack;
import io.sluice.dataplane.conntrack.CtPacket;
import io.sluice.dataplane.conntrack.Verdict;
import io.sluice.dataplane.firewall.NatHook;
import io.sluice.dataplane.overlay.OverlayMeta;
import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.overlay.OverlaySnapshot;
import io.sluice.dataplane.overlay.OverlayState;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Offload;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.packet.Mem;

/**
 * The translation inside the firewall stage, after the conntrack verdict (docs/nat.md):
 * <ul>
 *   <li><b>Outbound</b> (a VM port → the external port; the security groups already passed it on the
 *       private address): the NAT word of the connection's entry decides; a connection without one
 *       gets it now — the VM's floating IP ({@code FIP | index}), or a SNAT binding from
 *       {@link SnatPorts} ({@code SNAT | slot}; none left: {@link DropReason#NAT_EXHAUSTED}, the entry is
 *       removed, the VM's counter moves). A floating-IP entry whose address the VM no longer holds is
 *       cut ({@link DropReason#NAT_STALE}). Then source address (and SNAT port / echo identifier)
 *       rewritten with incremental checksums.</li>
 *   <li><b>Inbound</b> (external port → VM port; {@link ExternalInStage} already translated the
 *       destination): a NEW connection may start only through a floating IP
 *       ({@link DropReason#NAT_UNSOLICITED} for a SNAT address); a tracked one must have come through
 *       the same address and port its entry records ({@link DropReason#NAT_NO_MAPPING}).</li>
 *   <li>A VM's ICMP error about a flow through NAT gets its outer source and quoted destination
 *       translated (RFC 5508); one that cannot be is dropped ({@link DropReason#NAT_UNSUPPORTED}).</li>
 *   <li><b>Hairpin</b>: a translated packet addressed to one of our own addresses is turned around
 *       ({@link #hairpin}) and goes through the firewall stage once more as an inbound packet.</li>
 *   <li><b>IPv6</b> between a VM and the external network is not translated; only a VM's public
 *       access is checked.</li>
 * </ul>
 * When a connection with a SNAT word is deleted, {@link #released} returns its binding.
 */
public final class NatStep implements NatHook, Conntrack.NatRelease {
    private final OverlayState state;
    private final OverlayMeta meta;
    private final NatState nat;

    /** The inbound translation, for hairpin (a VM's packet to one of our addresses). */
    private final ExternalInStage in;

    public NatStep(OverlayState state, OverlayMeta meta, NatState nat, ExternalInStage in) {
        this.state = state;
        this.meta = meta;
        this.nat = nat;
        this.in = in;
    }

    @Override
    public boolean mayStart(Burst b, int i) {
        if ((meta.nat[i] & NatState.KIND) == NatState.SNAT) {
            nat.drop(b, i, DropReason.NAT_UNSOLICITED);
            return false;
        }
        return true;
    }

    @Override
    public boolean passed(Burst b, int i, CtPacket p, Conntrack ct, Verdict v) {
        OverlaySnapshot s = state.current();
        if ((b.flags[i] & PacketFlags.IPV6) != 0) {
            if (b.outPort[i] == s.extPort || b.inPort[i] == s.extPort) ipv6(b, i, p, ct, v, s);
            return false;
        }
        if (b.outPort[i] == s.extPort) {
            outbound(b, i, p, ct, v, s);
            return b.next[i] != Next.DROP && hairpin(b, i, s);
        } else if (b.inPort[i] == s.extPort) {
            int w = meta.nat[i];
            int vm = s.vmOfPort(b.outPort[i]);
            if (vm >= 0 && s.vmAccess[vm] == OverlayModel.Access.PRIVATE.ordinal()) {
                // made private while a SNAT binding still led here: no public path any more
                if (v != Verdict.NEW) ct.kill(p);
                nat.stale++;
                nat.drop(b, i, DropReason.NAT_STALE);
                return false;
            }
            if (v == Verdict.NEW) {
                ct.setLastNat(w);
                nat.fipCreated++;
            } else if (ct.lastNat() != w) { // ESTABLISHED, or RELATED (an ICMP error about the flow)
                nat.drop(b, i, DropReason.NAT_NO_MAPPING);
            }
        }
        return false;
    }

    /**
     * IPv6 between a VM and the external network: no translation (the VM's global address is
     * public); the security groups already decided. A VM made private since the connection opened
     * has no public path any more: the connection is cut ({@link DropReason#NAT_NO_PUBLIC_ACCESS},
     * counted per VM).
     */
    private void ipv6(Burst b, int i, CtPacket p, Conntrack ct, Verdict v, OverlaySnapshot s) {
        boolean out = b.outPort[i] == s.extPort;
        int vm = s.vmOfPort(out ? b.inPort[i] : b.outPort[i]);
        if (vm < 0 || s.vmAccess[vm] == OverlayModel.Access.PRIVATE.ordinal()) {
            if (v != Verdict.RELATED) ct.kill(p);
            if (vm >= 0) nat.countNoPublicAccess(s.vmSlot[vm]);
            nat.drop(b, i, DropReason.NAT_NO_PUBLIC_ACCESS);
        }
    }

    /**
     * Hairpin (RFC 4787 section 6): the translated packet is addressed to one of our own addresses (a
     * floating IP or SNAT address of this host): instead of leaving for the gateway, it takes the
     * inbound walk here ({@link ExternalInStage#turnAround}: DNAT, or a drop with its reason) and
     * goes through the firewall once more as an inbound packet (true). Fragmented datagrams are not
     * turned around ({@link DropReason#NAT_UNSUPPORTED}). Counted by {@link ExternalOutStage}
     * (inPort = the external port, srcVm = the sender).
     */
    private boolean hairpin(Burst b, int i, OverlaySnapshot s) {
        if ((b.flags[i] & PacketFlags.IPV4) == 0 || s.owned(Mem.i32(b.data[i] + b.l3Offset[i] + 16)) < 0) return false;
        if ((b.flags[i] & PacketFlags.FRAGMENT) != 0) {
            b.inPort[i] = s.extPort;
            nat.drop(b, i, DropReason.NAT_UNSUPPORTED);
            return false;
        }
        in.turnAround(b, i, s);
        return b.next[i] != Next.DROP;
    }

    private void outbound(Burst b, int i, CtPacket p, Conntrack ct, Verdict v, OverlaySnapshot s) {
        int vm = s.vmOfPort(b.inPort[i]);
        if (vm < 0) {
            nat.drop(b, i, DropReason.NAT_UNSUPPORTED);
            return;
        }
        if (v == Verdict.RELATED) {
            relatedOut(b, i, ct, s);
            return;
        }
        int word = ct.lastNat();
        if (word == 0) {
            word = assign(s, vm, p);
            if (word < 0 && word >= NO_PORTS) { // (a SNAT word is negative too, but far below)
                if (v == Verdict.NEW) ct.kill(p);
                if (word == EXHAUSTED) {
                    nat.countExhausted(s.vmSlot[vm]);
                    nat.drop(b, i, DropReason.NAT_EXHAUSTED);
                } else if (word == NO_ACCESS) {
                    nat.countNoPublicAccess(s.vmSlot[vm]);
                    nat.drop(b, i, DropReason.NAT_NO_PUBLIC_ACCESS);
                } else {
                    nat.drop(b, i, DropReason.NAT_UNSUPPORTED);
                }
                return;
            }
            ct.setLastNat(word);
        }
        long ip = b.data[i] + b.l3Offset[i];
        long l4 = (b.flags[i] & PacketFlags.LATER_FRAGMENT) != 0 || b.l4Offset[i] < 0 ? -1 : b.data[i] + b.l4Offset[i];
        int idx = word & NatState.INDEX;
        if ((word & NatState.KIND) == NatState.FIP) {
            if (s.fipVm.length <= idx || s.fipVm[idx] != vm) {
                ct.kill(p);
                nat.stale++;
                nat.drop(b, i, DropReason.NAT_STALE);
                return;
            }
            NatRewrite.rewrite(ip, l4, b.ipProto[i], true, s.fipAddr[idx], -1, (b.offload[i] & Offload.PARTIAL_CSUM) != 0);
        } else {
            SnatPorts ports = nat.ports;
            int a = ports.addressIndex(idx);
            if ((b.flags[i] & PacketFlags.FRAGMENT) != 0 && l4 >= 0 && (Mem.u16(ip + 6) & 0x2000) != 0) {
                // a first fragment: its later fragments (no ports) will leave with the same address
                nat.fragments.record(NatFragments.OUT, Mem.i32(ip + 12), Mem.i32(ip + 16),
                        b.ipProto[i], Mem.u16(ip + 4), a, meta.nowNs);
            }
            NatRewrite.rewrite(ip, l4, b.ipProto[i], true, s.snatAddr[a], ports.externalPort(idx),
                    (b.offload[i] & Offload.PARTIAL_CSUM) != 0);
        }
    }

    /**
     * A VM's ICMP error about a flow through NAT (e.g. port unreachable to a server): the outer source
     * and the quoted destination become the flow's external address (and port), RFC 5508.
     */
    private void relatedOut(Burst b, int i, Conntrack ct, OverlaySnapshot s) {
        int word = ct.lastNat();
        int idx = word & NatState.INDEX;
        long ip = b.data[i] + b.l3Offset[i];
        long end = ip + Math.min(Mem.u16(ip + 2), b.length[i] - b.l3Offset[i]);
        long icmp = b.data[i] + b.l4Offset[i];
        boolean ok;
        if ((word & NatState.KIND) == NatState.FIP && idx < s.fipAddr.length) {
            ok = NatRewrite.icmpError(ip, icmp, end, false, s.fipAddr[idx], -1);
        } else if ((word & NatState.KIND) == NatState.SNAT) {
            ok = NatRewrite.icmpError(ip, icmp, end, false, s.snatAddr[nat.ports.addressIndex(idx)], nat.ports.externalPort(idx));
        } else {
            ok = false;
        }
        if (!ok) {
            nat.drop(b, i, DropReason.NAT_UNSUPPORTED);
            return;
        }
        nat.icmpErrorsOut++;
    }

    private static final int EXHAUSTED = -1, NO_ACCESS = -2, NO_PORTS = -3;

    /** A NAT word for a VM's new outbound connection, or EXHAUSTED, NO_ACCESS, NO_PORTS (a protocol without ports under SNAT). */
    private int assign(OverlaySnapshot s, int vm, CtPacket p) {
        int access = s.vmAccess[vm];
        if (access == OverlayModel.Access.FLOATING.ordinal()) {
            nat.fipCreated++;
            return NatState.FIP | s.vmFip[vm];
        }
        if (access != OverlayModel.Access.OUTBOUND.ordinal()) return NO_ACCESS;
        int cls = SnatPorts.protoClass(p.proto);
        if (cls < 0) return NO_PORTS;
        int slot = nat.ports.acquire(s.vmSlot[vm], cls, p.sport);
        if (slot < 0) return EXHAUSTED;
        nat.snatCreated++;
        return NatState.SNAT | slot;
    }

    @Override
    public void released(int natWord) {
        if ((natWord & NatState.KIND) == NatState.SNAT) nat.ports.release(natWord & NatState.INDEX);
    }
}
