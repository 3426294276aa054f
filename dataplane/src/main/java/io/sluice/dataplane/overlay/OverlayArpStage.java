package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

/**
 * Answers ARP and IPv6 neighbour solicitation inside a network, locally: nothing is flooded.
 *
 * <p>ARP request (zone ≠ 0) for a subnet gateway → reply with the router MAC; for a VM of the
 * same subnet as the sender → reply with that VM's MAC. The reply is written in place over the
 * request and sent back to the sender (its port, or encapsulated to its VTEP). Gratuitous ARP
 * (sender IP = target IP) and ARP replies are absorbed ({@link OverlayDrop#ARP_ABSORBED});
 * unknown targets are dropped ({@link OverlayDrop#ARP_UNKNOWN_TARGET}).
 *
 * <p>ICMPv6 neighbour solicitation (type 135) for a gateway's or same-subnet VM's IPv6 →
 * neighbour advertisement (type 136, Router flag for gateways, Solicited, Override, target
 * link-layer address option), written in place (the frame becomes 86 bytes: needs tailroom
 * when the NS had no option, which mbufs have). NS from :: (DAD) and unsolicited NA are
 * absorbed; RS/RA/redirect are dropped ({@link OverlayDrop#ND_UNSUPPORTED}). Other ICMPv6
 * (echo, ...) continues.
 *
 * <p>Uses: next, data, length, l3Offset, l4Offset, ipProto, flags; meta zone, srcVm, srcVtep.
 * Sets: data bytes, length, next/outPort (TX to the sender's port) or meta encapVtep.
 */
public final class OverlayArpStage implements Stage {
    private final OverlayState state;
    private final OverlayMeta meta;

    public OverlayArpStage(OverlayState state, OverlayMeta meta) {
        this.state = state;
        this.meta = meta;
    }

    @Override
    public int process(Burst b) {
        OverlaySnapshot s = state.current();
        OverlayMeta m = meta;
        int acted = 0;
        for (int i = 0; i < b.count; i++) {
            if (b.next[i] != Next.CONTINUE || m.zone[i] == 0 || m.encapVtep[i] != 0) {
                continue;
            }
            int flags = b.flags[i];
            if ((flags & PacketFlags.ARP) != 0) {
                acted++;
                arp(b, i, s, m);
            } else if ((flags & PacketFlags.ICMPV6) != 0 && b.l4Offset[i] >= 0) {
                int type = Mem.u8(b.data[i] + b.l4Offset[i]);
                if (type >= 133 && type <= 137) {
                    acted++;
                    nd(b, i, s, m, type);
                }
            }
        }
        return acted;
    }

    private static void arp(Burst b, int i, OverlaySnapshot s, OverlayMeta m) {
        long d = b.data[i];
        long a = d + b.l3Offset[i];
        if (Mem.u16(a) != 1 || Mem.u16(a + 2) != Net.ETHERTYPE_IPV4 || Mem.u8(a + 4) != 6 || Mem.u8(a + 5) != 4) {
            m.drop(b, i, OverlayDrop.ARP_MALFORMED);
            return;
        }
        int op = Mem.u16(a + 6);
        if (op == 2) {
            m.drop(b, i, OverlayDrop.ARP_ABSORBED);
            return;
        }
        if (op != 1) {
            m.drop(b, i, OverlayDrop.ARP_MALFORMED);
            return;
        }
        int zone = m.zone[i];
        int spa = Mem.i32(a + 14);
        int tpa = Mem.i32(a + 24);
        if (spa == tpa) {
            m.drop(b, i, OverlayDrop.ARP_ABSORBED);
            return;
        }
        long answer;
        int srcSubnet = s.vmSubnet[m.srcVm[i]];
        int gw = s.gatewayByIp4(zone, tpa);
        if (gw >= 0 && gw == srcSubnet) {
            answer = s.routerMac;
        } else {
            int vm = s.vmByIp4(zone, tpa);
            if (vm < 0 || s.vmSubnet[vm] != srcSubnet || vm == m.srcVm[i]) {
                m.drop(b, i, OverlayDrop.ARP_UNKNOWN_TARGET);
                return;
            }
            answer = s.vmMac[vm];
        }
        long sha = Mem.mac(a + 8);
        Mem.putMac(d, sha);
        Mem.putMac(d + 6, answer);
        Mem.put16(a + 6, 2);
        Mem.putMac(a + 18, sha);
        Mem.put32(a + 24, spa);
        Mem.putMac(a + 8, answer);
        Mem.put32(a + 14, tpa);
        m.arpReplies++;
        Reply.toSender(b, i, s, m);
    }

