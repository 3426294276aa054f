package io.sluice.dataplane.overlay;

import io.sluice.dataplane.pipeline.DropReason;

/**
 * Why the overlay stages drop a packet. Each reason is a counter in {@link OverlayMeta#drops}
 * (per worker, single writer). Until the matching constants exist in {@link DropReason}, a drop
 * also writes the closest existing generic reason into {@link io.sluice.dataplane.pipeline.Burst#dropReason}
 * ({@link #generic}); the exact constant to add there is {@link #name()} prefixed with
 * {@code OVERLAY_} (see docs/overlay.md).
 */
public enum OverlayDrop {
    NONE("none", DropReason.NONE),
    // ---- VXLAN decap ----
    VXLAN_TRUNCATED("VXLAN packet shorter than outer headers + inner Ethernet", DropReason.TRUNCATED_UDP),
    VXLAN_NOT_FOR_US("outer IPv4 destination is not our underlay address", DropReason.L2_UNKNOWN_DESTINATION),
    VXLAN_OUTER_FRAGMENT("outer IPv4 packet is a fragment", DropReason.BAD_IPV4_TOTAL_LENGTH),
    VXLAN_BAD_FLAGS("VXLAN I flag not set", DropReason.UNSUPPORTED_ETHERTYPE),
    VXLAN_UNKNOWN_VNI("VNI not configured on this host", DropReason.L2_UNKNOWN_DESTINATION),
    VXLAN_VTEP_NOT_ALLOWED("source VTEP hosts no VM of the VNI's network", DropReason.L2_UNKNOWN_DESTINATION),
    VXLAN_BAD_INNER("inner frame malformed (short IPv4/IPv6/ARP header, IP length beyond the frame)", DropReason.TRUNCATED_IPV4),
    // ---- anti-spoofing ----
    SPOOF_SRC_MAC("source MAC is not the sending VM's", DropReason.L2_UNKNOWN_DESTINATION),
    SPOOF_SRC_IP("source IP is not the sending VM's", DropReason.L2_UNKNOWN_DESTINATION),
    SPOOF_ARP("ARP sender MAC/IP is not the sending VM's (incl. gratuitous ARP for another address)", DropReason.BAD_ARP),
    SPOOF_REMOTE_SRC("inner source is not a VM of that network living behind the sending VTEP", DropReason.L2_UNKNOWN_DESTINATION),
    UNSUPPORTED_ETHERTYPE("EtherType the overlay does not carry (VLAN tag, other)", DropReason.UNSUPPORTED_ETHERTYPE),
    // ---- ARP / ND ----
    ARP_MALFORMED("ARP not Ethernet/IPv4 or op not request/reply", DropReason.BAD_ARP),
    ARP_UNKNOWN_TARGET("ARP/NS for an address that is neither a gateway nor a VM of the network", DropReason.ARP_NOT_FOR_US),
    ARP_ABSORBED("ARP reply, gratuitous ARP, unsolicited NA or DAD NS from a VM (absorbed, never flooded)", DropReason.ARP_NOT_FOR_US),
    ND_UNSUPPORTED("ICMPv6 ND message the responder does not handle (RS/RA/redirect, malformed NS)", DropReason.ARP_NOT_FOR_US),
    // ---- routing ----
    UNKNOWN_DESTINATION("destination MAC/IP is no VM of the network", DropReason.L2_UNKNOWN_DESTINATION),
    BROADCAST("broadcast/multicast that is not ARP/ND (never flooded)", DropReason.L2_UNKNOWN_DESTINATION),
    CROSS_SUBNET_L2("frame to another subnet's VM MAC without going through the gateway", DropReason.L2_UNKNOWN_DESTINATION),
    SAME_PORT("destination VM is behind the port the packet came in on", DropReason.L2_SAME_PORT),
    OVERLAY_HAIRPIN("decapsulated packet for a remote VM (never re-encapsulated)", DropReason.L2_SAME_PORT),
    TO_GATEWAY("packet to a gateway address itself other than an ICMP echo request (ARP/ND/ping are answered)", DropReason.ARP_NOT_FOR_US),
    TTL_EXPIRED("TTL/hop limit expired; ICMP time exceeded sent instead when allowed", DropReason.L2_UNKNOWN_DESTINATION),
    ICMP_SUPPRESSED("error about an ICMP error, fragment or non-unicast: no ICMP sent", DropReason.L2_UNKNOWN_DESTINATION),
    // ---- encap ----
    TOO_BIG("inner packet larger than underlay MTU - 50; ICMP frag-needed/packet-too-big sent instead", DropReason.L2_UNKNOWN_DESTINATION),
    NO_NEXT_HOP("underlay next hop MAC unknown: packet turned into an ARP request (or dropped while one is pending)", DropReason.NO_MBUF),
    // ---- underlay ----
    UNDERLAY_ARP_LEARNED("ARP reply for our underlay address: learned into the neighbour table, consumed", DropReason.ARP_NOT_FOR_US),
    UNDERLAY_ARP_MALFORMED("ARP for our underlay address not Ethernet/IPv4 or bad op", DropReason.BAD_ARP);

    public final String description;
    public final DropReason generic;

    OverlayDrop(String description, DropReason generic) {
        this.description = description;
        this.generic = generic;
    }

    private static final OverlayDrop[] VALUES = values();

    public static OverlayDrop of(int ordinal) { return VALUES[ordinal]; }
}
