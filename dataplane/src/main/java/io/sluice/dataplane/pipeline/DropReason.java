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
    // ---- added with the parser and L2 stages (appended: ordinals are stable) ----
    FRAME_TOO_LONG("frame longer than 32767 bytes (offsets are 15-bit)"),
    TOO_MANY_VLAN_TAGS("more than two stacked VLAN tags (802.1Q / QinQ)"),
    BAD_IPV6_EXT_ORDER("IPv6 hop-by-hop options header not directly after the IPv6 header"),
    L2_BROADCAST("broadcast frame that is not ARP (no flooding with a static MAC table)"),
    L2_MULTICAST("multicast destination MAC (no flooding with a static MAC table)"),
    // ---- worker (io.sluice.dataplane.agent.Worker) ----
    NO_VERDICT("no stage decided the packet's fate (still CONTINUE after the last stage)"),
    BAD_OUT_PORT("a stage chose an out port that does not exist"),
    // ---- security groups / conntrack ----
    FW_NO_RULE("security groups: new connection that no rule of its direction allows"),
    FW_INVALID("conntrack: packet fits no tracked connection and cannot start one (bad flags, out of window, forged ICMP error, later fragment)"),
    FW_LIMIT("conntrack: new connection refused by the per-VM, host or table limit"),
    FW_PLATFORM("security groups: denied by the platform layer (e.g. outbound TCP 25)"),
    FW_CUT("security groups: tracked connection cut after a rule change (group setting on-rule-change: cut)");

    private final String description;

    DropReason(String description) { this.description = description; }

    public String description() { return description; }

    private static final DropReason[] VALUES = values();

    public static DropReason of(int ordinal) { return VALUES[ordinal]; }
}
