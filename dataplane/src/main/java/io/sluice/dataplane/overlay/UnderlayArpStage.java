package io.sluice.dataplane.overlay;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

/**
 * ARP on the uplink for this host's underlay address. A request for our underlay IP is
 * answered in place (reply sent back on the uplink); a reply addressed to our underlay IP is
 * consumed (counted as {@link OverlayDrop#UNDERLAY_ARP_LEARNED}). Either refreshes the sender's
 * entry in {@link UnderlayNeighbours} only if that next hop is already there (we asked for it):
 * unsolicited ARP cannot fill or poison the cache. ARP for any other address is left
 * {@code CONTINUE} (other stages, e.g. NAT for public addresses, may own it).
 *
 * <p>Uses: next, inPort, data, l3Offset, flags; meta nowNs. Sets: data bytes, next/outPort.
 */
public final class UnderlayArpStage implements Stage {
    private final OverlayState state;
    private final OverlayMeta meta;
    private final UnderlayNeighbours neighbours;

    public UnderlayArpStage(OverlayState state, OverlayMeta meta, UnderlayNeighbours neighbours) {
        this.state = state;
        this.meta = meta;
        this.neighbours = neighbours;
    }

    @Override
    public int process(Burst b) {
        OverlaySnapshot s = state.current();
        OverlayMeta m = meta;
        int acted = 0;
        for (int i = 0; i < b.count; i++) {
            if (b.next[i] != Next.CONTINUE || b.inPort[i] != s.uplinkPort || (b.flags[i] & PacketFlags.ARP) == 0
                    || b.l3Offset[i] + 28 > b.length[i]) {
                continue;
            }
            long d = b.data[i];
            long a = d + b.l3Offset[i];
            if (Mem.i32(a + 24) != s.underlayIp) {
                continue;
            }
            acted++;
            int op = Mem.u16(a + 6);
            if (Mem.i32(a) != 0x0001_0800 || Mem.u16(a + 4) != 0x0604 || (op != 1 && op != 2)) {
                m.drop(b, i, OverlayDrop.UNDERLAY_ARP_MALFORMED);
                continue;
            }
            long sha = Mem.mac(a + 8);
            int spa = Mem.i32(a + 14);
            if (spa != 0 && (sha & 0x0100_0000_0000L) == 0) {
                neighbours.update(spa, sha, m.nowNs);
            }
            if (op == 2) {
                m.drop(b, i, OverlayDrop.UNDERLAY_ARP_LEARNED);
                continue;
            }
            Mem.putMac(d, sha);
            Mem.putMac(d + 6, s.underlayMac);
            Mem.put16(a + 6, 2);
            Mem.putMac(a + 18, sha);
            Mem.put32(a + 24, spa);
            Mem.putMac(a + 8, s.underlayMac);
            Mem.put32(a + 14, s.underlayIp);
            m.arpReplies++;
            b.tx(i, s.uplinkPort);
        }
        return acted;
    }

    @Override
    public String name() { return "underlay-arp"; }
}
