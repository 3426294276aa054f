package io.sluice.dataplane.handoff;

import io.sluice.dataplane.conntrack.FlowKey;
import io.sluice.dataplane.conntrack.Icmp;
import io.sluice.dataplane.packet.Ipv4Header;
import io.sluice.dataplane.packet.Ipv6Header;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.PacketFlags;

/**
 * The owning worker of a packet: a hash of a <b>symmetric</b> key, so both directions of a flow
 * map to the same worker (and so to the same conntrack shard).
 *
 * <p>Key: the zone and the <b>unordered pair of IP addresses</b> (the smaller, as an unsigned
 * 128-bit number, first), not the ports or the protocol. So IPv4/IPv6 fragments (later fragments
 * carry no ports) follow their flow without reassembly, and so does everything between the two
 * hosts. For an ICMP/ICMPv6 error (v4 types 3, 11, 12; v6 types 1..4) whose quoted IP header is
 * complete in the frame, the addresses are the <b>quoted</b> header's: an error from a router in
 * the path quotes the flow, so it reaches the flow's owner. Trade-off: all flows of one host pair
 * land on one worker (a single elephant pair cannot be spread).
 *
 * <pre>
 *   (a, b) = the two addresses, smaller first (unsigned 128-bit; IPv4: high 64 bits 0)
 *   h      = FlowKey.hash(SEED, aHi, aLo, bHi, bLo, zone, family)     (conntrack's keyed hash, ports 0)
 *   owner  = ((h &gt;&gt;&gt; 32) * workers) &gt;&gt;&gt; 32
 * </pre>
 * IPv4 addresses are {@code aHi = 0, aLo = address}. {@link FlowOwnerReference} is the slow,
 * readable twin (byte arrays, {@code Arrays.compareUnsigned}); {@code FlowOwnerProperties} holds
 * them equal and checks the symmetry on random keys. No allocation.
 */
public final class FlowOwner {
    static final long SEED = 0x5eed_0f_0a4e_12L;

    private FlowOwner() {}

    /**
     * Owner (0..workers-1) of burst packet {@code i}, an IPv4 or IPv6 packet the parser accepted
     * ({@code l3Offset}, {@code l4Offset}, {@code flags} set), hashed in {@code zone}.
     */
    public static int owner(Burst b, int i, int zone, int workers) {
        return reduce(hash(b, i, zone), workers);
    }

    /** The key hash of burst packet {@code i} (see the class comment). */
    public static long hash(Burst b, int i, int zone) {
        final long base = b.data[i];
        final long end = base + b.length[i];
        final int fl = b.flags[i];
        long l3 = base + b.l3Offset[i];
        final int l4off = b.l4Offset[i];
        if ((fl & PacketFlags.IPV4) != 0) {
            if ((fl & PacketFlags.ICMP) != 0 && l4off >= 0) {
                long q = base + l4off + 8;
                if (Icmp.isError(4, Mem.u8(base + l4off)) && q + Ipv4Header.MIN_LENGTH <= end) {
                    l3 = q;
                }
            }
            long s = Mem.u32(l3 + Ipv4Header.SRC_OFFSET);
            long d = Mem.u32(l3 + Ipv4Header.DST_OFFSET);
            return s <= d ? mix(zone, 4, 0, s, 0, d) : mix(zone, 4, 0, d, 0, s);
        }
        if ((fl & PacketFlags.ICMPV6) != 0 && l4off >= 0) {
            long q = base + l4off + 8;
            if (Icmp.isError(6, Mem.u8(base + l4off)) && q + Ipv6Header.LENGTH <= end) {
                l3 = q;
            }
        }
        long sHi = Mem.i64(l3 + Ipv6Header.SRC_OFFSET), sLo = Mem.i64(l3 + Ipv6Header.SRC_OFFSET + 8);
        long dHi = Mem.i64(l3 + Ipv6Header.DST_OFFSET), dLo = Mem.i64(l3 + Ipv6Header.DST_OFFSET + 8);
        int c = Long.compareUnsigned(sHi, dHi);
        boolean srcFirst = c < 0 || (c == 0 && Long.compareUnsigned(sLo, dLo) <= 0);
        return srcFirst ? mix(zone, 6, sHi, sLo, dHi, dLo) : mix(zone, 6, dHi, dLo, sHi, sLo);
    }

    /**
     * The hash of a canonical key (endpoint a &lt;= endpoint b, unsigned 128-bit): conntrack's keyed
     * hash ({@link FlowKey#hash}) with ports 0 and this class's seed.
     */
    public static long mix(int zone, int family, long aHi, long aLo, long bHi, long bLo) {
        return FlowKey.hash(SEED, aHi, aLo, bHi, bLo, zone & 0xFFFF_FFFFL, family);
    }

    /** Maps a hash to 0..workers-1 (multiply-shift on the high 32 bits: no division). */
    public static int reduce(long hash, int workers) {
        return (int) (((hash >>> 32) * workers) >>> 32);
    }
}
