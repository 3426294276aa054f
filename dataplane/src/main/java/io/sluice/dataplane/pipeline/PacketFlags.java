package io.sluice.dataplane.pipeline;

/** Bits in {@link Burst#flags}, set by the parser. */
public final class PacketFlags {
    public static final int IPV4 = 1;
    public static final int IPV6 = 1 << 1;
    public static final int ARP = 1 << 2;
    public static final int VLAN = 1 << 3;
    /** IPv4 with options (IHL &gt; 5). */
    public static final int IP_OPTIONS = 1 << 4;
    /** IPv4 MF set or fragment offset != 0, or IPv6 fragment header. */
    public static final int FRAGMENT = 1 << 5;
    /** A non-first fragment: no L4 header in this packet. */
    public static final int LATER_FRAGMENT = 1 << 6;
    public static final int TCP = 1 << 7;
    public static final int UDP = 1 << 8;
    public static final int ICMP = 1 << 9;
    public static final int ICMPV6 = 1 << 10;
    /** Destination MAC ff:ff:ff:ff:ff:ff. */
    public static final int BROADCAST = 1 << 11;
    /** Destination MAC has the group bit set and is not broadcast. */
    public static final int MULTICAST = 1 << 12;
    /** Two VLAN tags (802.1ad / QinQ): {@link Burst#vlan} holds the outer one. */
    public static final int QINQ = 1 << 13;
    /** IPv6 with at least one extension header before the upper-layer header. */
    public static final int IPV6_EXT = 1 << 14;
    /**
     * Not from the parser: set by VXLAN encapsulation ({@code overlay.VxlanEncapStage}) — the frame
     * is outer Ethernet/IPv4/UDP/VXLAN (50 bytes) + the inner frame, and the parse fields describe the
     * outer packet. The egress's software offload finds the inner headers by it.
     */
    public static final int VXLAN_ENCAP = 1 << 20;

    private PacketFlags() {}
}
