package io.sluice.dataplane.overlay;

import io.sluice.dataplane.pipeline.DropReason;

/**
 * Why the overlay stages drop a packet. Each reason is a counter in {@link OverlayMeta#drops}
 * (per worker, single writer) and, through {@link #dropReason} ({@code OVERLAY_<name>}, written
 * into {@link io.sluice.dataplane.pipeline.Burst#dropReason}), a per-port drop counter of the
 * worker (see docs/counters.md).
 */
public enum OverlayDrop {
    NONE("none"),
    // ---- VXLAN decap ----
    VXLAN_TRUNCATED("VXLAN packet shorter than outer headers + inner Ethernet"),
    VXLAN_NOT_FOR_US("outer IPv4 destination is not our underlay address"),
    VXLAN_OUTER_FRAGMENT("outer IPv4 packet is a fragment"),
    VXLAN_BAD_FLAGS("VXLAN I flag not set"),
    VXLAN_UNKNOWN_VNI("VNI not configured on this host"),
    VXLAN_VTEP_NOT_ALLOWED("source VTEP hosts no VM of the VNI's network"),
    VXLAN_BAD_INNER("inner frame malformed (short IPv4/IPv6/ARP header, IP length beyond the frame)"),
    // ---- anti-spoofing ----
    SPOOF_SRC_MAC("source MAC is not the sending VM's"),
    SPOOF_SRC_IP("source IP is not the sending VM's"),
    SPOOF_ARP("ARP sender MAC/IP is not the sending VM's (incl. gratuitous ARP for another address)"),
    SPOOF_REMOTE_SRC("inner source is not a VM of that network living behind the sending VTEP"),
    UNSUPPORTED_ETHERTYPE("EtherType the overlay does not carry (VLAN tag, other)"),
    // ---- ARP / ND ----
    ARP_MALFORMED("ARP not Ethernet/IPv4 or op not request/reply"),
    ARP_UNKNOWN_TARGET("ARP/NS for an address that is neither a gateway nor a VM of the network"),
    ARP_ABSORBED("ARP reply, gratuitous ARP, unsolicited NA or DAD NS from a VM (absorbed, never flooded)"),
    ND_UNSUPPORTED("ICMPv6 ND message the responder does not handle (RS/RA/redirect, malformed NS)"),
    // ---- routing ----
    UNKNOWN_DESTINATION("destination MAC/IP is no VM of the network"),
    BROADCAST("broadcast/multicast that is not ARP/ND (never flooded)"),
    CROSS_SUBNET_L2("frame to another subnet's VM MAC without going through the gateway"),
    SAME_PORT("destination VM is behind the port the packet came in on"),
    OVERLAY_HAIRPIN("decapsulated packet for a remote VM (never re-encapsulated)"),
    TO_GATEWAY("packet to a gateway address itself other than an ICMP echo request (ARP/ND/ping are answered)"),
    TTL_EXPIRED("TTL/hop limit expired; ICMP time exceeded sent instead when allowed"),
    ICMP_SUPPRESSED("error about an ICMP error, fragment or non-unicast: no ICMP sent"),
    // ---- encap ----
    TOO_BIG("inner packet larger than underlay MTU - 50; ICMP frag-needed/packet-too-big sent instead"),
    NO_NEXT_HOP("underlay next hop MAC unknown: packet turned into an ARP request (or dropped while one is pending)"),
    // ---- underlay ----
    UNDERLAY_ARP_LEARNED("ARP reply for our underlay address: learned into the neighbour table, consumed"),
    UNDERLAY_ARP_MALFORMED("ARP for our underlay address not Ethernet/IPv4 or bad op"),
    // ---- VXLAN decap of a multi-segment packet (docs/vms.md) ----
    VXLAN_INNER_SPANS_SEGMENTS("multi-segment VXLAN packet whose inner headers (or inner ICMP message) are not all in the first segment");

    public final String description;
    /** The {@link DropReason} a drop carries (and the worker counts per in-port): {@code OVERLAY_<name>}. */
    public final DropReason dropReason;

    OverlayDrop(String description) {
        this.description = description;
        this.dropReason = name().equals("NONE") ? DropReason.NONE
                : DropReason.valueOf(name().startsWith("OVERLAY_") ? name() : "OVERLAY_" + name());
    }

    private static final OverlayDrop[] VALUES = values();

    public static OverlayDrop of(int ordinal) { return VALUES[ordinal]; }
}
