package io.sluice.dataplane.conntrack;

/**
 * The fields of one packet that the tracker reads, as primitives in a reusable holder. The
 * pipeline keeps one per worker and refills it per packet (nothing is allocated per packet);
 * tests fill it by hand. Addresses are two longs each: IPv4 in {@code lo} (the 32-bit address,
 * unsigned) with {@code hi = 0}; IPv6 as the high and low 64 bits in network order.
 *
 * <p>For ICMP/ICMPv6 echo, {@link #sport} carries the identifier and {@link #dport} is ignored.
 * For ICMP errors, the {@code q*} fields carry the header quoted in the error (the packet the
 * error is about, as that packet was sent).
 */
public final class CtPacket {
    public static final int IPPROTO_ICMP = 1;
    public static final int IPPROTO_TCP = 6;
    public static final int IPPROTO_UDP = 17;
    public static final int IPPROTO_ICMPV6 = 58;

    /** Tenant network id: same addresses in different zones are different connections. */
    public int zone;
    /** 4 or 6. */
    public int family;
    public long srcHi, srcLo, dstHi, dstLo;
    public int proto;
    /** Source port, or ICMP echo identifier. */
    public int sport;
    public int dport;
    // ---- TCP ----
    public int tcpFlags;
    public int seq;
    public int ack;
    /** Raw 16-bit window field (unscaled). */
    public int window;
    /** Window-scale option shift (0..14) on SYN and SYN/ACK, or -1 when the option is absent. */
    public int wscale = -1;
    /** TCP/UDP payload bytes (TCP: segment length without header). */
    public int payloadLen;
    /** L3 length (IP header + payload) in bytes: what the connection's byte counts add up (accounting only). */
    public int length;
    // ---- ICMP ----
    public int icmpType;
    public int icmpCode;
    // ---- the header quoted in an ICMP error ----
    public long qSrcHi, qSrcLo, qDstHi, qDstLo;
    public int qProto;
    /** Quoted source port, or quoted ICMP echo identifier. */
    public int qSport;
    public int qDport;
    /** Quoted ICMP type when the quoted packet is ICMP (echo request / reply). */
    public int qIcmpType;

    /** Sets zone, family 4 and the IPv4 addresses (as unsigned 32-bit values in ints). */
    public CtPacket v4(int zone, int src, int dst) {
        this.zone = zone;
        this.family = 4;
        this.srcHi = 0;
        this.srcLo = src & 0xFFFF_FFFFL;
        this.dstHi = 0;
        this.dstLo = dst & 0xFFFF_FFFFL;
        return this;
    }

    public CtPacket v6(int zone, long srcHi, long srcLo, long dstHi, long dstLo) {
        this.zone = zone;
        this.family = 6;
        this.srcHi = srcHi;
        this.srcLo = srcLo;
        this.dstHi = dstHi;
        this.dstLo = dstLo;
        return this;
    }

    public CtPacket tcp(int sport, int dport, int flags, int seq, int ack, int window, int payloadLen) {
        this.proto = IPPROTO_TCP;
        this.sport = sport;
        this.dport = dport;
        this.tcpFlags = flags;
        this.seq = seq;
        this.ack = ack;
        this.window = window;
        this.payloadLen = payloadLen;
        this.wscale = -1;
        return this;
    }

    public CtPacket wscale(int shift) {
        this.wscale = shift;
        return this;
    }

    public CtPacket udp(int sport, int dport, int payloadLen) {
        this.proto = IPPROTO_UDP;
        this.sport = sport;
        this.dport = dport;
        this.payloadLen = payloadLen;
        this.tcpFlags = 0;
        return this;
    }

    /** ICMP (family 4) or ICMPv6 (family 6) message; for echo, {@code id} is the identifier. */
    public CtPacket icmp(int type, int code, int id) {
        this.proto = family == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
        this.icmpType = type;
        this.icmpCode = code;
        this.sport = id;
        this.dport = 0;
        this.tcpFlags = 0;
        return this;
    }

    /** The header quoted inside an ICMP error (same family as the outer packet). */
    public CtPacket quoted(long srcHi, long srcLo, long dstHi, long dstLo, int proto, int sport, int dport, int icmpType) {
        this.qSrcHi = srcHi;
        this.qSrcLo = srcLo;
        this.qDstHi = dstHi;
        this.qDstLo = dstLo;
        this.qProto = proto;
        this.qSport = sport;
        this.qDport = dport;
        this.qIcmpType = icmpType;
        return this;
    }

    /** Copies every field of {@code o} into this holder. */
    public CtPacket set(CtPacket o) {
        zone = o.zone; family = o.family; srcHi = o.srcHi; srcLo = o.srcLo; dstHi = o.dstHi; dstLo = o.dstLo;
        proto = o.proto; sport = o.sport; dport = o.dport; tcpFlags = o.tcpFlags; seq = o.seq; ack = o.ack;
        window = o.window; wscale = o.wscale; payloadLen = o.payloadLen; length = o.length; icmpType = o.icmpType; icmpCode = o.icmpCode;
        qSrcHi = o.qSrcHi; qSrcLo = o.qSrcLo; qDstHi = o.qDstHi; qDstLo = o.qDstLo; qProto = o.qProto;
        qSport = o.qSport; qDport = o.qDport; qIcmpType = o.qIcmpType;
        return this;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append("z").append(zone).append(" v").append(family).append(' ')
         .append(Long.toHexString(srcHi)).append(':').append(Long.toHexString(srcLo)).append('.').append(sport)
         .append(" > ")
         .append(Long.toHexString(dstHi)).append(':').append(Long.toHexString(dstLo)).append('.').append(dport)
         .append(" p").append(proto);
        if (proto == IPPROTO_TCP) {
            b.append(" flags=").append(Integer.toHexString(tcpFlags)).append(" seq=").append(Integer.toUnsignedString(seq))
             .append(" ack=").append(Integer.toUnsignedString(ack)).append(" win=").append(window)
             .append(" ws=").append(wscale).append(" len=").append(payloadLen);
        } else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
            b.append(" type=").append(icmpType).append(" code=").append(icmpCode);
        }
        return b.toString();
    }
}
