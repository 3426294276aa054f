package io.sluice.rules.model;

/**
 * One security-group (allow) rule, or a platform (deny) rule when used in the
 * {@link PlatformLayer}.
 *
 * @param id stable rule id, reported on a match
 * @param direction ingress or egress
 * @param family IPv4 or IPv6, or {@code null} for both (only without a remote CIDR)
 * @param protocol a protocol number or {@link Protocols#ANY}
 * @param portMin lowest destination port (tcp/udp), or 0 for any port
 * @param portMax highest destination port, or 0 for any port
 * @param icmpType ICMP type or -1 for any (icmp/icmpv6 only)
 * @param icmpCode ICMP code or -1 for any (needs a type)
 * @param remoteCidr remote prefix, or {@code null}
 * @param remoteGroup remote security group id, or {@code null}; at most one of the two
 */
public record SgRule(String id, Direction direction, IpFamily family, int protocol, int portMin, int portMax,
                     int icmpType, int icmpCode, IpPrefix remoteCidr, String remoteGroup) {

    /** Validates every field; throws {@link RuleValidationException} naming the field. */
    public SgRule {
        if (id == null || id.isBlank()) throw new RuleValidationException("id", "missing");
        if (direction == null) throw new RuleValidationException("direction", "missing");
        if (protocol < Protocols.ANY || protocol > 255) throw new RuleValidationException("protocol", "unknown protocol " + protocol);
        boolean ports = portMin != 0 || portMax != 0;
        if (ports) {
            if (!Protocols.hasPorts(protocol)) throw new RuleValidationException("ports", "protocol " + protocol + " has no ports");
            if (portMin < 1 || portMin > 65535) throw new RuleValidationException("portMin", "port " + portMin + " out of 1..65535");
            if (portMax < 1 || portMax > 65535) throw new RuleValidationException("portMax", "port " + portMax + " out of 1..65535");
            if (portMin > portMax) throw new RuleValidationException("portMax", "reversed range " + portMin + ".." + portMax);
        }
        if (icmpType != -1 || icmpCode != -1) {
            if (!Protocols.isIcmp(protocol)) throw new RuleValidationException("icmpType", "protocol " + protocol + " has no ICMP type/code");
            if (icmpType < 0 || icmpType > 255) throw new RuleValidationException("icmpType", "type " + icmpType + " out of 0..255");
            if (icmpCode < -1 || icmpCode > 255) throw new RuleValidationException("icmpCode", "code " + icmpCode + " out of 0..255");
        }
        if (remoteCidr != null && remoteGroup != null) throw new RuleValidationException("remote", "give a remote CIDR or a remote group, not both");
        if (remoteCidr != null && family != null && remoteCidr.family() != family) {
            throw new RuleValidationException("remoteCidr", "family mismatch: " + remoteCidr.family() + " prefix in an " + family + " rule");
        }
        if (remoteCidr != null && family == null) family = remoteCidr.family();
        if (protocol == Protocols.ICMP && family == IpFamily.V6) throw new RuleValidationException("protocol", "icmp in an IPv6 rule (use icmpv6)");
        if (protocol == Protocols.ICMPV6 && family == IpFamily.V4) throw new RuleValidationException("protocol", "icmpv6 in an IPv4 rule");
    }

    /** True if this rule applies to the family. */
    public boolean appliesTo(IpFamily f) {
        if (family != null && family != f) return false;
        if (protocol == Protocols.ICMP && f == IpFamily.V6) return false;
        return protocol != Protocols.ICMPV6 || f == IpFamily.V6;
    }

    /** A rule with no ports, no ICMP filter and no remote restriction. */
    public static SgRule any(String id, Direction dir, IpFamily f, int protocol) {
        return new SgRule(id, dir, f, protocol, 0, 0, -1, -1, null, null);
    }
}
