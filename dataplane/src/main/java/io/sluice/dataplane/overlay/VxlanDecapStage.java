package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

/**
 * VXLAN decapsulation (RFC 7348) on the uplink. First overlay stage: it resets the
 * {@link OverlayMeta} slot of every packet of the burst.
 *
 * <p>Looks at {@code CONTINUE} packets with {@code inPort == uplink}, parser flags IPV4|UDP and
 * UDP destination port 4789; everything else on the uplink (ARP, public traffic for NAT) is left
 * untouched with zone 0. Checks, in order: outer headers and UDP length inside the frame
 * ({@link OverlayDrop#VXLAN_TRUNCATED}), no outer fragment, outer destination = our underlay
 * address, VXLAN I flag, VNI configured here, outer source VTEP hosts a VM of that network
 * ({@link OverlayDrop#VXLAN_VTEP_NOT_ALLOWED}). Then strips the outer headers: {@code data}
 * moves forward by {@code l4Offset + 16} (50 bytes for an option-less outer IPv4 header),
 * {@code length} becomes the inner frame length, and the parser fields are rewritten for the
 * inner frame ({@link InnerFrame}).
 *
 * <p>Uses: next, inPort, data, length, l3Offset, l4Offset, ipProto, flags. Sets: data, length,
 * etherType, l3Offset, l4Offset, ipProto, flags, vlan, next/dropReason on drop;
 * meta zone, srcVtep; counts meta rxPackets[zone]. The tx side must derive the mbuf's data
 * offset from {@code data} (rte_pktmbuf_adj by the difference).
 */
public final class VxlanDecapStage implements Stage {
    public static final int VXLAN_PORT = 4789;

    private final OverlayState state;
    private final OverlayMeta meta;

    public VxlanDecapStage(OverlayState state, OverlayMeta meta) {
        this.state = state;
        this.meta = meta;
    }

    @Override
    public int process(Burst b) {
        OverlaySnapshot s = state.current();
        OverlayMeta m = meta;
        int acted = 0;
        for (int i = 0; i < b.count; i++) {
            m.reset(i);
            if (b.next[i] != Next.CONTINUE || b.inPort[i] != s.uplinkPort
                    || (b.flags[i] & (PacketFlags.IPV4 | PacketFlags.UDP)) != (PacketFlags.IPV4 | PacketFlags.UDP)
                    || b.ipProto[i] != 17) {
                continue;
            }
            long d = b.data[i];
            int len = b.length[i];
            int l3 = b.l3Offset[i];
            int l4 = b.l4Offset[i];
            if (l3 < Net.ETH_LEN || l4 < l3 + 20 || l4 + 8 > len) {
                continue; // not a UDP header we can see: not ours
            }
            if (Mem.u16(d + l4 + 2) != VXLAN_PORT) {
                continue;
            }
            acted++;
            int udpLen = Mem.u16(d + l4 + 4);
            if (udpLen < 16 + Net.ETH_LEN || l4 + udpLen > len) {
                m.drop(b, i, OverlayDrop.VXLAN_TRUNCATED);
                continue;
            }
            if (b.tailLen[i] != 0 && b.headLen(i) < l4 + 16 + Net.ETH_LEN) {
                m.drop(b, i, OverlayDrop.VXLAN_INNER_SPANS_SEGMENTS); // VXLAN or inner Ethernet header in the next segment
                continue;
            }
            if ((b.flags[i] & PacketFlags.FRAGMENT) != 0 || (Mem.u16(d + l3 + 6) & 0x3FFF) != 0) {
                m.drop(b, i, OverlayDrop.VXLAN_OUTER_FRAGMENT);
                continue;
            }
            if (Mem.i32(d + l3 + 16) != s.underlayIp) {
                m.drop(b, i, OverlayDrop.VXLAN_NOT_FOR_US);
                continue;
            }
            long vx = d + l4 + 8;
            if ((Mem.u8(vx) & 0x08) == 0) {
                m.drop(b, i, OverlayDrop.VXLAN_BAD_FLAGS);
                continue;
            }
            int zone = s.zoneOfVni((int) (Mem.u32(vx + 4) >>> 8));
            if (zone == 0) {
                m.drop(b, i, OverlayDrop.VXLAN_UNKNOWN_VNI);
                continue;
            }
            int srcVtep = Mem.i32(d + l3 + 12);
            if (!s.vtepAllowed(zone, srcVtep)) {
                m.drop(b, i, OverlayDrop.VXLAN_VTEP_NOT_ALLOWED);
                continue;
            }
            b.data[i] = d + l4 + 16;
            b.length[i] = udpLen - 16;
            OverlayDrop bad = InnerFrame.parse(b, i);
            if (bad != OverlayDrop.NONE) {
                m.drop(b, i, bad);
                continue;
            }
            if (b.tailLen[i] != 0 && !InnerFrame.inHead(b, i)) {
                m.drop(b, i, OverlayDrop.VXLAN_INNER_SPANS_SEGMENTS);
                continue;
            }
            m.zone[i] = zone;
            m.srcVtep[i] = srcVtep;
            m.rxPackets[zone]++;
        }
        return acted;
    }

    @Override
    public String name() { return "vxlan-decap"; }
}
