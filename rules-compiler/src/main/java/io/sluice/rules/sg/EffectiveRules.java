package io.sluice.rules.sg;

import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.Protocols;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import io.sluice.rules.model.VmInterface;
import io.sluice.rules.model.RuleValidationException;

import java.util.ArrayList;
import java.util.List;

/**
 * Expands an interface's rules for one direction and family into an ordered {@link FlatRules}
 * list: the platform denies that apply to it, then its groups' allows in group order, each
 * remote group expanded to one rule per member address. Key layout: IPv4
 * {@code [src, dst, sport, dport, proto]}, IPv6 {@code [src x4, dst x4, sport, dport, proto]};
 * the remote prefix goes on the source side for ingress and the destination side for egress;
 * ICMP type/code use the sport/dport dimensions.
 *
 * @param rules the flat rules
 * @param names rule id per position
 */
public record EffectiveRules(FlatRules rules, List<String> names) {

    /** Builds the list for {@code iface} in {@code cfg}. */
    public static EffectiveRules of(CloudConfig cfg, String iface, Direction dir, IpFamily f) {
        VmInterface vm = cfg.interfaces().get(iface);
        if (vm == null) throw new RuleValidationException("interface", "unknown interface " + iface);
        boolean v4 = f == IpFamily.V4;
        FlatRules.Builder b = FlatRules.builder(v4 ? FlatRules.v4Dims() : FlatRules.v6Dims(), v4 ? FlatRules.v4PartitionDims() : FlatRules.v6PartitionDims());
        List<String> names = new ArrayList<>();
        for (SgRule r : cfg.platform().denies()) {
            if (r.direction() == dir && r.appliesTo(f) && cfg.platform().applies(r, iface)) add(b, names, r, r.remoteCidr(), dir, f, FlatRules.DENY);
        }
        for (String gid : vm.groups()) {
            SecurityGroup g = cfg.groups().get(gid);
            if (g == null) throw new RuleValidationException("groups", "interface " + iface + " names unknown group " + gid);
            for (SgRule r : g.rules()) {
                if (r.direction() != dir || !r.appliesTo(f)) continue;
                if (r.remoteGroup() != null) {
                    if (!cfg.groups().containsKey(r.remoteGroup())) throw new RuleValidationException("remoteGroup", "unknown group " + r.remoteGroup() + " in rule " + r.id());
                    for (IpPrefix m : cfg.members(r.remoteGroup(), f)) add(b, names, r, m, dir, f, FlatRules.ALLOW);
                } else {
                    add(b, names, r, r.remoteCidr(), dir, f, FlatRules.ALLOW);
                }
            }
        }
        return new EffectiveRules(b.build(), List.copyOf(names));
    }

    private static void add(FlatRules.Builder b, List<String> names, SgRule r, IpPrefix remote, Direction dir, IpFamily f, byte action) {
        int words = f == IpFamily.V4 ? 1 : 4;
        int dims = 2 * words + 3;
        int[] lo = new int[dims], hi = new int[dims];
        int remoteBase = dir == Direction.INGRESS ? 0 : words;
        int localBase = dir == Direction.INGRESS ? words : 0;
        IpPrefix rp = remote == null ? IpPrefix.any(f) : remote;
        for (int w = 0; w < words; w++) {
            long[] x = rp.wordRange(w);
            lo[remoteBase + w] = (int) x[0];
            hi[remoteBase + w] = (int) x[1];
            lo[localBase + w] = 0;
            hi[localBase + w] = -1;
        }
        int sp = 2 * words, dp = sp + 1, pr = sp + 2;
        lo[sp] = 0; hi[sp] = 65535;
        lo[dp] = 0; hi[dp] = 65535;
        if (Protocols.hasPorts(r.protocol()) && (r.portMin() != 0 || r.portMax() != 0)) {
            lo[dp] = r.portMin(); hi[dp] = r.portMax();
        } else if (Protocols.isIcmp(r.protocol()) && r.icmpType() >= 0) {
            lo[sp] = r.icmpType(); hi[sp] = r.icmpType();
            if (r.icmpCode() >= 0) { lo[dp] = r.icmpCode(); hi[dp] = r.icmpCode(); }
        }
        if (r.protocol() == Protocols.ANY) { lo[pr] = 0; hi[pr] = 255; } else { lo[pr] = r.protocol(); hi[pr] = r.protocol(); }
        b.add(lo, hi, action, names.size());
        names.add(r.id());
    }
}
