package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

/**
 * Forwarding inside a network ({@link Forwarding#decide}): never across networks.
 *
 * <ul>
 * <li>Destination MAC = a VM of the sender's subnet: L2, frame unchanged.</li>
 * <li>Destination MAC = router MAC: L3 to the VM owning the destination IPv4/IPv6 in the same
 *     network (any subnet): TTL / hop limit decremented (IPv4 checksum updated incrementally,
 *     RFC 1624), source MAC = router MAC, destination MAC = the VM's. TTL/hop limit ≤ 1 → the
 *     packet is replaced by ICMP time exceeded back to the sender (counted as
 *     {@link OverlayDrop#TTL_EXPIRED}, or dropped with {@link OverlayDrop#ICMP_SUPPRESSED}).</li>
 * <li>Delivery: a local VM → {@code TX} on its port (not the port it came in on); a remote VM →
 *     meta encapVtep = its VTEP, outPort = uplink, next stays {@code CONTINUE} for
 *     {@link VxlanEncapStage}; a decapsulated packet for a remote VM is dropped (no hairpin).</li>
 * <li>ICMP / ICMPv6 echo requests to a gateway address of the network are answered in place
 *     (ping the gateway); any other packet to a gateway address is dropped
 *     ({@link OverlayDrop#TO_GATEWAY}), as are broadcast/multicast and unknown destinations.</li>
 * </ul>
 *
 * <p>Skips packets with zone 0 or already given an encapVtep (ARP/ND replies). Uses: next,
 * inPort, data, l3Offset, etherType; meta zone, srcVm, srcVtep. Sets: data bytes (MACs,
 * TTL, checksum), next/outPort, meta encapVtep, meta txPackets[zone].
 */
public final class RouteStage implements Stage {
    private final OverlayState state;
    private final OverlayMeta meta;
    /** With an external network: the NAT's counters (private VMs' drops per VM); null otherwise. */
    private final io.sluice.dataplane.nat.NatState nat;

    public RouteStage(OverlayState state, OverlayMeta meta) {
        this(state, meta, null);
    }

