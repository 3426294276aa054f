package io.sluice.dataplane.overlay;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

/**
 * Anti-spoofing: a packet enters a network only with its sender's own addresses.
 *
 * <p>From a local VM port ({@code inPort} owned by a VM): the Ethernet source must be the VM's
 * MAC; IPv4 source = the VM's IPv4; IPv6 source = the VM's IPv6, a link-local address
 * (fe80::/10) or :: (duplicate address detection); ARP sender MAC = the VM's MAC and sender IP
 * = the VM's IPv4 or 0.0.0.0 (probe) — so gratuitous ARP claiming a neighbour's address is
 * dropped. Other EtherTypes (VLAN tags, ...) are dropped. Sets the packet's zone and source VM
 * and counts rxPackets[zone].
 *
 * <p>From the overlay (zone already set by {@link VxlanDecapStage}): the inner source MAC must
 * be a VM of that network living behind the outer source VTEP
 * ({@link OverlayDrop#SPOOF_REMOTE_SRC}), then the same IP/ARP checks apply to that VM.
 *
 * <p>Packets on ports that belong to no VM (and not decapsulated) are left alone (zone 0).
 * Uses: next, inPort, data, l3Offset, etherType, flags; meta zone, srcVtep. Sets: meta zone,
 * srcVm; next/dropReason on drop.
 */
public final class AntiSpoofStage implements Stage {
    private final OverlayState state;
    private final OverlayMeta meta;

    public AntiSpoofStage(OverlayState state, OverlayMeta meta) {
        this.state = state;
        this.meta = meta;
    }

    @Override
    public int process(Burst b) {
        OverlaySnapshot s = state.current();
        OverlayMeta m = meta;
        int acted = 0;
        for (int i = 0; i < b.count; i++) {
            if (b.next[i] != Next.CONTINUE) {
                continue;
            }
            long d = b.data[i];
            int vm;
            if (m.zone[i] != 0) {
                vm = s.vmByMac(m.zone[i], Mem.mac(d + 6));
                if (vm < 0 || s.vmVtep[vm] != m.srcVtep[i]) {
                    m.drop(b, i, OverlayDrop.SPOOF_REMOTE_SRC);
                    acted++;
                    continue;
                }
            } else {
                vm = s.vmOfPort(b.inPort[i]);
                if (vm < 0) {
                    continue;
                }
                int zone = s.vmZone[vm];
                m.zone[i] = zone;
                m.rxPackets[zone]++;
                if (Mem.mac(d + 6) != s.vmMac[vm]) {
                    m.drop(b, i, OverlayDrop.SPOOF_SRC_MAC);
                    acted++;
                    continue;
                }
            }
            acted++;
            m.srcVm[i] = vm;
            int flags = b.flags[i];
            long l3 = d + b.l3Offset[i];
            if ((flags & PacketFlags.VLAN) != 0) {
                m.drop(b, i, OverlayDrop.UNSUPPORTED_ETHERTYPE);
            } else if ((flags & PacketFlags.IPV4) != 0) {
                if (Mem.i32(l3 + 12) != s.vmIp4[vm]) {
                    m.drop(b, i, OverlayDrop.SPOOF_SRC_IP);
                }
            } else if ((flags & PacketFlags.IPV6) != 0) {
                long hi = Mem.i64(l3 + 8);
                long lo = Mem.i64(l3 + 16);
                boolean own = s.vmHas6[vm] && hi == s.vmIp6Hi[vm] && lo == s.vmIp6Lo[vm];
                boolean linkLocal = (hi >>> 54) == (0xFE80L >>> 6);
                boolean unspecified = hi == 0 && lo == 0;
                if (!own && !linkLocal && !unspecified) {
                    m.drop(b, i, OverlayDrop.SPOOF_SRC_IP);
                }
            } else if ((flags & PacketFlags.ARP) != 0) {
                int spa = Mem.i32(l3 + 14);
                if (Mem.mac(l3 + 8) != s.vmMac[vm] || (spa != s.vmIp4[vm] && spa != 0)) {
                    m.drop(b, i, OverlayDrop.SPOOF_ARP);
                }
            } else {
                m.drop(b, i, OverlayDrop.UNSUPPORTED_ETHERTYPE);
            }
        }
        return acted;
    }

    @Override
    public String name() { return "anti-spoof"; }
}
