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
    TRUNCATED_VLAN("802.1Q tag cut short"),
    TRUNCATED_ARP("ARP shorter than 28 bytes"),
    BAD_ARP("ARP not Ethernet/IPv4 (htype, ptype, hlen, plen)"),
    TRUNCATED_IPV4("IPv4 header cut short"),
    BAD_IPV4_VERSION("IPv4 EtherType but version != 4"),
    BAD_IPV4_IHL("IPv4 IHL < 5"),
    BAD_IPV4_TOTAL_LENGTH("IPv4 total length < IHL*4 or > frame"),
    TRUNCATED_IPV6("IPv6 header cut short"),
    BAD_IPV6_VERSION("IPv6 EtherType but version != 6"),
    BAD_IPV6_PAYLOAD_LENGTH("IPv6 payload length > frame"),
    TRUNCATED_IPV6_EXT("IPv6 extension header cut short"),
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
    ARP_NOT_FOR_US("ARP request for an address not configured"),
    TX_FULL("tx queue full (link could not take the burst)"),
    NO_MBUF("no mbuf available for a generated packet"),
    // ---- worker (io.sluice.dataplane.agent.Worker) ----
    NO_VERDICT("no stage decided the packet's fate (still CONTINUE after the last stage)"),
    BAD_OUT_PORT("a stage chose an out port that does not exist");

    private final String description;

    DropReason(String description) { this.description = description; }

    public String description() { return description; }

    private static final DropReason[] VALUES = values();

    public static DropReason of(int ordinal) { return VALUES[ordinal]; }
}
