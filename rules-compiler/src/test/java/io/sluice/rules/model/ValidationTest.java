package io.sluice.rules.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every invalid rule is rejected with the field and the reason. */
class ValidationTest {
    private static void rejects(String field, String reasonPart, Executable e) {
        RuleValidationException x = assertThrows(RuleValidationException.class, e);
        assertEquals(field, x.field(), x.getMessage());
        assertTrue(x.reason().contains(reasonPart), x.getMessage());
    }

    private static SgRule tcp(int min, int max) {
        return new SgRule("r", Direction.INGRESS, IpFamily.V4, Protocols.TCP, min, max, -1, -1, null, null);
    }

    @Test
    void badCidrs() {
        rejects("cidr", "host bits", () -> IpPrefix.parse("10.0.0.1/8"));
        rejects("cidr", "host bits", () -> IpPrefix.parse("2001:db8::1/64"));
        rejects("cidr", "prefix length", () -> IpPrefix.parse("10.0.0.0/33"));
        rejects("cidr", "prefix length", () -> IpPrefix.parse("::/129"));
        rejects("cidr", "bad IPv4", () -> IpPrefix.parse("10.0.0.256/32"));
        rejects("cidr", "bad IPv4", () -> IpPrefix.parse("10.0.0/24"));
        rejects("cidr", "bad IPv6", () -> IpPrefix.parse("2001:db8::1::2/128"));
        rejects("cidr", "bad IPv6", () -> IpPrefix.parse("2001:db8:g::/48"));
        rejects("cidr", "expected address/length", () -> IpPrefix.parse("10.0.0.0"));
        rejects("cidr", "bad prefix length", () -> IpPrefix.parse("10.0.0.0/x"));
    }

    @Test
    void goodCidrsParse() {
        IpPrefix p = IpPrefix.parse("2001:db8::/32");
        assertEquals(0x20010db800000000L, p.hi());
        assertTrue(p.contains(0x20010db8ffffffffL, -1L));
        assertEquals(0x0A000000L, IpPrefix.parse("10.0.0.0/8").lo());
        assertTrue(IpPrefix.parse("0.0.0.0/0").contains(0, 0xFFFFFFFFL));
    }

    @Test
    void badPorts() {
        rejects("portMin", "out of 1..65535", () -> tcp(0, 80));
        rejects("portMax", "out of 1..65535", () -> tcp(80, 65536));
        rejects("portMax", "reversed", () -> tcp(81, 80));
        rejects("ports", "has no ports", () -> new SgRule("r", Direction.INGRESS, IpFamily.V4, Protocols.ICMP, 1, 2, -1, -1, null, null));
        rejects("ports", "has no ports", () -> new SgRule("r", Direction.INGRESS, IpFamily.V4, Protocols.ANY, 80, 80, -1, -1, null, null));
    }

    @Test
    void badProtocolsAndIcmp() {
        rejects("protocol", "unknown protocol", () -> Protocols.parse("tcpx"));
        rejects("protocol", "above 255", () -> Protocols.parse("256"));
        rejects("protocol", "unknown protocol", () -> new SgRule("r", Direction.INGRESS, IpFamily.V4, 300, 0, 0, -1, -1, null, null));
        rejects("icmpType", "no ICMP", () -> new SgRule("r", Direction.INGRESS, IpFamily.V4, Protocols.TCP, 0, 0, 8, -1, null, null));
        rejects("icmpType", "out of 0..255", () -> new SgRule("r", Direction.INGRESS, IpFamily.V4, Protocols.ICMP, 0, 0, 256, -1, null, null));
        rejects("icmpType", "out of 0..255", () -> new SgRule("r", Direction.INGRESS, IpFamily.V4, Protocols.ICMP, 0, 0, -1, 3, null, null));
        rejects("protocol", "icmp in an IPv6", () -> new SgRule("r", Direction.INGRESS, IpFamily.V6, Protocols.ICMP, 0, 0, -1, -1, null, null));
        rejects("protocol", "icmpv6 in an IPv4", () -> new SgRule("r", Direction.INGRESS, IpFamily.V4, Protocols.ICMPV6, 0, 0, -1, -1, null, null));
        assertEquals(Protocols.ICMPV6, Protocols.parse("icmpv6"));
        assertEquals(47, Protocols.parse("47"));
    }

    @Test
    void familyMismatchAndRemotes() {
        rejects("remoteCidr", "family mismatch", () -> new SgRule("r", Direction.INGRESS, IpFamily.V6, Protocols.TCP, 22, 22, -1, -1, IpPrefix.parse("10.0.0.0/8"), null));
        rejects("remote", "not both", () -> new SgRule("r", Direction.INGRESS, null, Protocols.TCP, 22, 22, -1, -1, IpPrefix.parse("10.0.0.0/8"), "g"));
        rejects("protocol", "icmpv6 in an IPv4", () -> new SgRule("r", Direction.INGRESS, null, Protocols.ICMPV6, 0, 0, -1, -1, IpPrefix.parse("10.0.0.0/8"), null));
        rejects("id", "missing", () -> new SgRule(" ", Direction.INGRESS, null, Protocols.TCP, 0, 0, -1, -1, null, null));
        rejects("direction", "missing", () -> new SgRule("r", null, null, Protocols.TCP, 0, 0, -1, -1, null, null));
        rejects("addresses", "not a host address", () -> new VmInterface("vm", List.of(IpPrefix.parse("10.0.0.0/24")), List.of()));
        rejects("rule.id", "duplicate", () -> new SecurityGroup("g", List.of(tcp(1, 2), tcp(3, 4))));
    }
}
