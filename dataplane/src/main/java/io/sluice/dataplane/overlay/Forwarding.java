package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
/**
 * The overlay forwarding decision as a pure function of the snapshot, shared by
 * {@link RouteStage} and the property tests. Allocation-free.
 *
 * <p>Result: a VM index (≥ 0) to deliver to, or {@code -ordinal} of an {@link OverlayDrop}.
 * A result VM always belongs to {@code zone}: lookups are keyed by zone, so nothing crosses
 * networks.
 */
public final class Forwarding {
    private Forwarding() {}

    /**
     * @param zone    the packet's network (≥ 1)
     * @param srcVm   the sending VM (≥ 0)
     * @param dstMac  inner destination MAC
     * @param etherType inner EtherType
     * @param dstIp4  IPv4 destination (when etherType is IPv4)
     * @param dst6Hi  IPv6 destination high half (when IPv6)
     * @param dst6Lo  IPv6 destination low half
     */
    public static int decide(OverlaySnapshot s, int zone, int srcVm, long dstMac, int etherType,
                             int dstIp4, long dst6Hi, long dst6Lo) {
        if ((dstMac & 0x0100_0000_0000L) != 0) {
            return -OverlayDrop.BROADCAST.ordinal();
        }
        if (dstMac == s.routerMac) {
            int vm;
            if (etherType == Net.ETHERTYPE_IPV4) {
                if (s.gatewayByIp4(zone, dstIp4) >= 0) {
                    return -OverlayDrop.TO_GATEWAY.ordinal();
                }
                vm = s.vmByIp4(zone, dstIp4);
            } else if (etherType == Net.ETHERTYPE_IPV6) {
                if (s.gatewayByIp6(zone, dst6Hi, dst6Lo) >= 0) {
                    return -OverlayDrop.TO_GATEWAY.ordinal();
                }
                vm = s.vmByIp6(zone, dst6Hi, dst6Lo);
            } else {
                return -OverlayDrop.UNSUPPORTED_ETHERTYPE.ordinal();
            }
            return vm >= 0 ? vm : -OverlayDrop.UNKNOWN_DESTINATION.ordinal();
        }
        int vm = s.vmByMac(zone, dstMac);
        if (vm < 0) {
            return -OverlayDrop.UNKNOWN_DESTINATION.ordinal();
        }
        if (s.vmSubnet[vm] != s.vmSubnet[srcVm]) {
            return -OverlayDrop.CROSS_SUBNET_L2.ordinal();
        }
        return vm;
    }
}