    private static void nd(Burst b, int i, OverlaySnapshot s, OverlayMeta m, int type) {
        long d = b.data[i];
        long ip = d + b.l3Offset[i];
        long icmp = d + b.l4Offset[i];
        if (type == 136) {
            m.drop(b, i, OverlayDrop.ARP_ABSORBED);
            return;
        }
        if (type != 135 || b.l4Offset[i] != b.l3Offset[i] + 40 || Mem.u16(ip + 4) < 24 || Mem.u8(ip + 7) != 255) {
            m.drop(b, i, OverlayDrop.ND_UNSUPPORTED);
            return;
        }
        long srcHi = Mem.i64(ip + 8);
        long srcLo = Mem.i64(ip + 16);
        if (srcHi == 0 && srcLo == 0) {
            m.drop(b, i, OverlayDrop.ARP_ABSORBED); // duplicate address detection
            return;
        }
        int zone = m.zone[i];
        long tHi = Mem.i64(icmp + 8);
        long tLo = Mem.i64(icmp + 16);
        int srcSubnet = s.vmSubnet[m.srcVm[i]];
        long answer;
        boolean router;
        int gw = s.gatewayByIp6(zone, tHi, tLo);
        if (gw >= 0 && gw == srcSubnet) {
            answer = s.routerMac;
            router = true;
        } else {
            int vm = s.vmByIp6(zone, tHi, tLo);
            if (vm < 0 || s.vmSubnet[vm] != srcSubnet || vm == m.srcVm[i]) {
                m.drop(b, i, OverlayDrop.ARP_UNKNOWN_TARGET);
                return;
            }
            answer = s.vmMac[vm];
            router = false;
        }
        long requester = Mem.mac(d + 6);
        Mem.putMac(d, requester);
        Mem.putMac(d + 6, answer);
        // IPv6 header: payload 32, next header 58, hop limit 255, src = target, dst = NS source
        Mem.put16(ip + 4, 32);
        Mem.put8(ip + 6, 58);
        Mem.put8(ip + 7, 255);
        Mem.put32(ip + 8, (int) (tHi >>> 32));
        Mem.put32(ip + 12, (int) tHi);
        Mem.put32(ip + 16, (int) (tLo >>> 32));
        Mem.put32(ip + 20, (int) tLo);
        Mem.put32(ip + 24, (int) (srcHi >>> 32));
        Mem.put32(ip + 28, (int) srcHi);
        Mem.put32(ip + 32, (int) (srcLo >>> 32));
        Mem.put32(ip + 36, (int) srcLo);
        // NA: type, code, checksum, flags R|S|O, target (unchanged), option 2 (target LL address)
        Mem.put8(icmp, 136);
        Mem.put8(icmp + 1, 0);
        Mem.put16(icmp + 2, 0);
        Mem.put32(icmp + 4, (router ? 0x8000_0000 : 0) | 0x6000_0000);
        Mem.put8(icmp + 24, 2);
        Mem.put8(icmp + 25, 1);
        Mem.putMac(icmp + 26, answer);
        Mem.put16(icmp + 2, Net.fold(Net.sum16(icmp, 32, Net.ipv6PseudoSum(ip, 32, 58))));
        b.rewritten(i, b.l4Offset[i] + 32);
        m.ndReplies++;
        Reply.toSender(b, i, s, m);
    }

    @Override
    public String name() { return "overlay-arp"; }
}
