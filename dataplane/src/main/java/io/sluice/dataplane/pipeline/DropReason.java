package io.sluice.dataplane.pipeline;

/**
 * Why a packet was dropped. Every reason is a counter (per port, see
 * {@link io.sluice.dataplane.counters.Counters}), labelled by the reason's name. The ordinal is
 * stored in {@link Burst#dropReason} and indexes per-worker counter slots; it is never persisted
 * (the counters file carries labels), so reasons are grouped by the stage that sets them. Keep
 * {@code NONE} first and {@code docs/counters.md} in step.
 */
public enum DropReason {
    NONE("none"),
    // ---- parser ----
    TRUNCATED_ETHERNET("frame shorter than an Ethernet header"),
    FRAME_TOO_LONG("frame longer than 32767 bytes (offsets are 15-bit)"),
    TRUNCATED_VLAN("802.1Q tag cut short"),
    TOO_MANY_VLAN_TAGS("more than two stacked VLAN tags (802.1Q / QinQ)"),
    TRUNCATED_ARP("ARP shorter than 28 bytes"),
    BAD_ARP("ARP not Ethernet/IPv4 (htype, ptype, hlen, plen)"),
    TRUNCATED_IPV4("IPv4 header cut short"),
    BAD_IPV4_VERSION("IPv4 EtherType but version != 4"),
    BAD_IPV4_IHL("IPv4 IHL < 5, or header longer than the total length"),
    BAD_IPV4_TOTAL_LENGTH("IPv4 total length < 20 or > frame"),
    TRUNCATED_IPV6("IPv6 header cut short"),
    BAD_IPV6_VERSION("IPv6 EtherType but version != 6"),
    BAD_IPV6_PAYLOAD_LENGTH("IPv6 payload length > frame"),
    TRUNCATED_IPV6_EXT("IPv6 extension header cut short (beyond the payload length)"),
    BAD_IPV6_EXT_ORDER("IPv6 hop-by-hop options header not directly after the IPv6 header"),
    IPV6_EXT_CHAIN_TOO_LONG("more IPv6 extension headers than the parser walks"),
    TRUNCATED_TCP("TCP header cut short"),
    BAD_TCP_DATA_OFFSET("TCP data offset < 5 or beyond the packet"),
    TRUNCATED_UDP("UDP header cut short"),
    BAD_UDP_LENGTH("UDP length < 8 or > IP payload"),
    TRUNCATED_ICMP("ICMP header cut short"),
    TRUNCATED_ICMPV6("ICMPv6 header cut short"),
    UNSUPPORTED_ETHERTYPE("EtherType the data plane does not handle"),
    // ---- forwarding ----
    L2_UNKNOWN_DESTINATION("destination MAC not in the MAC table"),
    L2_SAME_PORT("destination MAC is on the port the frame came in on"),
    L2_BROADCAST("broadcast frame that is not ARP (no flooding with a static MAC table)"),
    L2_MULTICAST("multicast destination MAC (no flooding with a static MAC table)"),
    ARP_NOT_FOR_US("broadcast ARP request for an address not configured"),
    TX_FULL("tx queue full (link could not take the burst)"),
    NO_MBUF("no mbuf available for a generated packet");

    private final String description;

    DropReason(String description) { this.description = description; }

    public String description() { return description; }

    private static final DropReason[] VALUES = values();

    public static DropReason of(int ordinal) { return VALUES[ordinal]; }
}
