package io.sluice.rules.model;

/**
 * An IPv4 or IPv6 CIDR prefix. IPv4 addresses sit in the low 32 bits of {@code lo} ({@code hi}
 * is 0); IPv6 addresses are {@code hi:lo}. Host bits must be zero.
 *
 * @param family address family
 * @param hi upper 64 address bits (IPv6)
 * @param lo lower 64 address bits
 * @param length prefix length
 */
public record IpPrefix(IpFamily family, long hi, long lo, int length) {

    /** Validates; throws {@link RuleValidationException} for field {@code cidr}. */
    public IpPrefix {
        if (family == null) throw new RuleValidationException("cidr", "family is required");
        if (length < 0 || length > family.bits()) throw new RuleValidationException("cidr", "prefix length " + length + " out of 0.." + family.bits());
        if (family == IpFamily.V4 && (hi != 0 || (lo >>> 32) != 0)) throw new RuleValidationException("cidr", "IPv4 address out of range");
        long[] m = mask(family, length);
        if ((hi & ~m[0]) != 0 || (lo & ~m[1]) != 0) throw new RuleValidationException("cidr", "host bits set beyond /" + length);
    }

    private static long[] mask(IpFamily f, int len) {
        if (f == IpFamily.V4) return new long[] {0, len == 0 ? 0 : (0xFFFFFFFFL << (32 - len)) & 0xFFFFFFFFL};
        long h = len == 0 ? 0 : len >= 64 ? -1L : -1L << (64 - len);
        long l = len <= 64 ? 0 : len == 128 ? -1L : -1L << (128 - len);
        return new long[] {h, l};
    }

    /** An IPv4 host prefix (/32). */
    public static IpPrefix v4Host(int addr) { return new IpPrefix(IpFamily.V4, 0, Integer.toUnsignedLong(addr), 32); }
    /** An IPv6 host prefix (/128). */
    public static IpPrefix v6Host(long hi, long lo) { return new IpPrefix(IpFamily.V6, hi, lo, 128); }
    /** 0.0.0.0/0 or ::/0. */
    public static IpPrefix any(IpFamily f) { return new IpPrefix(f, 0, 0, 0); }

    /** True if this prefix contains the address ({@code hi}/{@code lo} as in the record). */
    public boolean contains(long addrHi, long addrLo) {
        long[] m = mask(family, length);
        return (addrHi & m[0]) == hi && (addrLo & m[1]) == lo;
    }

    /** The 32-bit word {@code w} (0 = most significant) of the lowest and highest address, for IPv6 (4 words) or IPv4 (1 word). */
    public long[] wordRange(int w) {
        int words = family.bits() / 32;
        long[] m = mask(family, length);
        long loAddrHi = hi, loAddrLo = lo, hiAddrHi = hi | ~m[0], hiAddrLo = lo | ~m[1];
        if (family == IpFamily.V4) hiAddrLo &= 0xFFFFFFFFL;
        return new long[] {word(loAddrHi, loAddrLo, w, words), word(hiAddrHi, hiAddrLo, w, words)};
    }

    private static long word(long h, long l, int w, int words) {
        if (words == 1) return l & 0xFFFFFFFFL;
        long v = w < 2 ? h : l;
        return (w % 2 == 0 ? v >>> 32 : v) & 0xFFFFFFFFL;
    }

    /** Parses {@code a.b.c.d/len} or an IPv6 {@code x:x::x/len}; errors name field {@code cidr}. */
    public static IpPrefix parse(String s) {
        if (s == null) throw new RuleValidationException("cidr", "missing");
        int slash = s.indexOf('/');
        if (slash < 0) throw new RuleValidationException("cidr", "expected address/length, got '" + s + "'");
        String addr = s.substring(0, slash);
        int len;
        try {
            len = Integer.parseInt(s.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new RuleValidationException("cidr", "bad prefix length in '" + s + "'");
        }
        if (addr.indexOf(':') < 0) return new IpPrefix(IpFamily.V4, 0, Integer.toUnsignedLong(parseV4(addr, s)), len);
        long[] v = parseV6(addr, s);
        return new IpPrefix(IpFamily.V6, v[0], v[1], len);
    }

    static int parseV4(String a, String whole) {
        String[] o = a.split("\\.", -1);
        if (o.length != 4) throw new RuleValidationException("cidr", "bad IPv4 address in '" + whole + "'");
        int v = 0;
        for (String x : o) {
            if (x.isEmpty() || x.length() > 3 || !x.chars().allMatch(Character::isDigit)) throw new RuleValidationException("cidr", "bad IPv4 address in '" + whole + "'");
            int n = Integer.parseInt(x);
            if (n > 255) throw new RuleValidationException("cidr", "bad IPv4 address in '" + whole + "'");
            v = (v << 8) | n;
        }
        return v;
    }

    static long[] parseV6(String a, String whole) {
        int dbl = a.indexOf("::");
        if (dbl >= 0 && a.indexOf("::", dbl + 1) >= 0) throw new RuleValidationException("cidr", "bad IPv6 address in '" + whole + "'");
        String[] head = dbl >= 0 ? splitGroups(a.substring(0, dbl)) : splitGroups(a);
        String[] tail = dbl >= 0 ? splitGroups(a.substring(dbl + 2)) : new String[0];
        int total = head.length + tail.length;
        if ((dbl < 0 && total != 8) || (dbl >= 0 && total > 7)) throw new RuleValidationException("cidr", "bad IPv6 address in '" + whole + "'");
        int[] g = new int[8];
        for (int i = 0; i < head.length; i++) g[i] = group(head[i], whole);
        for (int i = 0; i < tail.length; i++) g[8 - tail.length + i] = group(tail[i], whole);
        long hi = 0, lo = 0;
        for (int i = 0; i < 4; i++) hi = (hi << 16) | g[i];
        for (int i = 4; i < 8; i++) lo = (lo << 16) | g[i];
        return new long[] {hi, lo};
    }

    private static String[] splitGroups(String s) { return s.isEmpty() ? new String[0] : s.split(":", -1); }

    private static int group(String x, String whole) {
        if (x.isEmpty() || x.length() > 4) throw new RuleValidationException("cidr", "bad IPv6 address in '" + whole + "'");
        int v = 0;
        for (int i = 0; i < x.length(); i++) {
            int d = Character.digit(x.charAt(i), 16);
            if (d < 0) throw new RuleValidationException("cidr", "bad IPv6 address in '" + whole + "'");
            v = v * 16 + d;
        }
        return v;
    }
}
