package io.sluice.dataplane.nat;

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

    public ExternalOutStage(OverlayState state, OverlayMeta meta, NatState nat) {
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
            if (b.next[i] != Next.TX || b.outPort[i] != ext || b.inPort[i] == ext) continue;
            acted++;
            long d = b.data[i];
            if ((b.flags[i] & PacketFlags.IPV4) != 0 && !translated(b, i, s, d + b.l3Offset[i])) {
                nat.drop(b, i, DropReason.NAT_UNSUPPORTED);
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
            b.length[i] = ArpFrames.request(d, s.extMac, s.extArpIp, s.extGateway);
            b.flags[i] = PacketFlags.ARP | PacketFlags.BROADCAST;
            b.etherType[i] = (short) 0x0806;
            b.l3Offset[i] = 14;
            b.l4Offset[i] = -1;
        }
        nat.publish();
        return acted;
    }

    /**
     * A later fragment (its first fragment went through the firewall and the translation) takes the
     * sending VM's floating IP as source; through SNAT it is not followed yet. Then the last guard:
     * nothing leaves with a source address this host does not own (a private address never leaks).
     */
    private boolean translated(Burst b, int i, OverlaySnapshot s, long ip) {
        if ((b.flags[i] & PacketFlags.LATER_FRAGMENT) != 0) {
            int vm = s.vmOfPort(b.inPort[i]);
            int k = vm < 0 ? -1 : s.vmFip[vm];
            if (k < 0) return false;
            NatRewrite.rewrite(ip, -1, b.ipProto[i], true, s.fipAddr[k], -1);
        }
        return s.owned(Mem.i32(ip + 12)) >= 0;
    }

    @Override
    public String name() { return "nat-external-out"; }
}
