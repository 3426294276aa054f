package io.sluice.rules.sg;

import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.Protocols;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import io.sluice.rules.model.VmInterface;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Decodes generated int arrays into security-group configurations and edge-biased packets. */
final class SgGen {
    private SgGen() {}

    static final String[] V4_HOSTS = {"10.0.0.1/32", "10.0.0.2/32", "10.0.1.1/32", "192.168.1.1/32", "0.0.0.0/32", "255.255.255.255/32"};
    static final String[] V6_HOSTS = {"2001:db8::1/128", "2001:db8::2/128", "fe80::1/128", "::/128", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "2001:db8:0:1::1/128"};
    static final String[] V4_CIDRS = {"0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/24", "10.0.0.1/32", "192.168.0.0/16", "128.0.0.0/1", "10.0.0.2/31"};
    static final String[] V6_CIDRS = {"::/0", "2001:db8::/32", "2001:db8::/127", "2001:db8::1/128", "8000::/1", "fe80::/10", "2001:db8:0:1::/64"};
    static final int[] PROTOS = {Protocols.ANY, Protocols.TCP, Protocols.UDP, Protocols.ICMP, Protocols.ICMPV6, 47};
    static final int[] PORTS = {1, 22, 25, 80, 443, 65535, 1024};

    private static int at(int[] c, int i) { return c.length == 0 ? 0 : Math.floorMod(c[i % c.length] + i / c.length, 1 << 20); }

    /** A rule from 8 codes; may be rejected by validation (the caller skips it). */
    static SgRule rule(String id, int[] c, int o, int groups) {
        Direction dir = at(c, o) % 2 == 0 ? Direction.INGRESS : Direction.EGRESS;
        int fam = at(c, o + 1) % 3;
        IpFamily f = fam == 0 ? null : fam == 1 ? IpFamily.V4 : IpFamily.V6;
        int proto = PROTOS[at(c, o + 2) % PROTOS.length];
        int pmin = 0, pmax = 0, type = -1, code = -1;
        if (Protocols.hasPorts(proto) && at(c, o + 3) % 3 != 0) {
            pmin = PORTS[at(c, o + 4) % PORTS.length];
            pmax = at(c, o + 3) % 3 == 1 ? pmin : Math.max(pmin, PORTS[at(c, o + 5) % PORTS.length]);
        }
        if (Protocols.isIcmp(proto) && at(c, o + 3) % 3 != 0) {
            type = at(c, o + 4) % 4;
            code = at(c, o + 3) % 3 == 1 ? -1 : at(c, o + 5) % 3;
        }
        IpPrefix cidr = null;
        String rg = null;
        int remote = at(c, o + 6) % 4;
        IpFamily cf = f != null ? f : (at(c, o + 7) % 2 == 0 ? IpFamily.V4 : IpFamily.V6);
        if (remote == 1) cidr = IpPrefix.parse((cf == IpFamily.V4 ? V4_CIDRS : V6_CIDRS)[at(c, o + 7) / 2 % V4_CIDRS.length]);
        else if (remote == 2) rg = "g" + at(c, o + 7) % groups;
        if (proto == Protocols.ICMP && f == null && cidr == null) f = IpFamily.V4;
        if (proto == Protocols.ICMPV6 && f == null && cidr == null) f = IpFamily.V6;
        return new SgRule(id, dir, f, proto, pmin, pmax, type, code, cidr, rg);
    }

    /** A configuration: g0 = default group, g1..g2 random; vm0..vm3 with random addresses and groups. */
    static CloudConfig config(int[] c) {
        int groups = 3;
        Map<String, SecurityGroup> gs = new HashMap<>();
        gs.put("g0", SecurityGroup.defaultGroup("g0"));
        int o = 0;
        for (int g = 1; g < groups; g++) {
            List<SgRule> rules = new ArrayList<>();
            int n = at(c, o++) % 7;
            for (int i = 0; i < n; i++, o += 8) {
                try {
                    rules.add(rule("g" + g + "/r" + i, c, o, groups));
                } catch (IllegalArgumentException e) {
                    // an invalid combination: skip it
                }
            }
            gs.put("g" + g, new SecurityGroup("g" + g, rules));
        }
        Map<String, VmInterface> vms = new HashMap<>();
        for (int v = 0; v < 4; v++) {
            List<IpPrefix> addrs = new ArrayList<>();
            addrs.add(IpPrefix.parse(V4_HOSTS[at(c, o++) % V4_HOSTS.length]));
            if (at(c, o++) % 3 != 0) addrs.add(IpPrefix.parse(V6_HOSTS[at(c, o++) % V6_HOSTS.length]));
            List<String> gl = new ArrayList<>();
            int mask = at(c, o++) % 8;
            for (int g = 0; g < groups; g++) if ((mask >> g & 1) != 0) gl.add("g" + g);
            vms.put("vm" + v, new VmInterface("vm" + v, addrs, gl));
        }
        PlatformLayer pl = PlatformLayer.defaults();
        if (at(c, o) % 2 == 1) pl = pl.withExemption("platform/smtp-25", "vm1");
        return new CloudConfig(gs, vms, pl);
    }

    /** A packet field set: remote address (from the pools), protocol, sport, dport. */
    static long[] packet(int[] c, int o, IpFamily f) {
        String[] hosts = f == IpFamily.V4 ? V4_HOSTS : V6_HOSTS;
        String[] cidrs = f == IpFamily.V4 ? V4_CIDRS : V6_CIDRS;
        int k = at(c, o) % 4;
        IpPrefix p = IpPrefix.parse(k == 0 ? cidrs[at(c, o + 1) % cidrs.length] : hosts[at(c, o + 1) % hosts.length]);
        long hi = p.hi(), lo = p.lo();
        if (k == 0) { // the last address of the prefix
            long[] w = {p.wordRange(0)[1], 0, 0, 0};
            if (f == IpFamily.V4) lo = w[0];
            else {
                hi = (p.wordRange(0)[1] << 32) | p.wordRange(1)[1];
                lo = (p.wordRange(2)[1] << 32) | p.wordRange(3)[1];
            }
        } else if (k == 3) { // one past a host
            if (f == IpFamily.V4) lo = (lo + 1) & 0xFFFFFFFFL; else { lo++; if (lo == 0) hi++; }
        }
        int proto = new int[] {6, 17, 1, 58, 47, 0, 255}[at(c, o + 2) % 7];
        int sport = at(c, o + 3) % 5;
        int dport = new int[] {0, 1, 22, 25, 80, 443, 465, 587, 1024, 65535, 2, 23}[at(c, o + 4) % 12];
        return new long[] {hi, lo, proto, sport, dport};
    }
}
