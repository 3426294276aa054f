package io.sluice.dataplane.config;

import io.sluice.dataplane.packet.Mem;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * Address parsing/formatting for the control path and Internet checksum helpers for the fast
 * path (allocation-free, absolute addresses through {@link Mem}).
 */
public final class Net {
    public static final int ETH_LEN = 14;
    public static final int ETHERTYPE_IPV4 = 0x0800;
    public static final int ETHERTYPE_IPV6 = 0x86DD;
    public static final int ETHERTYPE_ARP = 0x0806;
    public static final int ETHERTYPE_VLAN = 0x8100;
    public static final long BROADCAST_MAC = 0xFFFF_FFFF_FFFFL;

    private Net() {}

    /** IPv4 network mask of a prefix length (0..32). */
    public static int mask(int prefix) { return prefix == 0 ? 0 : -1 << (32 - prefix); }

    /** High 64 bits of an IPv6 mask. */
    public static long mask6Hi(int prefix) { return prefix == 0 ? 0 : prefix >= 64 ? -1L : -1L << (64 - prefix); }

    /** Low 64 bits of an IPv6 mask. */
    public static long mask6Lo(int prefix) { return prefix <= 64 ? 0 : prefix == 128 ? -1L : -1L << (128 - prefix); }

    /** Parses an IPv6 literal into {hi, lo}, or null. */
    public static long[] parseIpv6(String s) {
        String t = s.trim();
        if (!t.contains(":") || !t.matches("[0-9a-fA-F:.]+")) {
            return null;
        }
        try {
            InetAddress a = InetAddress.ofLiteral(t);
            if (!(a instanceof Inet6Address)) {
                return null;
            }
            byte[] b = a.getAddress();
            long hi = 0;
            long lo = 0;
            for (int i = 0; i < 8; i++) {
                hi = (hi << 8) | (b[i] & 0xFF);
                lo = (lo << 8) | (b[i + 8] & 0xFF);
            }
            return new long[] {hi, lo};
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public static String formatIpv6(long hi, long lo) {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (hi >>> (56 - 8 * i));
            b[i + 8] = (byte) (lo >>> (56 - 8 * i));
        }
        try {
            return InetAddress.getByAddress(b).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- checksums (fast path)

    /** Adds the 16-bit big-endian words of [addr, addr+len) to sum (odd tail padded with 0). */
    public static long sum16(long addr, int len, long sum) {
        int i = 0;
        for (; i + 3 < len; i += 4) {
            sum += Mem.u32(addr + i);
        }
        for (; i + 1 < len; i += 2) {
            sum += Mem.u16(addr + i);
        }
        if (i < len) {
            sum += Mem.u8(addr + i) << 8;
        }
        return sum;
    }

    /** Folds a one's complement sum to 16 bits and complements it. */
    public static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    /** Internet checksum of [addr, addr+len). */
    public static int checksum(long addr, int len) { return fold(sum16(addr, len, 0)); }

    /**
     * Incremental checksum update (RFC 1624 eqn. 3): HC' = ~(~HC + ~m + m') for one 16-bit
     * word changing from m to m'.
     */
    public static int updateChecksum(int hc, int oldWord, int newWord) {
        long s = (~hc & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        return fold(s);
    }

    /** Sum of the IPv6 pseudo header (src, dst, upper-layer length, next header). */
    public static long ipv6PseudoSum(long ip6HeaderAddr, int upperLen, int nextHeader) {
        long s = sum16(ip6HeaderAddr + 8, 32, 0);
        return s + upperLen + nextHeader;
    }
}
