package io.sluice.dataplane.conntrack;

/** ICMP and ICMPv6 types the tracker knows: echo (tracked) and the errors that can be RELATED. */
public final class Icmp {
    public static final int V4_ECHO_REPLY = 0;
    public static final int V4_DEST_UNREACHABLE = 3;
    public static final int V4_ECHO_REQUEST = 8;
    public static final int V4_TIME_EXCEEDED = 11;
    public static final int V4_PARAMETER_PROBLEM = 12;
    /** Packet too big in ICMPv4 is destination unreachable code 4 (fragmentation needed). */
    public static final int V4_CODE_FRAG_NEEDED = 4;

    public static final int V6_DEST_UNREACHABLE = 1;
    public static final int V6_PACKET_TOO_BIG = 2;
    public static final int V6_TIME_EXCEEDED = 3;
    public static final int V6_PARAMETER_PROBLEM = 4;
    public static final int V6_ECHO_REQUEST = 128;
    public static final int V6_ECHO_REPLY = 129;

    private Icmp() {}

    public static boolean isError(int family, int type) {
        if (family == 6) return type >= V6_DEST_UNREACHABLE && type <= V6_PARAMETER_PROBLEM;
        return type == V4_DEST_UNREACHABLE || type == V4_TIME_EXCEEDED || type == V4_PARAMETER_PROBLEM;
    }

    public static boolean isEchoRequest(int family, int type) {
        return type == (family == 6 ? V6_ECHO_REQUEST : V4_ECHO_REQUEST);
    }

    public static boolean isEchoReply(int family, int type) {
        return type == (family == 6 ? V6_ECHO_REPLY : V4_ECHO_REPLY);
    }

    public static boolean isIcmpProto(int proto) {
        return proto == CtPacket.IPPROTO_ICMP || proto == CtPacket.IPPROTO_ICMPV6;
    }
}
