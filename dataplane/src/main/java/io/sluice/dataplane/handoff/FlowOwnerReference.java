package io.sluice.dataplane.handoff;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The slow, obviously-right twin of {@link FlowOwner}: the owner computed from a readable key
 * (zone and the two addresses as byte arrays, 4 or 16 bytes), and the key read from a frame with
 * a {@link ByteBuffer} walk that follows the rule in words: the addresses of the IP header, or of
 * the quoted IP header for an ICMP/ICMPv6 error that quotes a complete one. Used by tests only
 * (kept in main code next to the fast version, like the other reference twins).
 */
public final class FlowOwnerReference {
    private FlowOwnerReference() {}

    /** A flow key as a person reads it. */
    public record Key(int zone, byte[] src, byte[] dst) {
        public int family() { return src.length == 4 ? 4 : 6; }
    }

    /** The owner of a key: sort the two addresses (unsigned bytes), hash, reduce. */
    public static int owner(Key k, int workers) {
        byte[] a = k.src(), b = k.dst();
        if (Arrays.compareUnsigned(a, b) > 0) {
            byte[] t = a;
            a = b;
            b = t;
        }
        long[] wa = words(a), wb = words(b);
        return FlowOwner.reduce(FlowOwner.mix(k.zone(), k.family(), wa[0], wa[1], wb[0], wb[1]), workers);
    }

    private static long[] words(byte[] addr) {
        if (addr.length == 4) {
            return new long[] {0, Integer.toUnsignedLong(ByteBuffer.wrap(addr).getInt())};
        }
        ByteBuffer bb = ByteBuffer.wrap(addr);
        return new long[] {bb.getLong(), bb.getLong()};
    }

    /**
     * The key of an untagged Ethernet frame carrying IPv4 or IPv6 (no extension headers), in
     * {@code zone}: the IP header's addresses, or the quoted header's for an ICMP error (first
     * fragment or unfragmented) whose quoted IP header is complete.
     */
    public static Key keyOf(byte[] frame, int zone) {
        ByteBuffer f = ByteBuffer.wrap(frame);
        int etherType = f.getShort(12) & 0xFFFF;
        int l3 = 14;
        if (etherType == 0x0800) {
            int ihl = (f.get(l3) & 0x0F) * 4;
            int proto = f.get(l3 + 9) & 0xFF;
            int fragOffset = f.getShort(l3 + 6) & 0x1FFF;
            int l4 = l3 + ihl;
            int type = l4 < frame.length ? frame[l4] & 0xFF : -1;
            boolean error = type == 3 || type == 11 || type == 12;
            if (proto == 1 && fragOffset == 0 && error && l4 + 8 + 20 <= frame.length) {
                l3 = l4 + 8;
            }
            return new Key(zone, Arrays.copyOfRange(frame, l3 + 12, l3 + 16), Arrays.copyOfRange(frame, l3 + 16, l3 + 20));
        }
        int next = frame[l3 + 6] & 0xFF;
        int l4 = l3 + 40;
        int type = l4 < frame.length ? frame[l4] & 0xFF : -1;
        if (next == 58 && type >= 1 && type <= 4 && l4 + 8 + 40 <= frame.length) {
            l3 = l4 + 8;
        }
        return new Key(zone, Arrays.copyOfRange(frame, l3 + 8, l3 + 24), Arrays.copyOfRange(frame, l3 + 24, l3 + 40));
    }
}
