package io.sluice.rules.model;

/** IP protocol numbers and names used by rules; {@link #ANY} matches every protocol. */
public final class Protocols {
    /** Any protocol. */
    public static final int ANY = -1;
    /** ICMP. */
    public static final int ICMP = 1;
    /** TCP. */
    public static final int TCP = 6;
    /** UDP. */
    public static final int UDP = 17;
    /** ICMPv6. */
    public static final int ICMPV6 = 58;

    private Protocols() {}

    /** Parses tcp, udp, icmp, icmpv6, any, or a number 0..255; errors name field {@code protocol}. */
    public static int parse(String s) {
        if (s == null) throw new RuleValidationException("protocol", "missing");
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "any" -> ANY;
            case "tcp" -> TCP;
            case "udp" -> UDP;
            case "icmp" -> ICMP;
            case "icmpv6", "ipv6-icmp" -> ICMPV6;
            default -> {
                if (s.isEmpty() || s.length() > 3 || !s.chars().allMatch(Character::isDigit)) {
                    throw new RuleValidationException("protocol", "unknown protocol '" + s + "'");
                }
                int n = Integer.parseInt(s);
                if (n > 255) throw new RuleValidationException("protocol", "protocol number " + n + " above 255");
                yield n;
            }
        };
    }

    /** True if rules for this protocol may name ports. */
    public static boolean hasPorts(int p) { return p == TCP || p == UDP; }

    /** True for ICMP and ICMPv6. */
    public static boolean isIcmp(int p) { return p == ICMP || p == ICMPV6; }
}
