package io.sluice.dataplane.pipeline;

/**
 * Why a packet was dropped. Every reason is a counter (per port, see
 * {@link io.sluice.dataplane.counters.Counters}). Append new reasons at the end: the ordinal
 * is stored in {@link Burst#dropReason} and in counter ids. Keep {@code docs/counters.md} in step.
 */
public enum DropReason {
    NONE("none"),
    // ---- parser ----
    TRUNCATED_ETHERNET("frame shorter than an Ethernet header"),
    TRUNCATED_VLAN("frame ends inside an 802.1Q/802.1ad tag"),
    TRUNCATED_ARP("ARP shorter than 28 bytes"),
    BAD_ARP("ARP not Ethernet/IPv4 (htype, ptype, hlen, plen) or opcode not request/reply"),
    TRUNCATED_IPV4("frame ends inside the 20-byte IPv4 header"),
    BAD_IPV4_VERSION("IPv4 EtherType but version != 4"),
    BAD_IPV4_IHL("IPv4 IHL < 5, or header longer than the total length"),
    BAD_IPV4_TOTAL_LENGTH("IPv4 total length < 20 or > frame"),
    TRUNCATED_IPV6("frame ends inside the 40-byte IPv6 header"),
    BAD_IPV6_VERSION("IPv6 EtherType but version != 6"),
    BAD_IPV6_PAYLOAD_LENGTH("IPv6 40 + payload length > frame"),
    TRUNCATED_IPV6_EXT("IPv6 extension header cut short (beyond the payload length)"),
    IPV6_EXT_CHAIN_TOO_LONG("more IPv6 extension headers than the parser walks"),
    TRUNCATED_TCP("IP payload shorter than a 20-byte TCP header"),
    BAD_TCP_DATA_OFFSET("TCP data offset < 5 or beyond the IP payload"),
    TRUNCATED_UDP("IP payload shorter than an 8-byte UDP header"),
    BAD_UDP_LENGTH("UDP length < 8 or > IP payload"),
    TRUNCATED_ICMP("IP payload shorter than an 8-byte ICMP header"),
    TRUNCATED_ICMPV6("IPv6 payload shorter than an 8-byte ICMPv6 header"),
    UNSUPPORTED_ETHERTYPE("EtherType other than ARP, IPv4, IPv6 (after VLAN tags)"),
    // ---- forwarding ----
    L2_UNKNOWN_DESTINATION("destination MAC not in the MAC table"),
    L2_SAME_PORT("destination MAC is on the port the frame came in on"),
    ARP_NOT_FOR_US("broadcast ARP request for an address not configured"),
    TX_FULL("tx queue full (link could not take the burst)"),
    NO_MBUF("no mbuf available for a generated packet"),
    // ---- worker (io.sluice.dataplane.agent.Worker) ----
    NO_VERDICT("no stage decided the packet's fate (still CONTINUE after the last stage)"),
    BAD_OUT_PORT("a stage chose an out port that does not exist"),
    // ---- added with the parser and L2 stages (appended: ordinals are stable) ----
    FRAME_TOO_LONG("first segment longer than 32767 bytes (offsets are 15-bit), or a multi-segment frame longer than 65597"),
    TOO_MANY_VLAN_TAGS("more than two stacked VLAN tags (802.1Q / QinQ)"),
    BAD_IPV6_EXT_ORDER("IPv6 hop-by-hop options header not directly after the IPv6 header"),
    L2_BROADCAST("broadcast frame that is not ARP (no flooding with a static MAC table)"),
    L2_MULTICAST("multicast destination MAC (no flooding with a static MAC table)"),
    // ---- overlay (io.sluice.dataplane.overlay, one per OverlayDrop; docs/overlay.md) ----
    OVERLAY_VXLAN_TRUNCATED("VXLAN packet shorter than outer headers + inner Ethernet"),
    OVERLAY_VXLAN_NOT_FOR_US("outer IPv4 destination is not our underlay address"),
    OVERLAY_VXLAN_OUTER_FRAGMENT("outer IPv4 packet is a fragment"),
    OVERLAY_VXLAN_BAD_FLAGS("VXLAN I flag not set"),
    OVERLAY_VXLAN_UNKNOWN_VNI("VNI not configured on this host"),
    OVERLAY_VXLAN_VTEP_NOT_ALLOWED("source VTEP hosts no VM of the VNI's network"),
    OVERLAY_VXLAN_BAD_INNER("inner frame malformed (short IPv4/IPv6/ARP header, IP length beyond the frame)"),
    OVERLAY_SPOOF_SRC_MAC("source MAC is not the sending VM's"),
    OVERLAY_SPOOF_SRC_IP("source IP is not the sending VM's"),
    OVERLAY_SPOOF_ARP("ARP sender MAC/IP is not the sending VM's (incl. gratuitous ARP for another address)"),
    OVERLAY_SPOOF_REMOTE_SRC("inner source is not a VM of that network living behind the sending VTEP"),
    OVERLAY_UNSUPPORTED_ETHERTYPE("EtherType the overlay does not carry (VLAN tag, other)"),
    OVERLAY_ARP_MALFORMED("ARP not Ethernet/IPv4 or op not request/reply"),
    OVERLAY_ARP_UNKNOWN_TARGET("ARP/NS for an address that is neither a gateway nor a VM of the network"),
    OVERLAY_ARP_ABSORBED("ARP reply, gratuitous ARP, unsolicited NA or DAD NS from a VM (absorbed, never flooded)"),
    OVERLAY_ND_UNSUPPORTED("ICMPv6 ND message the responder does not handle (RS/RA/redirect, malformed NS)"),
    OVERLAY_UNKNOWN_DESTINATION("destination MAC/IP is no VM of the network"),
    OVERLAY_BROADCAST("broadcast/multicast that is not ARP/ND (never flooded)"),
    OVERLAY_CROSS_SUBNET_L2("frame to another subnet's VM MAC without going through the gateway"),
    OVERLAY_SAME_PORT("destination VM is behind the port the packet came in on"),
    OVERLAY_HAIRPIN("decapsulated packet for a remote VM (never re-encapsulated)"),
    OVERLAY_TO_GATEWAY("packet to a gateway address itself other than an ICMP echo request (ARP/ND/ping are answered)"),
    OVERLAY_TTL_EXPIRED("TTL/hop limit expired; ICMP time exceeded sent instead when allowed"),
    OVERLAY_ICMP_SUPPRESSED("error about an ICMP error, fragment or non-unicast: no ICMP sent"),
    OVERLAY_TOO_BIG("inner packet larger than underlay MTU - 50; ICMP frag-needed/packet-too-big sent instead"),
    OVERLAY_NO_NEXT_HOP("underlay next hop MAC unknown: packet turned into an ARP request (or dropped while one is pending)"),
    OVERLAY_UNDERLAY_ARP_LEARNED("ARP reply for our underlay address: learned into the neighbour table, consumed"),
    OVERLAY_UNDERLAY_ARP_MALFORMED("ARP for our underlay address not Ethernet/IPv4 or bad op"),
    OVERLAY_NOT_OVERLAY("packet the overlay pipeline has no use for: non-VXLAN uplink traffic not for our underlay address, or a port with no VM"),
    // ---- worker tx (frame moved by a stage) ----
    TX_FRAME_OUTSIDE_BUFFER("a stage moved or grew the frame beyond its mbuf's buffer"),
    // ---- security groups / conntrack ----
    FW_NO_RULE("security groups: new connection that no rule of its direction allows"),
    FW_INVALID("conntrack: packet fits no tracked connection and cannot start one (bad flags, out of window, forged ICMP error)"),
    FW_LIMIT("conntrack: new connection refused by the per-VM, host or table limit"),
    FW_PLATFORM("security groups: denied by the platform layer (e.g. outbound TCP 25)"),
    FW_CUT("security groups: tracked connection cut after a rule change (group setting on-rule-change: cut)"),
    FW_FRAGMENT_UNKNOWN("firewall: later IP fragment whose first fragment was not seen, was dropped or is older than the fragment timeout"),
    FW_FRAGMENT_OVERLAP("firewall: IP fragment that would overwrite the L4 header (TCP offset 1, RFC 1858; offset inside the first fragment's L4 header)"),
    FW_FRAGMENT_TABLE_FULL("firewall: first IP fragment refused because the worker's fragment table is full (max-fragment-datagrams)"),
    // ---- shard hand-off between workers ----
    HANDOFF_FULL("hand-off ring to the owning worker is full"),
    // ---- NAT and the external network (docs/nat.md) ----
    NAT_NO_PUBLIC_ACCESS("NAT: a purely private VM's packet to a destination outside its project's network"),
    NAT_NOT_OURS("external port: packet that is not IPv4/ARP (or IPv6 with gateway6), is VLAN-tagged, or is for an address this host does not own"),
    NAT_NO_MAPPING("external port: packet to an unassigned floating IP or to a SNAT address/port with no binding (or a later fragment whose first was not translated), or reply through the wrong address"),
    NAT_UNSOLICITED("NAT: new inbound connection to a SNAT address (outbound-only VMs cannot be reached)"),
    NAT_EXHAUSTED("NAT: new outbound connection of a VM whose SNAT port blocks are full and at its block limit"),
    NAT_STALE("NAT: connection through a floating IP the VM no longer holds (OSSN-0020): cut"),
    NAT_UNSUPPORTED("NAT: outbound later fragment of an untranslated datagram, a protocol without ports through SNAT, an ICMP error that cannot be translated, or a source address we do not own about to leave"),
    NAT_TTL_EXPIRED("external port: packet to a floating IP/SNAT address with TTL <= 1"),
    NAT_ARP("external port: ARP consumed (gateway's reply learned) or not for an address this host owns"),
    NAT_NO_GATEWAY("NAT: gateway MAC unknown; packet turned into an ARP request / IPv6 neighbour solicitation (or dropped while one is pending)"),
    NAT_ND("external port: IPv6 neighbour discovery consumed (the gateway's learned) or not for an address this host answers for"),
    // ---- multi-segment packets and offloads (docs/vms.md) ----
    HEADERS_SPAN_SEGMENTS("multi-segment frame whose headers (Ethernet, VLAN, IP, TCP/UDP, or a whole ICMP message) are not all in the first segment"),
    TX_CHAIN_UNSUPPORTED("multi-segment frame to a port that takes no chains and too long to copy into one mbuf"),
    OVERLAY_VXLAN_INNER_SPANS_SEGMENTS("multi-segment VXLAN packet whose inner headers (or inner ICMP message) are not all in the first segment"),
    TX_OFFLOAD_UNSUPPORTED("GSO/partial-checksum frame the software offload cannot finish (not TCP/UDP over IPv4/IPv6, MSS 0, or no mbufs for its segments)");

    private final String description;

    DropReason(String description) { this.description = description; }

    public String description() { return description; }

    private static final DropReason[] VALUES = values();

    public static DropReason of(int ordinal) { return VALUES[ordinal]; }
}
