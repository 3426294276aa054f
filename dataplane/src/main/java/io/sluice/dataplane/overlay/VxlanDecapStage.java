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
 *
 * <p>Cost per packet: the outer UDP header, the outer addresses and the VXLAN header are each read as one
 * 64-bit load; the VNI → zone and (zone, VTEP) → allowed lookups are made once per run of packets with the
 * same VNI / VTEP in the burst (the results are fixed by the snapshot, which does not change within a burst).
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
        // per burst (one snapshot): the last VNI's zone and the last (zone, VTEP)'s admission
        int lastVni = -1, lastZone = 0;
        long lastVtepKey = -1;
        boolean lastAllowed = false;
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
            long udp = Mem.i64(d + l4); // source port, destination port, length, checksum (l4 + 8 <= len)
            if ((int) (udp >>> 32 & 0xFFFF) != VXLAN_PORT) {
                continue;
            }
            acted++;
            int udpLen = (int) (udp >>> 16 & 0xFFFF);
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
            long addrs = Mem.i64(d + l3 + 12); // outer source, destination (l3 + 20 <= l4)
            if ((int) addrs != s.underlayIp) {
                m.drop(b, i, OverlayDrop.VXLAN_NOT_FOR_US);
                continue;
            }
            long vxlan = Mem.i64(d + l4 + 8); // flags, reserved, VNI, reserved (l4 + 16 <= l4 + udpLen)
            if ((vxlan & 0x0800_0000_0000_0000L) == 0) {
                m.drop(b, i, OverlayDrop.VXLAN_BAD_FLAGS);
                continue;
            }
            int vni = (int) (vxlan >>> 8) & 0xFF_FFFF;
            if (vni != lastVni) { // the burst's packets mostly share a VNI: one lookup per run of them
                lastVni = vni;
                lastZone = s.zoneOfVni(vni);
            }
            int zone = lastZone;
            if (zone == 0) {
                m.drop(b, i, OverlayDrop.VXLAN_UNKNOWN_VNI);
                continue;
            }
            int srcVtep = (int) (addrs >>> 32);
            long vtepKey = (long) zone << 32 | (srcVtep & 0xFFFF_FFFFL);
            if (vtepKey != lastVtepKey) {
                lastVtepKey = vtepKey;
                lastAllowed = s.vtepAllowed(zone, srcVtep);
            }
            if (!lastAllowed) {
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
