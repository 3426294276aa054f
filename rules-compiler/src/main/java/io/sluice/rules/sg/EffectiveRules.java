package io.sluice.rules.sg;

import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.Protocols;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import io.sluice.rules.model.VmInterface;
import io.sluice.rules.model.RuleValidationException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

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
        int guess = cfg.platform().denies().size(); // the rules of this direction and family: room for them at once
        for (String gid : vm.groups()) {
            SecurityGroup g = cfg.groups().get(gid);
            if (g == null) continue;
            for (SgRule r : g.rules()) if (r.direction() == dir && r.appliesTo(f)) guess++;
        }
        FlatRules.Builder b = FlatRules.builder(v4 ? FlatRules.v4Dims() : FlatRules.v6Dims(), v4 ? FlatRules.v4PartitionDims() : FlatRules.v6PartitionDims(), guess);
        List<String> names = new ArrayList<>(guess);
        int dims = v4 ? 5 : 11;
        int[] lo = new int[dims], hi = new int[dims]; // scratch: the builder copies them
        for (SgRule r : cfg.platform().denies()) {
            if (r.direction() == dir && r.appliesTo(f) && cfg.platform().applies(r, iface)) add(b, names, lo, hi, r, r.remoteCidr(), dir, f, FlatRules.DENY);
        }
        for (String gid : vm.groups()) {
            SecurityGroup g = cfg.groups().get(gid);
            if (g == null) throw new RuleValidationException("groups", "interface " + iface + " names unknown group " + gid);
            for (SgRule r : g.rules()) {
                if (r.direction() != dir || !r.appliesTo(f)) continue;
                if (r.remoteGroup() != null) {
                    if (!cfg.groups().containsKey(r.remoteGroup())) throw new RuleValidationException("remoteGroup", "unknown group " + r.remoteGroup() + " in rule " + r.id());
                    for (IpPrefix m : cfg.members(r.remoteGroup(), f)) add(b, names, lo, hi, r, m, dir, f, FlatRules.ALLOW);
                } else {
                    add(b, names, lo, hi, r, r.remoteCidr(), dir, f, FlatRules.ALLOW);
                }
            }
        }
        return new EffectiveRules(b.build(), java.util.Collections.unmodifiableList(names)); // no one else holds names
    }

    /**
     * Checks what {@link #of} checks (the interface, its groups and the remote groups their rules
     * name exist), in the same order and with the same exception, without building the list.
     *
     * @throws RuleValidationException exactly when {@link #of} throws it, with the same field and reason
     */
    public static void check(CloudConfig cfg, String iface, Direction dir, IpFamily f) {
        VmInterface vm = cfg.interfaces().get(iface);
        if (vm == null) throw new RuleValidationException("interface", "unknown interface " + iface);
        for (String gid : vm.groups()) {
            SecurityGroup g = cfg.groups().get(gid);
            if (g == null) throw new RuleValidationException("groups", "interface " + iface + " names unknown group " + gid);
            for (SgRule r : g.rules()) {
                if (r.remoteGroup() == null || r.direction() != dir || !r.appliesTo(f)) continue;
                if (!cfg.groups().containsKey(r.remoteGroup())) throw new RuleValidationException("remoteGroup", "unknown group " + r.remoteGroup() + " in rule " + r.id());
            }
        }
    }

    /**
     * {@link #of} remembered per (interface, direction, family): a list is expanded again only when
     * what it is made of changed, i.e. the platform layer, the interface's group list, one of those
     * groups (a new {@link SecurityGroup} value: groups are immutable, so the same object is the same
     * rules) or the members of a remote group their rules name. Otherwise the same
     * {@link EffectiveRules} object comes back (callers may compare by identity). One thread.
     */
    public static final class Cache {
        private record Key(String iface, Direction dir, IpFamily f) {}

        private record Entry(PlatformLayer platform, List<String> groupIds, SecurityGroup[] groups, List<List<IpPrefix>> members,
                             EffectiveRules value) {}

        private final Map<Key, Entry> entries = new HashMap<>();
        /** Per group value: the remote groups its rules name, by direction and family (index dir * 2 + family). */
        private final Map<SecurityGroup, List<List<String>>> remotes = new IdentityHashMap<>();
        private int hits;
        private int misses;

        /** As {@link EffectiveRules#of}, the same object when nothing it depends on changed. */
        public EffectiveRules of(CloudConfig cfg, String iface, Direction dir, IpFamily f) {
            VmInterface vm = cfg.interfaces().get(iface);
            Key k = new Key(iface, dir, f);
            Entry e = entries.get(k);
            if (vm == null) {
                entries.remove(k);
                return EffectiveRules.of(cfg, iface, dir, f); // throws
            }
            SecurityGroup[] gs = new SecurityGroup[vm.groups().size()];
            List<List<IpPrefix>> members = new ArrayList<>();
            for (int i = 0; i < gs.length; i++) {
                gs[i] = cfg.groups().get(vm.groups().get(i));
                if (gs[i] == null) {
                    entries.remove(k);
                    return EffectiveRules.of(cfg, iface, dir, f); // throws
                }
                for (String rg : remotes(gs[i]).get(dir.ordinal() * 2 + f.ordinal())) {
                    if (!cfg.groups().containsKey(rg)) {
                        entries.remove(k);
                        return EffectiveRules.of(cfg, iface, dir, f); // throws
                    }
                    members.add(cfg.members(rg, f));
                }
            }
            if (e != null && (e.platform == cfg.platform() || e.platform.equals(cfg.platform())) && e.groupIds.equals(vm.groups())
                    && sameObjects(e.groups, gs) && e.members.equals(members)) {
                hits++;
                return e.value;
            }
            misses++;
            EffectiveRules v = EffectiveRules.of(cfg, iface, dir, f);
            entries.put(k, new Entry(cfg.platform(), vm.groups(), gs, members, v));
            return v;
        }

        /** Forgets what is not in {@code cfg} any more (interfaces and group values). */
        public void retain(CloudConfig cfg) {
            entries.keySet().removeIf(k -> !cfg.interfaces().containsKey(k.iface()));
            java.util.Set<SecurityGroup> live = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
            live.addAll(cfg.groups().values());
            remotes.keySet().retainAll(live);
        }

        /** Lists served from the cache since this object was made. */
        public int hits() { return hits; }

        /** Lists expanded since this object was made. */
        public int misses() { return misses; }

        private List<List<String>> remotes(SecurityGroup g) {
            List<List<String>> r = remotes.get(g);
            if (r != null) return r;
            List<List<String>> out = new ArrayList<>(4);
            for (Direction d : Direction.values()) {
                for (IpFamily f : IpFamily.values()) {
                    java.util.Set<String> names = new java.util.LinkedHashSet<>();
                    for (SgRule rule : g.rules()) {
                        if (rule.remoteGroup() != null && rule.direction() == d && rule.appliesTo(f)) names.add(rule.remoteGroup());
                    }
                    out.add(List.copyOf(names));
                }
            }
            remotes.put(g, out);
            return out;
        }

        private static boolean sameObjects(Object[] a, Object[] b) {
            if (a.length != b.length) return false;
            for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
            return true;
        }
    }

    private static void add(FlatRules.Builder b, List<String> names, int[] lo, int[] hi, SgRule r, IpPrefix remote, Direction dir, IpFamily f, byte action) {
        int words = f == IpFamily.V4 ? 1 : 4;
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
