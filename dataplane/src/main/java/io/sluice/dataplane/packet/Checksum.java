package io.sluice.dataplane.packet;

/**
 * Internet checksum (RFC 1071) over packet memory, and its incremental update (RFC 1624).
 *
 * <p>A checksum is the ones'-complement of the ones'-complement sum of the 16-bit big-endian
 * words it covers. {@link #add} accumulates words into an unfolded {@code long} sum,
 * {@link #fold} folds the carries back in, and the checksum to store is {@code ~fold(sum) & 0xFFFF}.
 * The full computations ({@link #ipv4Header}, {@link #l4}) are for building packets and for
 * tests; stages that rewrite a field (NAT, TTL) use {@link #update16} / {@link #update32}, which
 * touch only the changed words. None of these allocate.
 *
 * <p>UDP: a computed checksum of 0 is sent as 0xFFFF (0 means "no checksum"); callers do that.
 */
public final class Checksum {
    private Checksum() {}

    /** Adds the big-endian 16-bit words of {@code [addr, addr+len)} to {@code sum}; an odd last byte is padded with 0. */
    public static long add(long sum, long addr, int len) {
        int i = 0;
        for (; i + 4 <= len; i += 4) {
            sum += Mem.u32(addr + i);
        }
        for (; i + 2 <= len; i += 2) {
            sum += Mem.u16(addr + i);
        }
        if (i < len) {
            sum += Mem.u8(addr + i) << 8;
        }
        return sum;
    }

    /** Folds an unfolded sum to 16 bits with end-around carry. */
    public static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** The checksum to store for an unfolded sum. */
    public static int finish(long sum) {
        return ~fold(sum) & 0xFFFF;
    }

    /** Header checksum of the IPv4 header at {@code ip} (IHL from the header), as if its checksum field were 0. */
    public static int ipv4Header(long ip) {
        int hl = Ipv4Header.headerLength(ip);
        long sum = add(0, ip, hl) - Mem.u16(ip + Ipv4Header.CHECKSUM_OFFSET);
        return finish(sum);
    }

    /** Computes and stores the header checksum of the IPv4 header at {@code ip}. */
    public static void setIpv4Header(long ip) {
        Mem.put16(ip + Ipv4Header.CHECKSUM_OFFSET, ipv4Header(ip));
    }

    /** True when the IPv4 header at {@code ip} (checksum field included) sums to 0xFFFF. */
    public static boolean ipv4HeaderValid(long ip) {
        return fold(add(0, ip, Ipv4Header.headerLength(ip))) == 0xFFFF;
    }

    /** Unfolded sum of the IPv4 pseudo-header (source, destination, protocol, L4 length). */
    public static long pseudoHeaderV4(long ip, int proto, int l4Length) {
        return add(0, ip + Ipv4Header.SRC_OFFSET, 8) + proto + l4Length;
    }

    /** Unfolded sum of the IPv6 pseudo-header (source, destination, upper-layer length, next header). */
    public static long pseudoHeaderV6(long ip, int proto, int l4Length) {
        return add(0, ip + Ipv6Header.SRC_OFFSET, 32) + (l4Length & 0xFFFFL) + (l4Length >>> 16) + proto;
    }

    /**
     * Checksum of an L4 segment at {@code l4} of {@code l4Length} bytes, starting from a
     * pseudo-header sum, as if the checksum field at {@code l4 + checksumOffset} were 0.
     */
    public static int l4(long pseudoSum, long l4, int l4Length, int checksumOffset) {
        long sum = add(pseudoSum, l4, l4Length) - Mem.u16(l4 + checksumOffset);
        return finish(sum);
    }

    /**
     * RFC 1624 eqn. 3: the checksum after one 16-bit word it covers changed from {@code oldWord}
     * to {@code newWord}: {@code HC' = ~(~HC + ~m + m')}.
     */
    public static int update16(int checksum, int oldWord, int newWord) {
        int sum = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        return ~sum & 0xFFFF;
    }

    /** RFC 1624 for a 32-bit value (an IPv4 address, in both IP and L4 pseudo-header checksums). */
    public static int update32(int checksum, int oldValue, int newValue) {
        int sum = (~checksum & 0xFFFF)
                + (~(oldValue >>> 16) & 0xFFFF) + (~oldValue & 0xFFFF)
                + (newValue >>> 16) + (newValue & 0xFFFF);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        return ~sum & 0xFFFF;
    }

    /**
     * A partial checksum field (the ones'-complement sum of the pseudo-header, not complemented, as
     * virtio's NEEDS_CSUM leaves it) after a 32-bit value of the pseudo-header (an address) changed:
     * {@code P' = P + ~m + m'}, i.e. {@code ~update32(~P, m, m')}. Completing it later gives the
     * checksum a full recomputation over the new addresses gives.
     */
    public static int updatePartial32(int partial, int oldValue, int newValue) {
        return ~update32(~partial & 0xFFFF, oldValue, newValue) & 0xFFFF;
    }

    /** Updates in place the checksum stored at {@code checksumAddr} for one 16-bit word change. */
    public static void update16At(long checksumAddr, int oldWord, int newWord) {
        Mem.put16(checksumAddr, update16(Mem.u16(checksumAddr), oldWord, newWord));
    }

    /** Updates in place the checksum stored at {@code checksumAddr} for one 32-bit value change. */
    public static void update32At(long checksumAddr, int oldValue, int newValue) {
        Mem.put16(checksumAddr, update32(Mem.u16(checksumAddr), oldValue, newValue));
    }
}