    /**
     * With an external network ({@code nat} not null): an IPv4 packet to the router MAC whose
     * destination is outside the sender's network leaves the project — TTL - 1, source MAC = the
     * external MAC, {@code TX} on the external port (the firewall, the translation and the gateway's
     * MAC follow, docs/nat.md) — when the VM has public access; a purely private VM's is dropped
     * ({@link io.sluice.dataplane.pipeline.DropReason#NAT_NO_PUBLIC_ACCESS}, counted per VM).
     */
    public RouteStage(OverlayState state, OverlayMeta meta, io.sluice.dataplane.nat.NatState nat) {
        this.state = state;
        this.meta = meta;
        this.nat = nat;
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
            acted++;
            long d = b.data[i];
            long ip = d + b.l3Offset[i];
            int et = b.etherType[i] & 0xFFFF;
            long dstMac = Mem.mac(d);
            int dst4 = 0;
            long dst6Hi = 0;
            long dst6Lo = 0;
            if (et == Net.ETHERTYPE_IPV4) {
                dst4 = Mem.i32(ip + 16);
            } else if (et == Net.ETHERTYPE_IPV6) {
                dst6Hi = Mem.i64(ip + 24);
                dst6Lo = Mem.i64(ip + 32);
            }
            int zone = m.zone[i];
            int vm = Forwarding.decide(s, zone, m.srcVm[i], dstMac, et, dst4, dst6Hi, dst6Lo);
            if (vm < 0) {
                if (vm == -OverlayDrop.TO_GATEWAY.ordinal() && echoReply(b, i, s, m, et)) {
                    continue;
                }
                if (nat != null && vm == -OverlayDrop.UNKNOWN_DESTINATION.ordinal() && dstMac == s.routerMac
                        && et == Net.ETHERTYPE_IPV4 && ((dst4 ^ s.zoneCidr[zone]) & s.zoneMask[zone]) != 0) {
                    leave(b, i, s, m, ip);
                    continue;
                }
                if (nat != null && s.extHas6 && vm == -OverlayDrop.UNKNOWN_DESTINATION.ordinal() && dstMac == s.routerMac
                        && et == Net.ETHERTYPE_IPV6 && OverlaySnapshot.global6(dst6Hi) && !s.inZone6(zone, dst6Hi, dst6Lo)) {
                    leave6(b, i, s, m, ip);
                    continue;
                }
                m.drop(b, i, OverlayDrop.of(-vm));
                continue;
            }
            if (dstMac == s.routerMac) {
                if (et == Net.ETHERTYPE_IPV4) {
                    if (!ttl4(b, i, s, m, ip)) {
                        continue;
                    }
                } else {
                    int hop = Mem.u8(ip + 7);
                    if (hop <= 1) {
                        expired(b, i, s, m, true);
                        continue;
                    }
                    Mem.put8(ip + 7, hop - 1);
                }
                Mem.putMac(d, s.vmMac[vm]);
                Mem.putMac(d + 6, s.routerMac);
            }
            int port = s.vmPort[vm];
            if (port >= 0) {
                if (port == b.inPort[i]) {
                    m.drop(b, i, OverlayDrop.SAME_PORT);
                    continue;
                }
                b.tx(i, port);
                m.txPackets[zone]++;
            } else if (m.srcVtep[i] != 0) {
                m.drop(b, i, OverlayDrop.OVERLAY_HAIRPIN);
            } else {
                m.encapVtep[i] = s.vmVtep[vm];
                b.outPort[i] = s.uplinkPort;
            }
        }
        return acted;
    }

    /** A packet to outside the project: to the external port when the VM has public access (see the constructor). */
    private void leave(Burst b, int i, OverlaySnapshot s, OverlayMeta m, long ip) {
        int src = m.srcVm[i];
        if (src < 0 || m.srcVtep[i] != 0 || s.vmAccess[src] == OverlayModel.Access.PRIVATE.ordinal()) {
            if (src >= 0) nat.countNoPublicAccess(s.vmSlot[src]);
            nat.drop(b, i, io.sluice.dataplane.pipeline.DropReason.NAT_NO_PUBLIC_ACCESS);
            return;
        }
        if (!ttl4(b, i, s, m, ip)) {
            return;
        }
        Mem.putMac(b.data[i] + 6, s.extMac);
        b.tx(i, s.extPort);
    }

    /**
     * IPv6 to a global address outside the project (the external network has a {@code gateway6}): no
     * NAT, the VM's own global address leaves as it is (docs/nat.md, "IPv6") — when the VM has public
     * access and sends from its global address; otherwise {@code NAT_NO_PUBLIC_ACCESS}, counted per VM.
     */
    private void leave6(Burst b, int i, OverlaySnapshot s, OverlayMeta m, long ip) {
        int src = m.srcVm[i];
        if (src < 0 || m.srcVtep[i] != 0 || s.vmAccess[src] == OverlayModel.Access.PRIVATE.ordinal()
                || !OverlaySnapshot.global6(Mem.i64(ip + 8))) {
            if (src >= 0) nat.countNoPublicAccess(s.vmSlot[src]);
            nat.drop(b, i, io.sluice.dataplane.pipeline.DropReason.NAT_NO_PUBLIC_ACCESS);
            return;
        }
        int hop = Mem.u8(ip + 7);
        if (hop <= 1) {
            expired(b, i, s, m, true);
            return;
        }
        Mem.put8(ip + 7, hop - 1);
        Mem.putMac(b.data[i] + 6, s.extMac);
        b.tx(i, s.extPort);
    }

    /** IPv4 TTL - 1 with the header checksum; false when it expired (the packet became time exceeded or was dropped). */
    private static boolean ttl4(Burst b, int i, OverlaySnapshot s, OverlayMeta m, long ip) {
        int word = Mem.u16(ip + 8);
        if ((word >>> 8) <= 1) {
            expired(b, i, s, m, false);
            return false;
        }
        Mem.put16(ip + 8, word - 0x100);
        Mem.put16(ip + 10, Net.updateChecksum(Mem.u16(ip + 10), word, word - 0x100));
        return true;
    }

    /**
     * Answers an ICMP echo request (IPv4 type 8, ICMPv6 type 128) addressed to a gateway of the
     * network, in place: addresses swapped, TTL/hop limit 64, type 0/129, checksums updated
     * (the pseudo-header sum does not change when source and destination swap).
     */
    private static boolean echoReply(Burst b, int i, OverlaySnapshot s, OverlayMeta m, int et) {
        int l4 = b.l4Offset[i];
        if (l4 < 0 || (b.flags[i] & (PacketFlags.ICMP | PacketFlags.ICMPV6)) == 0
                || (b.flags[i] & PacketFlags.FRAGMENT) != 0) {
            return false;
        }
        long d = b.data[i];
        long ip = d + b.l3Offset[i];
        long icmp = d + l4;
        int type = Mem.u8(icmp);
        if (et == Net.ETHERTYPE_IPV4 && type == 8) {
            int src = Mem.i32(ip + 12);
            Mem.put32(ip + 12, Mem.i32(ip + 16));
            Mem.put32(ip + 16, src);
            Mem.put8(ip + 8, 64);
            Mem.put16(ip + 10, 0);
            Mem.put16(ip + 10, Net.checksum(ip, (Mem.u8(ip) & 0xF) * 4));
            int word = Mem.u16(icmp);
            Mem.put8(icmp, 0);
            Mem.put16(icmp + 2, Net.updateChecksum(Mem.u16(icmp + 2), word, word & 0xFF));
        } else if (et == Net.ETHERTYPE_IPV6 && type == 128 && l4 == b.l3Offset[i] + 40) {
            long hi = Mem.i64(ip + 8);
            long lo = Mem.i64(ip + 16);
            IcmpErrors.putIp6(ip + 8, Mem.i64(ip + 24), Mem.i64(ip + 32));
            IcmpErrors.putIp6(ip + 24, hi, lo);
            Mem.put8(ip + 7, 64);
            int word = Mem.u16(icmp);
            Mem.put8(icmp, 129);
            Mem.put16(icmp + 2, Net.updateChecksum(Mem.u16(icmp + 2), word, (129 << 8) | (word & 0xFF)));
        } else {
            return false;
        }
        Mem.putMac(d, Mem.mac(d + 6));
        Mem.putMac(d + 6, s.routerMac);
        m.icmpEchoReplies++;
        Reply.toSender(b, i, s, m);
        return true;
    }

    private static void expired(Burst b, int i, OverlaySnapshot s, OverlayMeta m, boolean v6) {
        boolean built = v6
                ? IcmpErrors.ipv6(b, i, s, m.srcVm[i], IcmpErrors.V6_TIME_EXCEEDED, 0)
                : IcmpErrors.ipv4(b, i, s, m.srcVm[i], IcmpErrors.V4_TIME_EXCEEDED, 0, 0);
        if (!built) {
            m.drop(b, i, OverlayDrop.ICMP_SUPPRESSED);
            return;
        }
        m.drops[OverlayDrop.TTL_EXPIRED.ordinal()]++;
        m.icmpErrors++;
        Reply.toSender(b, i, s, m);
    }

    @Override
    public String name() { return "overlay-route"; }
}
